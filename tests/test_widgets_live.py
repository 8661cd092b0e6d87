"""The notebook panels follow their study (aisci.widgets.live): a decision taken elsewhere marks the
panels whose phase it makes out of date ("out of date — rerun <phase>", by the runner's up-to-date
test), a run that rewrites their artifacts clears the mark, and a panel being edited is never
rebuilt under the person's unsaved text."""

from __future__ import annotations

import pytest

from aisci import api, studies
from aisci.cli import main
from aisci.study import Study
from aisci.widgets import ExperimentsPanel, IdeasPanel, PaperPanel, ReviewPanel
from aisci.widgets.live import FOLLOWER
from tests.study_helpers import init_study

pytestmark = pytest.mark.slow  # one toy study, then a rerun of its later phases


def find(widget, css_class: str) -> list:
    found = [widget] if css_class in getattr(widget, "_dom_classes", ()) else []
    for child in getattr(widget, "children", ()):
        found += find(child, css_class)
    return found


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Study:
    from tests.conftest import TOY_TEMPLATE

    root = init_study(tmp_path_factory.mktemp("live") / "s", TOY_TEMPLATE)
    assert api.run(root, progress=False).finished
    return Study.open(root)


def test_a_decision_elsewhere_marks_what_it_makes_out_of_date_and_a_rerun_clears_it(study, capsys):
    panels = {"ideas": IdeasPanel(study.root), "experiments": ExperimentsPanel(study.root),
              "paper": PaperPanel(study.root), "review": ReviewPanel(study.root)}
    FOLLOWER.check()
    assert all(p.stale.value == "" for p in panels.values())  # a finished study: all current
    pdf = studies.paper(study)
    if pdf["pdf"]:  # the paper panel opens the PDF that matches the sections: final or draft
        link = str(find(panels["paper"], "aisci-pdf-link")[0].outputs)
        expected = "paper.pdf) (the final paper)" if pdf["final"] else "paper-draft.pdf) (the DRAFT:"
        assert expected in link, link

    nodes = [n for n in studies.tree(study)["nodes"] if n["status"] == "done"]
    other = next(n["id"] for n in nodes if n["id"] != studies.tree(study)["best"])
    assert main(["approve", str(study.root), "experiments", other]) == 0  # from the command line
    assert FOLLOWER.check() >= 1
    states = studies.planned_states(study.root)
    for panel in panels.values():
        stale = next((ph for ph in panel.phases if states[ph] == "out of date"), None)
        if stale is None:
            assert panel.stale.value == "", panel.phases
        else:
            assert f"out of date — rerun {stale}" in panel.stale.value
            assert "experiments gate (approve " + other in panel.stale.value and "by cli" in panel.stale.value
    assert panels["review"].stale.value and panels["paper"].stale.value  # the paper and its review follow the best node
    assert panels["ideas"].stale.value == ""  # the ideas do not depend on it

    capsys.readouterr()
    assert api.run(study.root, progress=False).finished  # the rerun rewrites their artifacts
    FOLLOWER.check()
    assert all(p.stale.value == "" for p in panels.values())
    for panel in panels.values():
        panel.close()


def test_a_panel_being_edited_is_marked_but_not_rebuilt(study):
    panel = PaperPanel(study.root)
    FOLLOWER.check()
    section = next(iter(panel.editing ^ {"introduction"}))
    panel._toggle_edit(section)
    editor_before = panel.children
    nodes = [n["id"] for n in studies.tree(study)["nodes"] if n["status"] == "done"]
    study.record_decision("experiments", "approve", items=[nodes[0]], by="jupyterlab")  # the sidebar decides
    FOLLOWER.check()
    assert panel.children[2:] == editor_before[2:]  # the section's editor is still there, untouched
    assert "out of date — rerun writeup" in panel.stale.value and "by jupyterlab" in panel.stale.value
    panel.close()
