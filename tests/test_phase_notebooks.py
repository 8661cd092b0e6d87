"""The phase notebooks: the package copies, the top-level copies Binder opens and the builder
agree; each takes `study_dir` as its papermill parameter; each runs headless through papermill
(the quickstart a whole toy study, 01-06 the same runner `aisci run` uses, so nothing is redone);
a `stop` gate ends a notebook cleanly, naming the gate, and a panel decision lets it go on."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

from aisci import phase_notebooks as notebooks
from aisci.phase_notebooks import make
from tests.conftest import TOY_TEMPLATE
from tests.study_helpers import executed_notebooks, init_study, set_config

REPO = Path(__file__).resolve().parent.parent
PHASE_NOTEBOOKS = ["01_ideation", "02_novelty", "03_experiments", "04_analysis", "05_writeup", "06_review"]
PANEL_CLASS = {"01_ideation": "IdeasPanel", "02_novelty": "IdeasPanel", "03_experiments": "ExperimentsPanel",
               "04_analysis": "FiguresPanel", "05_writeup": "PaperPanel", "06_review": "ReviewPanel"}


def test_package_copies_top_level_copies_and_builder_agree():
    built = make.notebooks()
    assert sorted(built) == ["00_quickstart.ipynb", *(f"{n}.ipynb" for n in PHASE_NOTEBOOKS)] == notebooks.names()
    for name, text in built.items():
        assert notebooks.path(name).read_text(encoding="utf-8") == text, f"run `python -m aisci.phase_notebooks.make` ({name})"
        assert (REPO / "notebooks" / name).read_text(encoding="utf-8") == text, f"notebooks/{name} is out of step"


def test_every_notebook_takes_the_study_folder_as_a_parameter():
    for name in notebooks.names():
        parameters = papermill.inspect_notebook(str(notebooks.path(name)))
        assert parameters["study_dir"]["default"] == "'quickstart-study'", name
        nb = nbformat.read(str(notebooks.path(name)), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "api.run" in code and "widgets." in code, name  # the runner's entry point and a panel


def execute(name: str, cwd: Path, **parameters) -> nbformat.NotebookNode:
    output = cwd / f"out-{name}.ipynb"
    papermill.execute_notebook(str(notebooks.path(f"{name}.ipynb")), str(output), parameters=parameters, cwd=str(cwd),
                               progress_bar=False, kernel_name="python3")
    return nbformat.read(str(output), as_version=4)


def widget_views(nb) -> list[str]:
    """The widget classes shown in the notebook's outputs (the model names of the views)."""
    states = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    shown = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                shown.append(view["model_id"])
    return [states.get(model_id, {}).get("model_name", "?") for model_id in shown] if states else shown


def text_outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts += [str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


@pytest.mark.slow
def test_quickstart_then_each_phase_notebook_headless(tmp_path):
    nb = execute("00_quickstart", tmp_path, template=str(TOY_TEMPLATE), topic="learning rate on a toy fit")
    study = tmp_path / "quickstart-study"
    assert json.loads((study / "reviews" / "meta-review.json").read_text())["decision"] in ("Accept", "Reject")
    assert len(widget_views(nb)) >= 7  # cost meter, five panels, the paper view
    shown = text_outputs(nb)
    assert "ran: ideation, novelty, experiments, analysis, writeup, review" in shown
    ran_before = executed_notebooks(study)
    for name in PHASE_NOTEBOOKS:
        nb = execute(name, tmp_path)
        assert "nothing to do" in text_outputs(nb), name  # the same runner: a finished study reruns nothing
        assert len(widget_views(nb)) >= 2, name  # the cost meter and the phase's panel
    assert executed_notebooks(study) == ran_before


@pytest.mark.slow
def test_a_stop_gate_ends_the_notebook_cleanly_and_a_panel_click_lets_it_go_on(tmp_path):
    from aisci.widgets import IdeasPanel

    study = init_study(tmp_path / "quickstart-study", TOY_TEMPLATE)
    set_config(study, "gates", ideas="stop")
    text = text_outputs(execute("02_novelty", tmp_path))
    assert "stopped at the ideas gate" in text and "aisci approve" in text
    assert not (study / "ideas" / "novelty.json").exists()

    panel = IdeasPanel(study)
    # the summary line above the cards (the out-of-date banner sits between it and the header)
    assert any("This gate waits for you" in getattr(w, "value", "") for w in panel.children)
    card = next(w for w in _walk(panel) if "aisci-idea-card" in w._dom_classes)
    next(w for w in _walk(card) if "aisci-approve" in w._dom_classes).click()
    text = text_outputs(execute("02_novelty", tmp_path))
    assert "stopped at" not in text and "ran: novelty" in text
    assert list(json.loads((study / "ideas" / "novelty.json").read_text())) == panel.study.decisions("ideas")[-1]["items"]


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)
