"""A study driven by a server that answers every task with schema-valid nonsense (random
words in every field, patterns honoured): every phase finishes, and the paper says plainly,
in aisci's words, what came of it."""

from __future__ import annotations

import json

from aisci.cli import main
from tests.nonsense_llm import nonsense_responder
from tests.study_helpers import init_study, set_config


def test_schema_valid_nonsense_study_finishes_and_says_what_happened(tmp_path, toy_template, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(nonsense_responder(seed=3))
    study = init_study(tmp_path / "s", toy_template, "--llm", f"openai:nonsense-model@{fake_llm.base_url}",
                       "--small")
    set_config(study, "literature", sources=[])
    assert main(["run", str(study), "--quiet"]) == 0
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    paper = (study / "paper" / "paper.md").read_text()
    outcome = paper.split("**Outcome, stated by aisci from the records.**", 1)
    assert len(outcome) == 2, "the paper must state the outcome in aisci's own words"
    ideas = [n for n in summary["nodes"] if n["idea"] != "baseline"]
    statement = outcome[1].split("\n", 1)[0]
    if not ideas:
        assert statement.strip().startswith("No idea was implemented")
    else:
        assert all(n["status"] != "done" for n in ideas) or "No run beat the baseline" in statement
        for node in ideas:  # never a half-written record
            assert node["notebook"] and (study / node["notebook"]).exists()
            assert node["status"] == "done" or node["failure"]
    assert (study / "reviews" / "meta-review.json").exists()
