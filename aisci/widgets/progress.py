"""The study-level progress view in a notebook (aisci.progress.StudyProgress drawn as a widget):
the six phases as a stepper, the node running with its clock, the time estimate from the baseline.
The run's messages stay printed below it (cell output a saved notebook keeps). `api.run` shows it in
a notebook; a run stepped through the phase notebooks shows the same six phases in each."""

from __future__ import annotations

import html
import threading
from pathlib import Path

import ipywidgets as widgets

from aisci.hooks import Hooks
from aisci.progress import TICK_S, StudyProgress
from aisci.study import Study

COLOURS = {"done": "#1a7f37", "running": "#0969da", "waiting": "#9a6700", "failed": "#cf222e", "not run": "#8c959f"}
LABELS = {"ideation": "Ideas", "novelty": "Novelty", "experiments": "Experiments", "analysis": "Analysis",
          "writeup": "Paper", "review": "Review"}


class ProgressPanel(widgets.VBox):
    def __init__(self, study: Study | str | Path):
        super().__init__()
        self.study = study if isinstance(study, Study) else Study.open(Path(study))
        self.progress = StudyProgress(self.study, on_change=self.refresh)
        self.view = widgets.HTML()
        self.children = [self.view]
        self.add_class("aisci-progress-view")
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.refresh()

    def hooks(self) -> Hooks:
        return self.progress.hooks()

    def show(self) -> Hooks:
        """Display the view below the running cell and return the hooks that feed it."""
        from IPython.display import display

        display(self)
        return self.hooks()

    def refresh(self, _progress: StudyProgress | None = None) -> None:
        progress = self.progress
        steps = "".join(
            f'<span class="aisci-step" data-phase="{name}" data-state="{html.escape(state)}" title="{html.escape(state)}" '
            f'style="display:inline-block;padding:1px 8px;margin:0 2px;border-radius:10px;color:white;'
            f'background:{COLOURS[state]}">{html.escape(LABELS[name])} · {html.escape(state)}</span>'
            for name, state in progress.phases.items())
        details = progress.lines()[1:]
        self.view.value = (f'<div class="aisci-progress-steps">{steps}</div>'
                           + "".join(f'<div class="aisci-progress-detail">{html.escape(line)}</div>' for line in details))
        self._tick_while_a_node_runs()

    def _tick_while_a_node_runs(self) -> None:
        """The node's clock moves while the node is silent (a thread: the kernel is busy with the run)."""
        if self.progress.running and not self.progress.ended and (self._ticker is None or not self._ticker.is_alive()):
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            if not self.progress.running or self.progress.ended:
                return
            self.refresh()

    def close(self) -> None:
        self._stop.set()
        super().close()
