"""Review panels for every gate (ipywidgets). Each reads the study folder and
decisions.jsonl when it opens, and writes one decision per click:

    from aisci.widgets import IdeasPanel
    IdeasPanel("my-study")

Imported lazily, so `aisci approve` (which shares the readers in `data`) does not load
ipywidgets."""

from __future__ import annotations

import importlib

_WHERE = {
    "IdeasPanel": "ideas", "ExperimentsPanel": "experiments", "FiguresPanel": "figures",
    "PaperPanel": "paper", "ReviewPanel": "review", "CostMeter": "cost", "PaperView": "paper_view",
    "ProgressPanel": "progress",
}
# the panel each phase notebook shows
PANEL_FOR_PHASE = {"ideation": "IdeasPanel", "novelty": "IdeasPanel", "experiments": "ExperimentsPanel",
                   "analysis": "FiguresPanel", "writeup": "PaperPanel", "review": "ReviewPanel"}

__all__ = [
    "PANEL_FOR_PHASE",
    "CostMeter",
    "ExperimentsPanel",
    "FiguresPanel",
    "IdeasPanel",
    "PaperPanel",
    "PaperView",
    "ProgressPanel",
    "ReviewPanel",
    "panel_for",
]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"aisci.widgets.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'aisci.widgets' has no attribute {name!r}")


def panel_for(phase: str, study):
    """The review panel for a phase's gate."""
    from aisci.errors import AisciError

    if phase not in PANEL_FOR_PHASE:
        raise AisciError(f"unknown phase {phase!r} (phases: {', '.join(PANEL_FOR_PHASE)})")
    return __getattr__(PANEL_FOR_PHASE[phase])(study)
