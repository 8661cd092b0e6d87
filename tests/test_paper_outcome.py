"""The outcome paragraph: aisci's own account, from the records, of a study whose ideas
never ran, all failed, or never beat the baseline."""

from aisci.paper.outcome import study_outcome
from aisci.search.node import Node

BASE = {"id": "baseline/node-0", "idea": "baseline", "kind": "baseline", "status": "done", "metrics": {"loss": 0.5}}


def node(n, status="done", loss=None, failure=None):
    return {"id": f"idea/node-{n}", "idea": "idea", "kind": "draft", "status": status,
            "metrics": {} if loss is None else {"loss": loss}, "failure": failure}


def outcome(nodes, best=None, **kw):
    args = {"ideas_proposed": 2, "ideas_passed": 1, "not_novel": 0, "primary": "loss", "direction": "minimize",
            "best": best, **kw}
    return study_outcome([Node.model_validate(n) for n in nodes], **args)


def test_no_idea_reached_the_experiments():
    said = outcome([BASE], ideas_passed=0, not_novel=2)
    assert said.kind == "no_idea" and "No idea was implemented" in said.text and "two ideas judged not novel" in said.text and "no idea passed" in said.text


def test_no_plan_ever_validated():
    said = outcome([BASE, node(0, "invalid", failure="parameters.zork: not declared")])
    assert said.kind == "none_ran" and "idea/node-0: parameters.zork" in said.text


def test_every_run_failed():
    said = outcome([BASE, node(0, "failed", failure="NameError: x"), node(1, "timed_out", failure="900 s"),
                    node(2, "failed", failure="NameError: x")])
    assert said.kind == "all_failed" and "two nodes failed, one node timed out" in said.text
    assert "most common reason (two nodes): NameError: x" in said.text


def test_nothing_beat_the_baseline_and_a_win_needs_no_paragraph():
    assert outcome([BASE, node(0, loss=0.7)], best="baseline/node-0").kind == "no_gain"
    assert outcome([BASE, node(0, loss=0.5)], best="idea/node-0").kind == "no_gain"  # a tie is no gain
    assert outcome([BASE, node(0, loss=0.4)], best="idea/node-0") is None


def test_long_reasons_are_cut_and_typeset_safely():
    said = outcome([BASE, node(0, "failed", failure="x_y " * 200)])
    assert "(cut)" in said.text and len(said.text) < 600
    assert r"x\_y" in said.to_latex()
