"""The CLI starts fast: building the parser and `aisci --help` load no heavy module (see
also test_study_offline: status, tree, calls, approve and a no-op run of a finished study)."""

from __future__ import annotations

from aisci.commands import review_bench
from aisci.review.bench import MISSING_POLICIES
from tests.cli_imports import PARSER_HEAVY, heavy_modules_loaded


def test_help_loads_no_heavy_module():
    code, loaded = heavy_modules_loaded(["--help"], PARSER_HEAVY)
    assert code == 0 and loaded == []


def test_every_subcommand_help_loads_no_heavy_module():
    for command in ("run", "status", "review", "review-bench", "lit", "templates", "init", "list", "paper"):
        code, loaded = heavy_modules_loaded([command, "--help"], PARSER_HEAVY)
        assert code == 0 and loaded == [], command


def test_the_parser_names_the_personas_the_reviewers_know():
    from aisci.commands.review import PERSONAS
    from aisci.review import instructions

    assert PERSONAS == instructions.PERSONAS and {"lenient", "neutral", "strict"} <= set(PERSONAS)


def test_review_bench_parser_offers_the_policies_the_bench_knows():
    assert review_bench.MISSING_POLICIES == MISSING_POLICIES
