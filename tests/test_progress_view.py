"""The study-level progress view (aisci.progress): one stepper over the six phases, the node
running, and a time estimate from the baseline's measured time; drawn in a terminal and as a
notebook widget, from a scripted sequence of the runner's hooks."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

from aisci import api
from aisci.errors import GateStop
from aisci.hooks import PhaseEvent
from aisci.progress import StudyProgress, TerminalProgress, remaining_nodes
from aisci.study import Study
from tests.conftest import TOY_TEMPLATE
from tests.study_helpers import init_study, set_config


def node(node_id: str, kind: str, duration_s: float | None = None):
    return SimpleNamespace(id=node_id, idea=node_id.split("/")[0], kind=kind, duration_s=duration_s)


def write_node(study, node_id: str, kind: str, status: str) -> None:
    folder = study.path("experiments", *node_id.split("/"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "node.json").write_text(json.dumps({"id": node_id, "idea": node_id.split("/")[0], "kind": kind,
                                                  "status": status}))


def scripted_study(tmp_path, **search) -> Study:
    root = init_study(tmp_path / "s", TOY_TEMPLATE)
    set_config(root, "experiments", workers=2)
    set_config(root, "search", **search)
    return Study.open(root)


def test_the_view_follows_phases_nodes_and_estimates_from_the_baseline(tmp_path):
    study = scripted_study(tmp_path, max_nodes=3)
    progress = StudyProgress(study)
    assert progress.lines() == ["·ideation ·novelty ·experiments ·analysis ·writeup ·review"]
    progress.phase_start(PhaseEvent("ideation", 0, 6, up_to_date=True))
    progress.phase_end(PhaseEvent("ideation", 0, 6, up_to_date=True))
    progress.phase_start(PhaseEvent("novelty", 1, 6))
    progress.phase_end(PhaseEvent("novelty", 1, 6, ran=True))
    progress.phase_start(PhaseEvent("experiments", 2, 6))
    write_node(study, "baseline/node-0", "baseline", "running")
    progress.node_start(node("baseline/node-0", "baseline"))
    stepper, detail = progress.lines()
    assert stepper == "✓ideation ✓novelty ▶experiments ·analysis ·writeup ·review"
    assert detail.startswith("node baseline/node-0 (baseline) for 0 s")
    assert "about 1 nodes left (time known once the baseline has run)" in detail

    write_node(study, "baseline/node-0", "baseline", "done")
    progress.node_end(node("baseline/node-0", "baseline", duration_s=20.0))
    for index in range(2):  # each idea's first draft, planned
        write_node(study, f"idea-{index}/node-0", "draft", "running")
    progress.node_start(node("idea-0/node-0", "draft"))
    progress.node_start(node("idea-1/node-0", "draft"))
    # per idea: the draft planned + room for 2 more under max_nodes 3; 2 workers; 20 s per node
    assert remaining_nodes(study.path("experiments"), 3) == 6
    estimate = progress.estimate()
    assert estimate == {"nodes_left": 6, "workers": 2, "baseline_s": 20.0, "seconds": 60.0}
    assert "node idea-0/node-0 (draft) for 0 s (+1 running)" in progress.lines()[1]
    assert "about 6 nodes left, ~60 s (baseline 20 s per node, 2 workers)" in progress.lines()[1]

    progress.phase_end(PhaseEvent("experiments", 2, 6, ran=True))
    progress.phase_start(PhaseEvent("analysis", 3, 6))
    progress.gate(GateStop("experiments"))  # a stop gate after the phase that ran
    assert progress.phases["analysis"] == "waiting" and progress.ended
    assert progress.lines() == ["✓ideation ✓novelty ✓experiments ?analysis ·writeup ·review",
                                "analysis: the experiments gate waits for your decision"]


def test_a_failed_phase_says_why(tmp_path):
    progress = StudyProgress(scripted_study(tmp_path))
    progress.phase_start(PhaseEvent("ideation", 0, 6))
    progress.phase_error(PhaseEvent("ideation", 0, 6), RuntimeError("the model said nothing\nat all"))
    assert progress.lines() == ["✗ideation ·novelty ·experiments ·analysis ·writeup ·review",
                                "ideation: RuntimeError: the model said nothing at all"]


def test_the_terminal_view_writes_a_line_per_change_to_a_log(tmp_path):
    out = io.StringIO()  # not a terminal: lines, no cursor movement
    view = TerminalProgress(scripted_study(tmp_path), stream=out)
    hooks = view.hooks()
    hooks.on_phase_start(PhaseEvent("ideation", 0, 6))
    hooks.on_message("3 ideas")
    hooks.on_phase_end(PhaseEvent("ideation", 0, 6, ran=True))
    view.draw()  # nothing changed: nothing written
    assert out.getvalue().splitlines() == ["▶ideation ·novelty ·experiments ·analysis ·writeup ·review", "3 ideas",
                                           "✓ideation ·novelty ·experiments ·analysis ·writeup ·review"]
    assert "\x1b" not in out.getvalue()


def test_the_notebook_view_is_one_widget_over_the_six_phases(tmp_path):
    from aisci.widgets import ProgressPanel

    panel = ProgressPanel(scripted_study(tmp_path))
    hooks = panel.hooks()
    hooks.on_phase_start(PhaseEvent("ideation", 0, 1))
    hooks.on_phase_end(PhaseEvent("ideation", 0, 1, ran=True))
    hooks.on_phase_start(PhaseEvent("novelty", 0, 1))  # the next notebook's run: the same view goes on
    states = {phase: state for phase, state in
              __import__("re").findall(r'data-phase="(\w+)" data-state="([\w ]+)"', panel.view.value)}
    assert states == {"ideation": "done", "novelty": "running", "experiments": "not run", "analysis": "not run",
                      "writeup": "not run", "review": "not run"}
    panel.close()


def test_a_real_run_draws_one_view_in_the_terminal(tmp_path, capsys):
    study = init_study(tmp_path / "s", TOY_TEMPLATE)
    set_config(study, "gates", ideas="stop")
    capsys.readouterr()
    outcome = api.run(study, progress=True)
    assert outcome.stopped_at == "ideas"
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "▶ideation ·novelty ·experiments ·analysis ·writeup ·review"
    # the ideas are made; the novelty phase waits for the person's choice among them
    assert err[-2:] == ["✓ideation ?novelty ·experiments ·analysis ·writeup ·review",
                        "novelty: the ideas gate waits for your decision"]
