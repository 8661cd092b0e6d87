"""The novelty check on the offline engine: a retrieval score against a threshold over the
local library only (no online source is asked, and the notebook says so); the decision and
its evidence; a person's override recorded in decisions.jsonl and honoured downstream."""

from __future__ import annotations

import json

import nbformat
import pytest

from aisci.cli import main
from aisci.artifacts import novel_ideas
from tests.fake_literature_server import FakeLiteratureServer
from aisci.study import Study
from tests.study_helpers import copy_study, init_study, set_config

# a paper that already makes the seed idea's claim (lr 0.01 raises the final loss)
ANTICIPATING = """@article{smith2020smaller,
  title = {A smaller learning rate raises the final loss of gradient descent},
  author = {Smith, Jane}, journal = {Journal of Toy Fits}, year = {2020},
  abstract = {On quadratic fits, a learning rate of 0.01 raises the final loss relative to a baseline of 0.1.}
}
"""


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """A toy study whose library holds a paper anticipating small_lr, checked for novelty
    with online sources configured (they must not be asked) and every idea approved."""
    from tests.conftest import TOY_TEMPLATE

    root = tmp_path_factory.mktemp("novelty")
    study = init_study(root / "s", TOY_TEMPLATE)
    (root / "prior.bib").write_text(ANTICIPATING)
    assert main(["lit", "add", str(study), str(root / "prior.bib")]) == 0
    set_config(study, "ideation", select=3)
    set_config(study, "search", max_nodes=1)
    with FakeLiteratureServer() as server:
        set_config(study, "literature", base_urls=server.base_urls)
        assert main(["run", str(study), "--quiet", "--until", "novelty"]) == 0
        assert server.requests == []  # the offline engine searches the local library only
    return study


def test_offline_decision_comes_from_retrieval_scores_with_evidence(checked):
    decisions = json.loads((checked / "ideas" / "novelty.json").read_text())
    assert {name: d["novel"] for name, d in decisions.items()} == {"small_lr": False, "lr_0_3": True,
                                                                   "steps_10": True}
    anticipated = decisions["small_lr"]
    assert anticipated["author"] == "offline-engine" and anticipated["offline"] and anticipated["local_only"]
    assert anticipated["threshold"] == 0.7 and "no paper was read" in anticipated["method"]
    assert anticipated["summary"].startswith("Offline engine (model-free): not novel by retrieval score")
    evidence = anticipated["evidence"][0]
    assert evidence["key"] == "smith2020smaller" and evidence["anticipates"]
    assert "mentions 100% of the idea's terms" in evidence["reason"] and "smaller" in evidence["reason"]
    assert anticipated["papers"][0]["score"] == 1.0 and len(anticipated["rounds"]) == 1
    assert "the offline engine searches the local library only" in anticipated["searched"]
    # the scale-free score places the other ideas below the threshold, and their evidence says by how much
    assert decisions["lr_0_3"]["papers"][0]["score"] == 0.5
    assert "below the threshold 70%" in decisions["lr_0_3"]["evidence"][0]["reason"]

    nb = nbformat.read(str(checked / "ideas" / "novelty.ipynb"), 4)
    intro = nb.cells[0].source
    assert "offline engine" in intro and "retrieval score against a threshold" in intro
    assert "Only the local library" in intro and "`offline=True`" in intro
    rerun = next(c for c in nb.cells if c.cell_type == "code" and "rerun_queries('..', 'small_lr')" in c.source)
    assert "smith2020smaller" in json.dumps(rerun.outputs)


def test_the_ideation_rubric_asks_for_a_stated_difference_from_each_paper(checked):
    ideas = {i["name"]: i for i in json.loads((checked / "ideas" / "ideas.json").read_text())["ideas"]}
    criterion = "differs from every retrieved paper in a stated way"
    seed = {r["criterion"]: r for r in ideas["small_lr"]["rubric"]}[criterion]
    assert not seed["passed"] and seed["reason"] == "no stated difference from smith2020smaller (retrieved: " \
                                                    "smith2020smaller)"
    other = {r["criterion"]: r for r in ideas["lr_0_3"]["rubric"]}[criterion]
    assert other["passed"] and ideas["lr_0_3"]["differences"][0]["key"] == "smith2020smaller"
    assert ideas["lr_0_3"]["differences"][0]["how"].startswith("word comparison by the offline engine")


def copy_of(checked, folder):
    return copy_study(checked, folder)


def test_an_override_is_recorded_and_honoured(tmp_path, checked):
    study_dir = copy_of(checked, tmp_path / "s")
    study = Study.open(study_dir)
    assert [i.name for i in novel_ideas(study)] == ["lr_0_3", "steps_10"]

    assert main(["approve", str(study_dir), "novelty", "small_lr", "--note", "the paper used another model"]) == 0
    assert main(["reject", str(study_dir), "novelty", "steps_10"]) == 0
    decisions = [json.loads(line) for line in (study_dir / "decisions.jsonl").read_text().splitlines()]
    assert [(d["gate"], d["action"], d["items"], d["by"]) for d in decisions] == [
        ("novelty", "approve", ["small_lr"], "cli"), ("novelty", "reject", ["steps_10"], "cli")]
    assert decisions[0]["note"] == "the paper used another model"
    assert [i.name for i in novel_ideas(study)] == ["lr_0_3", "small_lr"]  # in the ideas gate's order

    # the experiments phase runs what the gate lets through (the decision changed its inputs)
    assert main(["run", str(study_dir), "--quiet", "--until", "experiments"]) == 0
    summary = json.loads((study_dir / "experiments" / "summary.json").read_text())
    assert sorted({n["idea"] for n in summary["nodes"]}) == ["baseline", "lr_0_3", "small_lr"]


def test_a_stop_policy_waits_for_a_person(tmp_path, checked):
    copy_of(checked, tmp_path / "s")
    set_config(tmp_path / "s", "gates", novelty="stop")
    with pytest.raises(Exception, match="the novelty gate waits for a decision"):
        novel_ideas(Study.open(tmp_path / "s"))
    Study.open(tmp_path / "s").record_decision("novelty", "approve", items=["small_lr"], by="panel")
    assert [i.name for i in novel_ideas(Study.open(tmp_path / "s"))] == ["lr_0_3", "steps_10", "small_lr"]
