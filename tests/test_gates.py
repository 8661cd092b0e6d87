"""Gates: what each recorded decision means (aisci.gates), `aisci approve|reject` for every
gate, and the headless `stop` policy: the run stops at the ideas gate, a decision lets it go on."""

from __future__ import annotations

import json

import pytest

from aisci import api, gates
from aisci.cli import main
from aisci.ideas import Idea
from aisci.search.node import Node
from aisci.study import Study
from tests.study_helpers import init_study, set_config


@pytest.fixture
def study(tmp_path, toy_template) -> Study:
    return Study.open(init_study(tmp_path / "s", toy_template))


def test_latest_verdict_per_item_wins(study):
    study.record_decision("ideas", "reject", items=["a", "b"])
    study.record_decision("ideas", "approve", items=["a", "c"])
    assert gates.item_verdicts(study, "ideas") == {"a": "approve", "b": "reject", "c": "approve"}
    assert gates.rejected(study, "ideas") == {"b"}
    assert gates.selection(study, "ideas", ["a", "b", "c"], [1, 2, 3], k=1) == ["a", "c"]  # a person's choice, not top-k


def test_auto_policy_is_top_k_by_score_or_by_the_persons_order(study):
    assert gates.selection(study, "ideas", ["a", "b", "c"], [1, 3, 2], k=2) == ["b", "c"]
    study.record_decision("ideas", "reorder", items=["a"], before=["b", "c", "a"], after=["a", "b", "c"])
    assert gates.selection(study, "ideas", ["a", "b", "c"], [1, 3, 2], k=2) == ["a", "b"]
    study.record_decision("ideas", "reject", items=["a"])
    assert gates.selection(study, "ideas", ["a", "b", "c"], [1, 3, 2], k=2) == ["b", "c"]
    assert not gates.decided(Study.open(study.root), "novelty")


def test_reorder_and_edit_are_not_verdicts_so_a_stop_gate_still_waits(study, tmp_path):
    set_config(study.root, "gates", ideas="stop")
    study = Study.open(study.root)
    study.record_decision("ideas", "reorder", items=["a"], before=["b", "a"], after=["a", "b"])
    assert gates.waiting(study) == ["ideas"]
    with pytest.raises(Exception, match="the ideas gate waits"):
        gates.selection(study, "ideas", ["a", "b"], [1, 2], k=1)
    study.record_decision("ideas", "approve", items=["b", "a"])
    assert gates.waiting(study) == [] and gates.human_choice(study, "ideas") == ["a", "b"]  # in the person's order


def test_idea_edits_apply_field_by_field(study):
    idea = Idea(name="small_lr", title="old", hypothesis="h", abstract="a", experiments=["vs baseline"],
                parameters={"lr": 0.01})
    study.record_decision("ideas", "edit", items=["small_lr"], before={"title": "old"}, after={"title": "new"})
    study.record_decision("ideas", "edit", items=["small_lr"], before={"parameters": {"lr": 0.01}},
                          after={"parameters": {"lr": 0.3}, "rubric": "ignored: not editable"})
    edited = gates.apply_idea_edits(study, [idea])[0]
    assert (edited.title, edited.parameters, edited.hypothesis) == ("new", {"lr": 0.3}, "h")
    assert idea.title == "old"  # the input is not mutated


def test_experiment_figure_paper_and_review_decisions(study):
    nodes = [Node(id="baseline/node-0", idea="baseline", kind="baseline", finished_at="2025-01-01T00:00:00+00:00"),
             Node(id="x/node-0", idea="x", kind="draft", finished_at="2999-01-01T00:00:00+00:00")]
    assert gates.approved_best_node(study, [n.id for n in nodes]) is None
    study.record_decision("experiments", "approve", items=["x/node-0"])
    study.record_decision("experiments", "approve", items=["gone/node-9"])  # not in the tree: ignored
    assert gates.approved_best_node(study, [n.id for n in nodes]) == "x/node-0"
    study.record_decision("experiments", "reject", items=["x/node-0"])
    assert gates.approved_best_node(study, [n.id for n in nodes]) is None
    study.record_decision("experiments", "rerun", items=["baseline/node-0", "x/node-0"])
    assert gates.rerun_requests(study, nodes) == ["baseline/node-0"]  # x finished after the request

    figs = [{"name": "curves", "caption": "c"}, {"name": "primary_metric", "caption": "p"}]
    study.record_decision("figures", "drop", items=["curves"])
    study.record_decision("figures", "caption", items=["primary_metric"], before="p", after="better caption")
    assert gates.figure_choices(study, figs) == [{"name": "primary_metric", "caption": "better caption"}]
    study.record_decision("figures", "keep", items=["curves"])
    assert [f["name"] for f in gates.figure_choices(study, figs)] == ["curves", "primary_metric"]

    study.record_decision("paper", "lock", items=["results", "method"])
    study.record_decision("paper", "unlock", items=["method"])
    assert gates.locked_sections(study) == {"results"}

    assert gates.final_decision(study) is None
    study.record_decision("review", "approve", items=["reject"])
    study.record_decision("review", "approve", items=["accept"])
    assert gates.final_decision(study) == "accept"


def one_line_error(capsys, code: int, words: str) -> None:
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_approve_validates_items_for_every_gate(study, capsys):
    root = str(study.root)
    one_line_error(capsys, main(["approve", root, "experiments", "baseline/node-0"]), "no experiment nodes yet")
    one_line_error(capsys, main(["approve", root, "figures", "curves"]), "no figures yet")
    one_line_error(capsys, main(["reject", root, "paper", "results"]), "no paper sections yet")
    one_line_error(capsys, main(["approve", root, "review", "maybe"]), "unknown final decision 'maybe'")
    one_line_error(capsys, main(["approve", root, "ideas", "1"]), "no ideas yet")
    assert main(["approve", root, "review", "accept", "--note", "convincing"]) == 0
    decision = study.decisions("review")[-1]
    assert decision["items"] == ["accept"] and decision["by"] == "cli" and decision["note"] == "convincing"


@pytest.mark.slow
def test_headless_stop_at_the_ideas_gate_then_approve_and_continue(tmp_path, toy_template, capsys):
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "gates", ideas="stop")
    capsys.readouterr()
    assert main(["run", str(study), "--quiet"]) == 5  # GateStop's exit code
    err = capsys.readouterr().err
    assert "the ideas gate waits" in err and "aisci approve" in err and "01_ideation.ipynb" in err
    assert (study / "ideas" / "ideas.json").exists() and not (study / "experiments" / "summary.json").exists()
    assert main(["status", str(study)]) == 0
    assert "waiting for you: the ideas gate" in capsys.readouterr().out

    # the API says the same without raising: a notebook cell ends cleanly and names the gate
    outcome = api.run(study, progress=False)
    assert outcome.stopped_at == "ideas" and not outcome.finished and "aisci approve" in outcome.message

    ideas = json.loads((study / "ideas" / "ideas.json").read_text())["ideas"]
    ranked = sorted(ideas, key=lambda i: -sum(r["passed"] for r in i["rubric"]))
    assert main(["approve", str(study), "ideas", "2"]) == 0  # rank 2 only
    assert main(["run", str(study), "--until", "experiments", "--quiet"]) == 0
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    assert {n["idea"] for n in summary["nodes"]} == {"baseline", ranked[1]["name"]}
    capsys.readouterr()
    assert main(["status", str(study)]) == 0
    assert "waiting for you: nothing" in capsys.readouterr().out

    # a later reject of that idea and approval of another reruns what follows the gate
    assert main(["reject", str(study), "ideas", ranked[1]["name"]]) == 0
    assert main(["approve", str(study), "ideas", ranked[0]["name"]]) == 0
    outcome = api.run(study, until="experiments", progress=False)
    assert outcome.finished and "novelty" in outcome.ran and "experiments" in outcome.ran
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    assert {n["idea"] for n in summary["nodes"]} == {"baseline", ranked[0]["name"]}
