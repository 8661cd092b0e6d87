"""The tree search on the offline engine, on a toy template with a wider parameter space:
the staged search makes draft, hyperparameter, improve, ablation and replica nodes; a
person's edits become `human` nodes (one that works gets an improvement as its child, one
that fails a debug node); the best node follows the declared direction; `aisci tree`."""

from __future__ import annotations

import json
import shutil
import statistics
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from aisci.cli import main
from aisci.records import read_records
from tests.conftest import TOY_TEMPLATE
from tests.study_helpers import copy_study, executed_notebooks, init_study, set_config

pytestmark = pytest.mark.slow  # two short searches on the toy template: about a minute


def wide_toy(root: Path) -> Path:
    """The toy template with more declared choices, so every kind of move has room."""
    shutil.copytree(TOY_TEMPLATE, root)
    manifest = root / "manifest.toml"
    text = manifest.read_text().replace("choices = [0.01, 0.1, 0.3]", "choices = [0.01, 0.03, 0.1, 0.3]")
    manifest.write_text(text.replace("choices = [10, 20]", "choices = [5, 10, 20]"))
    return root


def nodes_of(study: Path, idea: str) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((study / "experiments" / idea).glob("node-*/node.json"))}


def params_cell(nb):
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))


def training_cell(nb):
    return next(c for c in nb.cells if c.cell_type == "code" and "aisci.record" in c.source)


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    base = tmp_path_factory.mktemp("tree")
    study = init_study(base / "s", wide_toy(base / "tpl"))
    set_config(study, "ideation", num_ideas=1, select=1)
    set_config(study, "search", staged=True, nodes_per_stage=1, max_nodes=6, num_seeds=2)
    assert main(["run", str(study), "--quiet", "--until", "experiments"]) == 0
    return study


@pytest.fixture
def study_copy(searched, tmp_path):
    return copy_study(searched, tmp_path / "s")


def test_the_staged_search_makes_every_kind_of_node(searched):
    nodes = nodes_of(searched, "small_lr")
    kinds = {name: (n["kind"], n["stage"], n["status"]) for name, n in nodes.items()}
    assert kinds == {
        "node-0": ("draft", "implementation", "done"),
        "node-1": ("hyperparameter", "tuning", "done"),
        "node-2": ("improve", "research", "done"),
        "node-3": ("ablation", "ablation", "done"),
        "node-4": ("replica", kinds["node-4"][1], "done"),
        "node-5": ("replica", kinds["node-5"][1], "done"),
    }
    assert nodes["node-0"]["parameters"]["lr"] == 0.01 and nodes["node-0"]["parent"] == "baseline/node-0"
    assert nodes["node-1"]["changes"] == {"steps": 5}  # the first untried declared choice
    assert nodes["node-3"]["ablation"] == "without_lr" and nodes["node-3"]["parameters"]["lr"] == 0.1
    for node in nodes.values():
        assert node["author"] in ("offline-engine", "aisci") and node["code_hash"] and node["duration_s"] > 0
        assert node["task"] is None if node["kind"] == "replica" else node["task"]["author"] == "offline-engine"
        nb = nbformat.read(str(searched / node["notebook"]), 4)
        assert nb.cells[0].metadata["aisci"]["role"] == "node-header"
        if node["author"] == "offline-engine":
            assert "offline engine" in nb.cells[0].source and "model-free" in nb.cells[0].source


def test_each_stage_starts_from_the_best_node_so_far(searched):
    nodes = nodes_of(searched, "small_lr")
    loss = {f"small_lr/{name}": n["metrics"]["final_loss"] for name, n in nodes.items()}
    best_before_research = min(["small_lr/node-0", "small_lr/node-1"], key=loss.get)
    assert nodes["node-2"]["parent"] == best_before_research
    best_before_ablation = min(["small_lr/node-0", "small_lr/node-1", "small_lr/node-2"], key=loss.get)
    assert nodes["node-3"]["parent"] == best_before_ablation


def test_the_best_node_minimises_the_declared_metric(searched):
    summary = json.loads((searched / "experiments" / "summary.json").read_text())
    assert summary["direction"] == "minimize"
    candidates = [n for n in summary["nodes"] if n["idea"] == "small_lr" and n["kind"] not in ("ablation", "replica")]
    expected = min(candidates, key=lambda n: n["metrics"]["final_loss"])["id"]
    assert summary["best_per_idea"] == {"small_lr": expected}
    everything = [n for n in summary["nodes"] if n["kind"] not in ("ablation", "replica")]
    assert summary["best"] == min(everything, key=lambda n: n["metrics"]["final_loss"])["id"]
    assert summary["nodes"][0]["id"] == "baseline/node-0" and len(summary["nodes"]) == 7


def test_replicas_record_mean_and_standard_error(searched):
    summary = json.loads((searched / "experiments" / "summary.json").read_text())
    best = summary["best_per_idea"]["small_lr"]
    aggregate = summary["replicas"]["small_lr"]
    assert aggregate["seeds"] == [0, 1] and aggregate["num_seeds"] == 2
    replicas = [n for n in summary["nodes"] if n["kind"] == "replica"]
    assert {n["parent"] for n in replicas} == {best} and sorted(n["parameters"]["seed"] for n in replicas) == [0, 1]
    values = [n["metrics"]["final_loss"] for n in replicas]
    assert aggregate["metrics"]["final_loss"]["mean"] == pytest.approx(statistics.fmean(values))
    assert aggregate["metrics"]["final_loss"]["se"] == pytest.approx(statistics.stdev(values) / 2 ** 0.5)
    records = {r.name: r.value for r in read_records(searched / aggregate["notebook"])}
    assert records["final_loss_mean"] == pytest.approx(statistics.fmean(values)) and records["num_seeds"] == 2
    node = json.loads((searched / "experiments" / best.replace("/", "/", 1) / "node.json").read_text())
    assert node["replicas"]["metrics"]["final_loss"]["mean"] == pytest.approx(statistics.fmean(values))


def test_aisci_tree_prints_each_idea_with_the_best_marked(searched, capsys):
    assert main(["tree", str(searched)]) == 0
    out = capsys.readouterr().out
    best = json.loads((searched / "experiments" / "summary.json").read_text())["best_per_idea"]["small_lr"]
    lines = out.splitlines()
    assert "final_loss (minimize)" in lines[0]
    best_line = next(line for line in lines if f"{best.split('/')[1]} " in line and ("draft" in line or "improve" in line
                                                                                  or "hyperparameter" in line))
    assert best_line.rstrip().endswith("*") or " *  (" in best_line
    for kind in ("draft", "hyperparameter", "improve", "ablation", "replica", "baseline"):
        assert kind in out
    assert "2 seeds:" in out
    assert main(["tree", str(searched), "--idea", "nope"]) == 2


def test_human_edits_become_nodes_and_the_search_continues_from_them(study_copy):
    nodes = nodes_of(study_copy, "small_lr")
    best = json.loads((study_copy / "experiments" / "summary.json").read_text())["best_per_idea"]["small_lr"]
    best_name = best.split("/")[1]
    other = next(name for name, n in nodes.items() if n["kind"] == "hyperparameter")
    # A working edit of the best node's code (less noise) ...
    good_path = study_copy / "experiments" / "small_lr" / best_name / "experiment.ipynb"
    nb = nbformat.read(str(good_path), 4)
    training_cell(nb).source = training_cell(nb).source.replace("random.gauss(0, 0.05)", "random.gauss(0, 0.02)")
    nbformat.write(nb, str(good_path))
    # ... and a broken edit of another node.
    bad_path = study_copy / "experiments" / "small_lr" / other / "experiment.ipynb"
    nb = nbformat.read(str(bad_path), 4)
    training_cell(nb).source = "raise RuntimeError('a typo by a person')\n" + training_cell(nb).source
    nbformat.write(nb, str(bad_path))
    before = len(executed_notebooks(study_copy))

    assert main(["run", str(study_copy), "--quiet", "--until", "experiments"]) == 0
    after = nodes_of(study_copy, "small_lr")
    added = {name: after[name] for name in after if name not in nodes}
    humans = {n["parent"]: n for n in added.values() if n["kind"] == "human"}
    assert set(humans) == {best, f"small_lr/{other}"}
    good, bad = humans[best], humans[f"small_lr/{other}"]
    assert good["status"] == "done" and good["edited_from"] == best and good["author"] == "person"
    assert bad["status"] == "failed" and "a typo by a person" in bad["failure"]
    assert "raise RuntimeError" in bad["failed_cell_source"] and "RuntimeError" in bad["traceback_tail"]

    # the working human node is the parent of the next improvement ...
    improvement = next(n for n in added.values() if n["parent"] == good["id"])
    assert improvement["kind"] == "improve" and improvement["status"] == "done" and improvement["follows_human"]
    # ... and the failed one gets a debug node that reverts the person's change (the offline engine says so)
    debug = next(n for n in added.values() if n["parent"] == bad["id"])
    assert debug["kind"] == "debug" and debug["status"] == "done" and "reverts" in debug["rationale"]
    debug_nb = nbformat.read(str(study_copy / debug["notebook"]), 4)
    assert "a typo by a person" not in training_cell(debug_nb).source
    assert len(added) == 4

    # The edited notebooks are back as they ran; the edits live in the human nodes, marked as a person's.
    for path in (good_path, bad_path):
        from aisci.execution.build import code_hash
        assert code_hash(path) == json.loads((path.parent / "node.json").read_text())["code_hash"]
    human_nb = nbformat.read(str(study_copy / good["notebook"]), 4)
    assert training_cell(human_nb).metadata["aisci"]["author"] == "person" and "0.02" in training_cell(human_nb).source
    assert "Edited by a person" in human_nb.cells[0].source
    ran = executed_notebooks(study_copy)[before:]
    assert Counter(ran) == Counter(n["notebook"] for n in added.values())

    # Nothing changed since: a rerun executes nothing.
    before = len(executed_notebooks(study_copy))
    assert main(["run", str(study_copy), "--quiet", "--until", "experiments"]) == 0
    assert len(executed_notebooks(study_copy)) == before
