"""The template contract: each broken piece of a template gets one clear message.

Every case copies the toy fixture into tmp_path, breaks one thing, and checks that the
validator reports exactly that problem (and nothing else)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from aisci.cli import main
from aisci.errors import TemplateError
from aisci.manifest import load_template, template_problems
from tests.conftest import TOY_TEMPLATE


def toy_copy(tmp_path: Path) -> Path:
    root = tmp_path / "tpl"
    shutil.copytree(TOY_TEMPLATE, root)
    return root


def edit_manifest(root: Path, old: str, new: str) -> None:
    path = root / "manifest.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def edit_baseline(root: Path, change) -> None:
    path = root / "baseline.ipynb"
    nb = nbformat.read(str(path), 4)
    change(nb)
    nbformat.write(nb, str(path))


def parameters_cell(nb):
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


def code_cell(nb):
    return next(c for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))


def set_params_source(source: str):
    def change(nb):
        parameters_cell(nb).source = source
    return change


def untag_parameters(nb):
    parameters_cell(nb).metadata["tags"] = []


def drop_final_a_record(nb):
    cell = code_cell(nb)
    cell.source = cell.source.replace('aisci.record("final_a", a)', "")


def break_syntax(nb):
    code_cell(nb).source += "\nfor x in"


def remove_manifest(root):
    (root / "manifest.toml").unlink()


def remove_baseline(root):
    (root / "baseline.ipynb").unlink()


def garble_baseline(root):
    (root / "baseline.ipynb").write_text("{not json")


CASES = {
    "no manifest": (remove_manifest, "no manifest.toml"),
    "manifest not TOML": (lambda r: edit_manifest(r, 'name = "toy"', 'name = "toy'), "not valid TOML"),
    "missing title": (lambda r: edit_manifest(r, 'title = "Toy quadratic fit"\n', ""),
                      "missing title (the template's title, one line)"),
    "missing description": (lambda r: edit_manifest(r, 'description = """Fit y = a*x^2 with noisy gradient descent; '
                                                       'a fast, dependency-free template for tests."""\n', ""),
                            "missing description"),
    "missing time budget": (lambda r: edit_manifest(r, "time_budget_s = 10\n", ""), "missing time_budget_s"),
    "time budget not positive": (lambda r: edit_manifest(r, "time_budget_s = 10", "time_budget_s = 0"),
                                 "time_budget_s: Input should be greater than 0 (got 0)"),
    "no seeds": (lambda r: edit_manifest(r, "seeds = [0, 1, 2]", "seeds = []"), "seeds: List should have at least 1"),
    "metric direction wrong": (lambda r: edit_manifest(r, 'direction = "minimize"', 'direction = "lower"'),
                               "metrics.final_loss.direction: Input should be 'maximize' or 'minimize' (got 'lower')"),
    "metric without direction": (lambda r: edit_manifest(r, 'direction = "minimize"\n', ""),
                                 "missing metrics.final_loss.direction"),
    "primary metric undeclared": (lambda r: edit_manifest(r, 'primary_metric = "final_loss"',
                                                          'primary_metric = "accuracy"'),
                                  "primary_metric 'accuracy' is not among [metrics] (final_loss, final_a)"),
    "metric name not a record name": (lambda r: edit_manifest(r, "[metrics.final_a]", '[metrics."final-a"]'),
                                      "metrics.final-a: a metric name must be letters, digits and underscores"),
    "parameter type unknown": (lambda r: edit_manifest(r, 'type = "int"', 'type = "integer"'),
                               "parameters.steps.type: Input should be"),
    "parameter default of the wrong type": (lambda r: edit_manifest(r, "default = 20", 'default = "twenty"'),
                                            "parameters.steps.default: 'twenty' is not an int"),
    "parameter choice of the wrong type": (lambda r: edit_manifest(r, "choices = [10, 20]", "choices = [10, 2.5]"),
                                           "parameters.steps.choices: 2.5 is not an int"),
    "default outside its choices": (lambda r: edit_manifest(r, "choices = [0.01, 0.1, 0.3]", "choices = [0.01, 0.3]"),
                                    "parameters.lr.default: 0.1 is not among its choices (0.01, 0.3)"),
    "no parameters": (lambda r: (r / "manifest.toml").write_text(
        (r / "manifest.toml").read_text().split("[parameters.lr]")[0]), "missing parameters"),
    "misspelt key": (lambda r: edit_manifest(r, 'description = "learning rate"', 'descripton = "learning rate"'),
                     "parameters.lr.descripton: unknown key"),
    "data splits without the overlap record": (
        lambda r: (r / "manifest.toml").write_text((r / "manifest.toml").read_text() + '\n[data]\nsplits = ["train", "test"]\n'),
        "[data] declares splits but the baseline never records 'train_test_overlap'"),
    "seed parameter undeclared": (lambda r: edit_manifest(r, "seeds = [0, 1, 2]",
                                                          'seeds = [0, 1, 2]\nseed_parameter = "rng"'),
                                  "seed_parameter: 'rng' is not among [parameters]"),
    "baseline missing": (remove_baseline, "baseline notebook baseline.ipynb is missing"),
    "baseline unreadable": (garble_baseline, "not a readable notebook"),
    "no parameters cell": (lambda r: edit_baseline(r, untag_parameters), "no cell tagged 'parameters'"),
    "parameter not set": (lambda r: edit_baseline(r, set_params_source("lr = 0.1\nseed = 0\npause_s = 0.0")),
                          "the parameters cell does not set declared parameter 'steps' (add `steps = 20`)"),
    "parameter default disagrees": (lambda r: edit_baseline(r, set_params_source(
        "lr = 0.5\nsteps = 20\nseed = 0\npause_s = 0.0")),
        "the parameters cell sets lr = 0.5 but the manifest's default is 0.1"),
    "parameter undeclared": (lambda r: edit_baseline(r, set_params_source(
        "lr = 0.1\nsteps = 20\nseed = 0\npause_s = 0.0\nmomentum = 0.9")),
        "the parameters cell sets 'momentum', which the manifest does not declare"),
    "parameters cell not Python": (lambda r: edit_baseline(r, set_params_source("lr = = 0.1")),
                                   "the parameters cell is not valid Python"),
    "metric never recorded": (lambda r: edit_baseline(r, drop_final_a_record),
                              "the baseline never records declared metric 'final_a'"),
    "code cell not Python": (lambda r: edit_baseline(r, break_syntax), "code cell 2 is not valid Python"),
    "seed idea with an undeclared parameter": (
        lambda r: (r / "seed_ideas.json").write_text(json.dumps(
            [{"name": "x", "title": "X", "hypothesis": "h", "parameters": {"momentum": 0.9}}])),
        "seed_ideas.json: idea 1: sets 'momentum', which is not a declared parameter"),
    "seed ideas not JSON": (lambda r: (r / "seed_ideas.json").write_text("[{"), "seed_ideas.json: not valid JSON"),
}


def test_the_toy_template_is_valid():
    assert template_problems(TOY_TEMPLATE) == []


@pytest.mark.parametrize("case", list(CASES))
def test_each_broken_piece_gets_one_clear_message(tmp_path, case):
    breaker, expected = CASES[case]
    root = toy_copy(tmp_path)
    breaker(root)
    problems = template_problems(root)
    assert len(problems) == 1, problems
    assert expected in problems[0], problems[0]
    assert "\n" not in problems[0]


def test_several_problems_are_all_listed(tmp_path):
    root = toy_copy(tmp_path)
    edit_manifest(root, 'direction = "minimize"', 'direction = "down"')
    edit_manifest(root, 'title = "Toy quadratic fit"\n', "")
    problems = template_problems(root)
    assert len(problems) == 2
    assert any("missing title" in p for p in problems) and any("direction" in p for p in problems)


def test_load_template_names_the_first_problem_and_the_command(tmp_path):
    root = toy_copy(tmp_path)
    edit_baseline(root, drop_final_a_record)
    edit_baseline(root, untag_parameters)
    with pytest.raises(TemplateError, match=r"no cell tagged 'parameters'.*and 1 more; run `aisci templates validate"):
        load_template(root)


def test_a_computed_record_name_defers_to_a_run(tmp_path):
    root = toy_copy(tmp_path)

    def computed(nb):
        cell = code_cell(nb)
        cell.source = cell.source.replace('aisci.record("final_a", a)', 'aisci.record("final_" + "b", a)')
    edit_baseline(root, computed)
    assert template_problems(root) == []  # the name is computed: static checks cannot tell


def test_validate_command(tmp_path, capsys):
    assert main(["templates", "validate", str(TOY_TEMPLATE)]) == 0
    assert "valid" in capsys.readouterr().out
    root = toy_copy(tmp_path)
    edit_manifest(root, 'direction = "minimize"', 'direction = "lower"')
    assert main(["templates", "validate", str(root)]) == 2
    captured = capsys.readouterr()
    assert "metrics.final_loss.direction" in captured.out
    assert "1 problem(s)" in captured.err and "Traceback" not in captured.err


def test_validate_run_executes_the_baseline(tmp_path, capsys):
    assert main(["templates", "validate", str(TOY_TEMPLATE), "--run"]) == 0
    assert "recorded every declared metric" in capsys.readouterr().out
    # A computed name that is not the declared one passes the static check, and the run catches it.
    root = toy_copy(tmp_path)

    def computed(nb):
        cell = code_cell(nb)
        cell.source = cell.source.replace('aisci.record("final_a", a)', 'aisci.record("final_" + "b", a)')
    edit_baseline(root, computed)
    assert main(["templates", "validate", str(root), "--run"]) == 2
    assert "the baseline run did not record declared metric 'final_a'" in capsys.readouterr().out


def test_validate_run_reports_a_failing_baseline(tmp_path, capsys):
    root = toy_copy(tmp_path)

    def crash(nb):
        code_cell(nb).source += "\nraise RuntimeError('boom')"
    edit_baseline(root, crash)
    assert main(["templates", "validate", str(root), "--run"]) == 2
    assert "the baseline run failed in cell 2 (`import time`): RuntimeError: boom" in capsys.readouterr().out


def test_init_refuses_a_broken_template_and_writes_nothing(tmp_path, capsys):
    root = toy_copy(tmp_path)
    edit_manifest(root, 'primary_metric = "final_loss"', 'primary_metric = "accuracy"')
    study = tmp_path / "study"
    assert main(["init", str(study), "--template", str(root), "--topic", "a toy topic"]) == 2
    assert "primary_metric 'accuracy' is not among [metrics]" in capsys.readouterr().err
    assert not study.exists()


@pytest.mark.parametrize("template,limit", [("grokking", 900), ("2d_diffusion", 1350), (str(TOY_TEMPLATE), 300)])
def test_a_new_study_limits_each_node_to_a_multiple_of_the_templates_budget(tmp_path, template, limit):
    from aisci.cli import main
    from aisci.config import load_config

    assert main(["init", str(tmp_path / "s"), "--template", template, "--topic", "node time limits"]) == 0
    assert load_config(tmp_path / "s").experiments.timeout_s == limit


def test_validate_warns_of_a_seed_idea_ideation_would_drop(tmp_path, capsys):
    root = toy_copy(tmp_path)
    (root / "seed_ideas.json").write_text(json.dumps(
        [{"name": "long_run", "title": "Four times the steps", "hypothesis": "h", "parameters": {"steps": 80}}]))
    assert template_problems(root) == []  # still a usable template
    assert main(["templates", "validate", str(root)]) == 0
    out = capsys.readouterr().out
    assert ("warning: " in out and "idea 1 (long_run): estimated compute 4x the baseline's, over the 2x a feasible "
            "idea may use: ideation will drop it" in out)
    assert out.strip().endswith("valid, with 1 warning(s)")
