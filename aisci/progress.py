"""One study-level progress view for a run, fed by the runner's hooks: every phase of the study
(done, running, waiting at a gate, failed, not run), the experiment node running (idea, node,
kind, for how long) and a time estimate for the nodes left, from the baseline's measured time:

    ✓ideation ✓novelty ▶experiments ·analysis ·writeup ·review
    node idea-a/node-1 (draft) for 12 s · about 4 nodes left, ~100 s (baseline 25 s per node, 1 worker)

`StudyProgress` holds that state; a renderer shows it: in a terminal `TerminalProgress` (one line
redrawn in place, or a line per change when the output is not a terminal), in a notebook
`aisci.widgets.progress.ProgressPanel`. `aisci.progress_views.view(study)` picks the one that fits. A run stepped
through the phase notebooks shows the same six phases each time, never a count that restarts.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aisci.constants import PHASE_NAMES
from aisci.fsutil import read_json
from aisci.hooks import Hooks, PhaseEvent

SYMBOLS = {"done": "✓", "running": "▶", "waiting": "?", "failed": "✗", "not run": "·"}
TICK_S = 1.0  # how often a node's clock is redrawn while it runs


class StudyProgress:
    """The state of a run, study-level. `on_change(self)` is called after every change."""

    def __init__(self, study, on_change: Callable[["StudyProgress"], None] | None = None):
        self.study = study
        self.on_change = on_change
        finished = study.phase_state()
        self.phases: dict[str, str] = {name: "done" if name in finished else "not run" for name in PHASE_NAMES}
        self.reasons: dict[str, str] = {}
        self.running: dict[str, dict] = {}  # node id -> {idea, kind, started (time.monotonic())}
        self.baseline_s: float | None = _baseline_seconds(study)
        self.ended = False

    def hooks(self) -> Hooks:
        return Hooks(on_phase_start=self.phase_start, on_phase_end=self.phase_end, on_phase_error=self.phase_error,
                     on_node_start=self.node_start, on_node_end=self.node_end, on_gate=self.gate)

    # --- hooks ----------------------------------------------------------------------------------
    def phase_start(self, event: PhaseEvent) -> None:
        self.phases[event.phase] = "done" if event.up_to_date else "running"
        self.reasons.pop(event.phase, None)
        self._changed()

    def phase_end(self, event: PhaseEvent) -> None:
        self.phases[event.phase] = "done"
        self.running.clear()
        self.ended = event.index + 1 == event.total
        self._changed()

    def phase_error(self, event: PhaseEvent, error: BaseException) -> None:
        self.phases[event.phase] = "failed"
        self.reasons[event.phase] = "interrupted" if isinstance(error, KeyboardInterrupt) else (
            " ".join(f"{type(error).__name__}: {error}".split())[:200])
        self.running.clear()
        self.ended = True
        self._changed()

    def node_start(self, node) -> None:
        self.running[node.id] = {"idea": node.idea, "kind": str(node.kind), "started": time.monotonic()}
        self._changed()

    def node_end(self, node) -> None:
        self.running.pop(node.id, None)
        if str(node.kind) == "baseline" and node.duration_s:
            self.baseline_s = float(node.duration_s)
        self._changed()

    def gate(self, stop) -> None:
        phase = self.phase or "ideation"
        self.phases[phase] = "waiting"
        self.reasons[phase] = f"the {stop.gate} gate waits for your decision"
        self.running.clear()
        self.ended = True
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)

    # --- what to show -----------------------------------------------------------------------------
    @property
    def phase(self) -> str | None:
        """The phase running (or the one that stopped the run)."""
        return next((name for name, state in self.phases.items() if state in ("running", "waiting", "failed")), None)

    def node(self) -> dict | None:
        """The node running longest: {id, idea, kind, elapsed_s}."""
        if not self.running:
            return None
        node_id, info = min(self.running.items(), key=lambda item: item[1]["started"])
        return {"id": node_id, "idea": info["idea"], "kind": info["kind"],
                "elapsed_s": round(time.monotonic() - info["started"], 1)}

    def estimate(self) -> dict | None:
        """The experiment nodes still to run and the time they take: the baseline's measured time ×
        nodes left / nodes run at once. None outside the experiments phase, or before the baseline ran."""
        if self.phases.get("experiments") != "running":
            return None
        from aisci.executors import node_slots

        search = self.study.config.search
        left = remaining_nodes(self.study.path("experiments"), search.max_nodes, search.num_seeds)
        workers = node_slots(self.study.config.experiments)
        seconds = None if self.baseline_s is None else round(self.baseline_s * left / workers, 1)
        return {"nodes_left": left, "workers": workers, "baseline_s": self.baseline_s, "seconds": seconds}

    def lines(self) -> list[str]:
        stepper = " ".join(f"{SYMBOLS[state]}{name}" for name, state in self.phases.items())
        lines = [stepper]
        node, estimate = self.node(), self.estimate()
        detail = []
        if node:
            more = len(self.running) - 1
            detail.append(f"node {node['id']} ({node['kind']}) for {node['elapsed_s']:.0f} s"
                          + (f" (+{more} running)" if more > 0 else ""))
        if estimate and estimate["nodes_left"]:  # none left, or none planned yet: nothing to estimate
            if estimate["seconds"] is None:
                detail.append(f"about {estimate['nodes_left']} nodes left (time known once the baseline has run)")
            else:
                detail.append(f"about {estimate['nodes_left']} nodes left, ~{_duration(estimate['seconds'])} "
                              f"(baseline {estimate['baseline_s']:.0f} s per node, {estimate['workers']} "
                              f"worker{'s' if estimate['workers'] != 1 else ''})")
        for phase, reason in self.reasons.items():
            detail.append(f"{phase}: {reason}")
        if detail:
            lines.append(" · ".join(detail))
        return lines


def remaining_nodes(experiments: Path, max_nodes: int | None = None, num_seeds: int = 0) -> int:
    """Experiment nodes still to run under `experiments/`: those planned and not finished, and, given
    [search] max_nodes, for each idea the room its search has left (replicas of the best node
    included when num_seeds > 1)."""
    by_idea: dict[str, list[dict]] = {}
    for path in Path(experiments).glob("*/*/node.json"):
        node = read_json(path, default=None)
        if isinstance(node, dict) and node.get("id"):
            by_idea.setdefault(node.get("idea") or node["id"].split("/")[0], []).append(node)
    left = 0
    for idea, nodes in by_idea.items():
        left += sum(1 for n in nodes if n.get("status") == "running")
        if idea == "baseline" or max_nodes is None:
            continue
        searched = [n for n in nodes if n.get("kind") not in ("human", "replica") and not n.get("follows_human")]
        replicas = sum(1 for n in nodes if n.get("kind") == "replica")
        left += max(0, max_nodes - len(searched)) + (max(0, num_seeds - replicas) if num_seeds > 1 else 0)
    return left


def _baseline_seconds(study) -> float | None:
    for path in study.path("experiments", "baseline").glob("*/node.json"):
        node = read_json(path, default=None) or {}
        if node.get("status") == "done" and node.get("duration_s"):
            return float(node["duration_s"])
    return None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class TerminalProgress:
    """The view in a terminal: the lines redrawn in place (and the node's clock each second); where
    the output is not a terminal (a log), the lines printed when they change. Messages go above."""

    def __init__(self, study, stream=None):
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.progress = StudyProgress(study, on_change=self.draw)
        self.drawn: list[str] = []
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def hooks(self) -> Hooks:
        return self.progress.hooks().subscribe(on_message=self.message)

    def draw(self, progress: StudyProgress | None = None) -> None:
        with self._lock:
            lines = self.progress.lines()
            if self.live:
                self._erase()
                self.stream.write("\n".join(lines) + "\n")
                self.drawn = lines
            elif lines != self.drawn:  # a log: the lines again when a hook changed them
                self.stream.write("\n".join(lines) + "\n")
                self.drawn = lines
            self.stream.flush()
        if self.live:
            self._tick_while_a_node_runs()

    def message(self, text: str) -> None:
        with self._lock:
            if self.live:
                self._erase()
                self.stream.write(text + "\n" + ("\n".join(self.drawn) + "\n" if self.drawn else ""))
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def _erase(self) -> None:
        if self.drawn:
            self.stream.write(f"\x1b[{len(self.drawn)}F\x1b[J")  # up to the view's first line, clear below

    def _tick_while_a_node_runs(self) -> None:
        if self.progress.running and not self.progress.ended and (self._ticker is None or not self._ticker.is_alive()):
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            if not self.progress.running or self.progress.ended:
                return
            self.draw()
