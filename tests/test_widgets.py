"""The review panels without a browser: clicks through `Button.click()`, selections through
the observers, the decisions written to decisions.jsonl, panels re-opened showing them, and
the next run honouring them."""

from __future__ import annotations

import json

import pytest

from aisci import api, gates
from aisci.execution import build
from aisci.search.node import Node
from aisci.study import Study
from aisci.widgets import CostMeter, ExperimentsPanel, FiguresPanel, IdeasPanel, PaperPanel, PaperView, ReviewPanel
from tests.study_helpers import copy_study, init_study

pytestmark = pytest.mark.slow  # one toy study, then a few short reruns (about a minute and a half)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    from tests.conftest import TOY_TEMPLATE

    root = init_study(tmp_path_factory.mktemp("widgets") / "s", TOY_TEMPLATE)
    assert api.run(root, progress=False).finished
    return root


@pytest.fixture
def study(finished, tmp_path) -> Study:
    return Study.open(copy_study(finished, tmp_path / "s"))


def find(widget, css_class: str) -> list:
    """Every widget under `widget` carrying a CSS class, in display order."""
    found = [widget] if css_class in getattr(widget, "_dom_classes", ()) else []
    for child in getattr(widget, "children", ()):
        found += find(child, css_class)
    return found


def text_of(widget) -> str:
    parts = [str(getattr(widget, "value", ""))] if hasattr(widget, "value") else []
    return " ".join(parts + [text_of(c) for c in getattr(widget, "children", ())])


def last_decision(study: Study) -> dict:
    return study.decisions()[-1]


def test_ideas_panel_approve_reject_reopen_and_the_next_run_follows(study):
    panel = IdeasPanel(study.root)
    cards = find(panel, "aisci-idea-card")
    order = panel.order()
    assert len(cards) == len(order) == 3 and "selected by the auto policy" in text_of(panel)
    assert "✓" in text_of(cards[0]) and "Novelty" in text_of(cards[0])  # rubric and novelty evidence

    find(cards[2], "aisci-approve")[0].click()
    decision = last_decision(study)
    assert decision["gate"] == "ideas" and decision["action"] == "approve" and decision["by"] == "panel"
    assert decision["items"] == [order[2]] and decision["after"] == [order[2]] and set(decision["before"]) == set(order[:2])
    assert "recorded" in panel.message.value

    reopened = IdeasPanel(study.root)  # a panel opened later shows the decision taken
    assert text_of(reopened).count("approved by you") == 1 and "Your choice goes on: " + order[2] in text_of(reopened)

    outcome = api.run(study.root, progress=False)
    summary = json.loads(study.path("experiments", "summary.json").read_text())
    assert outcome.finished and {n["idea"] for n in summary["nodes"]} == {"baseline", order[2]}

    find(find(reopened, "aisci-idea-card")[0], "aisci-approve")[0].click()
    assert last_decision(study)["after"] == [order[0], order[2]]  # cumulative, in display order
    find(find(reopened, "aisci-idea-card")[2], "aisci-reject")[0].click()
    assert last_decision(study)["action"] == "reject" and last_decision(study)["after"] == [order[0]]
    assert gates.selection(study, "ideas", order, [0, 0, 0], 2) == [order[0]]
    assert "rejected by you" in text_of(reopened)


def test_ideas_panel_reorder_and_edit(study):
    panel = IdeasPanel(study.root)
    before = panel.order()
    find(find(panel, "aisci-idea-card")[0], "aisci-down")[0].click()
    decision = last_decision(study)
    assert decision["action"] == "reorder" and decision["before"] == before
    assert panel.order() == decision["after"] == [before[1], before[0], before[2]]
    assert gates.selection(study, "ideas", before, [3, 2, 1], 1) == [before[1]]  # auto policy follows the order

    card = find(panel, "aisci-idea-card")[0]
    find(card, "aisci-edit")[0].click()
    editor = find(panel, "aisci-idea-editor")[0]
    title, _hypothesis, parameters, save = editor.children
    parameters.value = "not json"
    save.click()
    assert "must be a JSON object" in panel.message.value and last_decision(study)["action"] == "reorder"
    title.value, parameters.value = "A better title", '{"lr": 0.3, "steps": 10}'
    save.click()
    decision = last_decision(study)
    assert decision["action"] == "edit" and decision["items"] == [before[1]]
    assert decision["after"] == {"title": "A better title", "parameters": {"lr": 0.3, "steps": 10}}
    assert set(decision["before"]) == {"title", "parameters"}
    assert "edited by you" in text_of(IdeasPanel(study.root)) and "A better title" in text_of(IdeasPanel(study.root))
    from aisci.artifacts import Ideas

    edited = {i.name: i for i in gates.apply_idea_edits(study, Ideas.load(study).ideas)}[before[1]]
    assert edited.parameters == {"lr": 0.3, "steps": 10}


def test_experiments_panel_tree_details_and_decisions(study):
    panel = ExperimentsPanel(study.root)
    labels = [label for label, _ in panel.tree.options]
    ids = [value for _, value in panel.tree.options]
    assert ids[0] == "baseline/node-0" and {i.split("/")[0] for i in ids} == {"baseline", "small_lr", "lr_0_3"}
    assert all(label.startswith(("└─", "\u00a0")) for label in labels[1:])  # ideas hang under the baseline
    assert any("★ best by metric" in label for label in labels)

    idea_node = "small_lr/node-0"  # the draft: the baseline with the idea's parameters
    panel.tree.value = idea_node  # the observer shows the node's details
    details = text_of(panel.details)
    assert "final_loss" in details and "code diff against baseline/node-0" in details
    assert "-lr = 0.1" in details and "+lr = 0.01" in details
    assert "Open the notebook" in json.dumps(panel.details.children[1].outputs)

    find(panel, "aisci-approve-best")[0].click()
    assert last_decision(study)["items"] == [idea_node] and last_decision(study)["action"] == "approve"
    assert gates.approved_best_node(study, ids) == idea_node
    assert "✔ approved as best" in {v: k for k, v in ExperimentsPanel(study.root).tree.options}[idea_node]

    find(panel, "aisci-rerun")[0].click()
    nodes = [Node.model_validate_json(p.read_text()) for p in study.path("experiments").rglob("node.json")]
    assert gates.rerun_requests(study, nodes) == [idea_node]

    find(panel, "aisci-branch")[0].click()
    source = find(panel, "aisci-branch-source")[0]
    assert "lr = 0.01" in source.value
    source.value = source.value.replace("steps = 20", "steps = 10")
    find(panel, "aisci-save-branch")[0].click()
    decision = last_decision(study)
    assert decision["action"] == "branch" and "steps = 10" in decision["after"] and "steps = 20" in decision["before"]
    notebook = build.read(study.path("experiments", "small_lr", "node-0", "experiment.ipynb"))
    cell = notebook.cells[decision["cell"]]
    assert "steps = 10" in cell.source and cell.metadata["aisci"]["author"] == "person"

    api.run(study.root, until="experiments", progress=False)  # the edit becomes part of the tree
    nodes = {n["id"]: n for n in (json.loads(p.read_text()) for p in study.path("experiments").rglob("node.json"))}
    human = [n for n in nodes.values() if n.get("kind") == "human"]
    assert len(human) == 1 and human[0]["parent"] == idea_node and human[0]["status"] == "done"
    assert "steps = 10" in "".join(c.source for c in build.read(study.path(human[0]["notebook"])).cells)
    assert any(f"{human[0]['id']} · human · done" in label for label, _ in ExperimentsPanel(study.root).tree.options)


def test_figures_panel_keep_drop_caption(study):
    panel = FiguresPanel(study.root)
    names = [f["name"] for f in panel.figures()]
    assert names and len(find(panel, "aisci-card")) == len(names)
    first = find(panel, "aisci-card")[0]
    find(first, "aisci-drop")[0].click()
    assert last_decision(study) | {"at": None} == {"at": None, "gate": "figures", "action": "drop", "items": [names[0]],
                                                   "before": "kept", "after": "dropped", "by": "panel"}
    assert names[0] not in [f["name"] for f in gates.figure_choices(study, panel.figures())]
    card = find(panel, "aisci-card")[0]
    assert "dropped" in text_of(card)
    find(card, "aisci-caption")[0].value = "A caption written by a person."
    find(card, "aisci-save-caption")[0].click()
    find(find(panel, "aisci-card")[0], "aisci-keep")[0].click()  # the panel was rebuilt: find the card again
    kept = {f["name"]: f for f in gates.figure_choices(study, panel.figures())}
    assert kept[names[0]]["caption"] == "A caption written by a person."
    assert "A caption written by a person." in text_of(FiguresPanel(study.root))


def test_paper_panel_edit_lock_regenerate(study):
    panel = PaperPanel(study.root)
    assert "checks pass" in text_of(panel)
    path = study.path("paper", "sections", "conclusion.tex")
    original = path.read_text()
    card = next(c for c in find(panel, "aisci-card") if "Conclusion" in text_of(c))
    find(card, "aisci-edit")[0].click()
    card = next(c for c in find(panel, "aisci-card") if "Conclusion" in text_of(c))
    editor = card.children[-1]
    editor.children[0].value = "We conclude, in our own words.\n"
    find(card, "aisci-save")[0].click()
    assert path.read_text() == "We conclude, in our own words.\n"
    decision = last_decision(study)
    assert decision["action"] == "edit" and decision["before"] == original and decision["items"] == ["conclusion"]

    card = next(c for c in find(panel, "aisci-card") if "Conclusion" in text_of(c))
    find(card, "aisci-lock")[0].click()
    assert gates.locked_sections(study) == {"conclusion"}
    card = next(c for c in find(panel, "aisci-card") if "Conclusion" in text_of(c))
    assert find(card, "aisci-regenerate")[0].disabled and panel.regenerate("conclusion") is None
    find(card, "aisci-unlock")[0].click()
    card = next(c for c in find(panel, "aisci-card") if "Conclusion" in text_of(c))
    find(card, "aisci-regenerate")[0].click()
    assert not path.exists() and last_decision(study)["action"] == "regenerate"
    assert "regenerated at the next writeup run" in text_of(PaperPanel(study.root))
    api.run(study.root, until="writeup", progress=False)
    assert path.read_text() == original  # written afresh by the writeup


def test_review_panel_final_decision_and_cost_meter(study):
    panel = ReviewPanel(study.root)
    text = text_of(panel)
    assert "Meta-review" in text and "Grounded checks" in text and "not taken yet" in text
    find(panel, "aisci-accept")[0].click()
    assert gates.final_decision(study) == "accept" and last_decision(study)["before"] is None
    assert "Your final decision: " in text_of(ReviewPanel(study.root)) and "accept" in text_of(ReviewPanel(study.root))
    assert "0 model calls" in CostMeter(study.root).value and "offline-engine tasks" in CostMeter(study.root).value
    assert "Open the PDF" in json.dumps(PaperView(study.root).outputs) or "No PDF" in json.dumps(PaperView(study.root).outputs)


def test_ipython_magics(study, capsys):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "aisci")
    with pytest.raises(UsageError, match="which study"):
        shell.run_line_magic("aisci", "status")
    shell.run_line_magic("aisci", f"use {study.root}")
    shell.run_line_magic("aisci", "status")
    out = capsys.readouterr().out
    assert "review       done" in out and "waiting for you: nothing" in out and "offline-engine tasks" in out
    outcome = shell.run_line_magic("aisci", "run analysis")
    assert outcome.finished and outcome.ran == [] and "nothing to do" in str(outcome)
    assert type(shell.run_line_magic("aisci", "panel experiments")).__name__ == "ExperimentsPanel"
    with pytest.raises(UsageError, match="no such study folder"):
        shell.run_line_magic("aisci", f"use {study.root}/nope")
    with pytest.raises(UsageError):
        shell.run_line_magic("aisci", "run nonsense")
