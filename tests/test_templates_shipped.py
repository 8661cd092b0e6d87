"""The templates shipped with aisci (grokking, 2d_diffusion): valid against the contract,
seed ideas that use declared choices, notebooks in step with their generator scripts, and
baselines that run end to end (tiny step counts) recording every declared metric,
writing history.csv and a figure, and giving the same numbers twice for the same seed.
The example template written out in docs/templates.md is checked the same way."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from aisci.records import read_records
from aisci.manifest import (
    TEMPLATES_DIR,
    available_templates,
    load_template,
    template_problems,
)

SHIPPED = ["grokking", "2d_diffusion"]
# Parameters that shrink each baseline to a few seconds of compute.
SMOKE = {
    "grokking": {"num_steps": 20},
    "2d_diffusion": {"num_train_steps": 20, "num_timesteps": 10},
}
FIGURE = {"grokking": "grokking_curve.png", "2d_diffusion": "diffusion_samples.png"}
TIMING_RECORDS = {"train_seconds", "sample_seconds"}  # wall times differ between runs
DOC = Path(__file__).parent.parent / "docs" / "templates.md"


def run_baseline(name: str, workdir: Path, parameters: dict) -> dict:
    """Execute the template's baseline in workdir; the records by name."""
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / "executed.ipynb"
    papermill.execute_notebook(str(load_template(name).baseline_path), str(output), parameters=parameters,
                               cwd=str(workdir), kernel_name="python3", progress_bar=False)
    return {r.name: r.value for r in read_records(output)}


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    runs = {}
    for name in SHIPPED:
        workdir = tmp_path_factory.mktemp(name)
        runs[name] = (workdir, run_baseline(name, workdir, SMOKE[name]))
    return runs


def test_both_templates_ship():
    assert set(SHIPPED) <= set(available_templates())


@pytest.mark.parametrize("name", SHIPPED)
def test_template_is_valid_and_loads(name):
    assert template_problems(TEMPLATES_DIR / name) == []
    template = load_template(name)
    assert template.name == name
    assert template.manifest.seed_parameter in template.manifest.parameters
    assert len(template.manifest.seeds) >= 2


@pytest.mark.parametrize("name", SHIPPED)
def test_every_default_is_among_its_choices(name):
    for param_name, param in load_template(name).manifest.parameters.items():
        assert param.default in param.choices, f"{name}: {param_name} default {param.default!r} not in choices"


@pytest.mark.parametrize("name", SHIPPED)
def test_seed_ideas_set_valid_choices(name):
    template = load_template(name)
    ideas = template.seed_ideas()
    assert 2 <= len(ideas) <= 3
    assert len({i["name"] for i in ideas}) == len(ideas)
    for idea in ideas:
        assert re.fullmatch(r"[a-z][a-z0-9_]{1,60}", idea["name"])
        assert idea["title"] and idea["hypothesis"] and idea["parameters"]
        assert template.manifest.primary_metric in idea["hypothesis"]
        for param_name, value in idea["parameters"].items():
            param = template.manifest.parameters[param_name]
            assert param.accepts(value) and value in param.choices, f"{idea['name']}: {param_name}={value!r}"
            assert value != param.default, f"{idea['name']}: {param_name} is already {value!r} in the baseline"


@pytest.mark.parametrize("name", SHIPPED)
def test_notebook_is_what_its_generator_writes(name):
    """baseline.ipynb is generated; an edit to one without the other is caught here."""
    spec = importlib.util.spec_from_file_location(f"build_{name}", TEMPLATES_DIR / name / "_build_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    on_disk = nbformat.read(str(TEMPLATES_DIR / name / "baseline.ipynb"), as_version=4)
    assert nbformat.writes(module.build()) == nbformat.writes(on_disk)


@pytest.mark.parametrize("name", SHIPPED)
def test_baseline_records_every_metric_and_writes_history(name, smoke_runs):
    workdir, records = smoke_runs[name]
    manifest = load_template(name).manifest
    for metric in manifest.metrics:
        assert isinstance(records.get(metric), (int, float)), f"{name}: {metric} = {records.get(metric)!r}"
    history = pd.read_csv(workdir / "history.csv")
    assert history.columns[0] == "step" and {"train_loss", "val_loss"} <= set(history.columns)
    assert len(history) >= 2 and history.step.is_monotonic_increasing
    assert (workdir / FIGURE[name]).stat().st_size > 1000


def test_grokking_counts_all_steps_when_validation_never_reaches_99(smoke_runs):
    _, records = smoke_runs["grokking"]
    steps = SMOKE["grokking"]["num_steps"]
    assert records["final_val_acc"] < 0.99  # 20 steps are far too few to generalize
    assert records["steps_to_val_acc_99"] == steps and records["reached_val_acc_99"] == 0


@pytest.mark.parametrize("name", SHIPPED)
def test_baseline_is_deterministic_for_a_seed(name, smoke_runs, tmp_path):
    _, first = smoke_runs[name]
    again = run_baseline(name, tmp_path, SMOKE[name])
    same = {k: v for k, v in first.items() if k not in TIMING_RECORDS}
    assert same == {k: v for k, v in again.items() if k not in TIMING_RECORDS}


def doc_example(tmp_path: Path) -> Path:
    """The example template of docs/templates.md, written out from its code blocks."""
    text = DOC.read_text(encoding="utf-8")
    root = tmp_path / "line_fit"
    root.mkdir()
    for filename in ("manifest.toml", "baseline.ipynb", "seed_ideas.json"):
        block = re.search(rf"<!-- example: {re.escape(filename)} -->\s*```\w*\n(.*?)```", text, re.DOTALL)
        assert block, f"docs/templates.md has no example {filename}"
        (root / filename).write_text(block.group(1), encoding="utf-8")
    return root


def test_doc_example_template_is_valid_and_runs(tmp_path):
    root = doc_example(tmp_path)
    assert template_problems(root) == []
    template = load_template(root)
    json.loads((root / "seed_ideas.json").read_text())
    workdir = tmp_path / "run"
    workdir.mkdir()
    output = workdir / "executed.ipynb"
    papermill.execute_notebook(str(template.baseline_path), str(output), cwd=str(workdir),
                               kernel_name="python3", progress_bar=False)
    records = {r.name: r.value for r in read_records(output)}
    assert set(template.manifest.metrics) <= set(records)
    assert (workdir / "history.csv").exists()


@pytest.mark.parametrize("name", SHIPPED)
def test_the_notebooks_own_account_of_its_steps_passes_the_papers_checks(name, tmp_path):
    """The offline Method section quotes the baseline's Markdown; typeset, it must not trip the
    attribution check (an author-year link read as a citation) or chktex."""
    from aisci.literature.attribution import check_text
    from aisci.paper import latex
    from aisci.paper.compile import chktex
    from aisci.paper.notebooks import outline

    steps = [latex.prose(step) for step in outline(load_template(name).baseline())]
    text = latex.itemize(steps)
    assert steps and check_text(text) == [], [issue.message for issue in check_text(text)]
    (tmp_path / "method.tex").write_text(text + "\n")
    assert [w.message for w in chktex(tmp_path / "method.tex")] == []
