"""The cost meter: LLM calls, tokens and dollars so far, read from the study's call store
(llm/calls.sqlite). It follows a run through the runner's hooks, refreshed after every
phase and every experiment node: `api.run(study_dir, hooks=meter.hooks())`."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

from aisci.hooks import Hooks
from aisci.llm.store import CallStore
from aisci.study import Study
from aisci.widgets.data import open_study


def cost_text(study: Study) -> str:
    path = study.path("llm", "calls.sqlite")
    if not path.exists():
        return "LLM: no calls yet"
    store = CallStore(path)
    live, offline = store.totals("openai-compatible"), store.totals("offline")
    return (f"LLM: {live.calls} model calls · {live.tokens:,} tokens · ${live.cost_usd:.4f}"
            f" · {offline.calls} offline-engine tasks")


class CostMeter(widgets.HTML):
    def __init__(self, study: Study | str | Path):
        super().__init__()
        self.study = open_study(study)
        self.add_class("aisci-cost-meter")
        self.refresh()

    def hooks(self) -> Hooks:
        """Subscribe the meter to a run: it refreshes after each phase and each node."""
        return Hooks(on_phase_end=self.refresh, on_node_end=self.refresh)

    def refresh(self, *_args) -> None:
        budget = self.study.config.budget
        limits = [f"${budget.max_usd:g}" if budget.max_usd is not None else "",
                  f"{budget.max_tokens:,} tokens" if budget.max_tokens is not None else ""]
        limit = " / budget " + ", ".join(x for x in limits if x) if any(limits) else ""
        self.value = f"<code>$ {cost_text(self.study)}{limit}</code>"  # a glyph every font has (no emoji)
