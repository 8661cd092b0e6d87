"""What every review panel shares: the study, one way to record a decision, a status line,
and a rebuild from disk after every decision (so a panel re-opened later, or in another
notebook, shows the same state: everything comes from the study folder and decisions.jsonl).

A panel follows its study live (aisci.widgets.live): it rebuilds when a run rewrites what it
shows, and when a decision (here, in another panel, from `aisci approve` or the JupyterLab
sidebar) makes the phase it shows out of date, it says so: "out of date — rerun <phase>",
by the runner's own up-to-date test."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from aisci.study import Study
from aisci.widgets.data import open_study
from aisci.widgets.live import FOLLOWER

CSS = """<style>
.aisci-card { border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 10px; margin: 4px 0; }
.aisci-badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 85%; margin-left: 4px; }
.aisci-ok { background: #dafbe1; } .aisci-no { background: #ffebe9; } .aisci-neutral { background: #eaeef2; }
.aisci-muted { color: #57606a; font-size: 90%; }
</style>"""


def esc(value: Any) -> str:
    return html.escape(str(value))


def badge(text: str, kind: str = "neutral") -> str:
    return f'<span class="aisci-badge aisci-{kind}">{esc(text)}</span>'


def mark(ok: bool, skipped: bool = False) -> str:
    """A pass/fail mark in plain text symbols (emoji need a font headless browsers often lack)."""
    if skipped:
        return '<b style="color:#57606a" title="skipped">–</b>'
    return '<b style="color:#1a7f37">✓</b>' if ok else '<b style="color:#cf222e">✗</b>'


def button(label: str, css_class: str, on_click: Callable[[], None], *, style: str = "",
           tooltip: str = "", disabled: bool = False) -> widgets.Button:
    """A button whose handler takes no arguments; `css_class` lets browser tests find it."""
    b = widgets.Button(description=label, button_style=style, tooltip=tooltip or label, disabled=disabled,
                       layout=widgets.Layout(width="auto"))
    b.add_class(css_class)
    b.on_click(lambda _b: on_click())
    return b


# the events after which a panel reads the study again (a node's end only for the node tree)
REFRESHING_EVENTS = {"decision", "phase_end", "phase_error", "run_end", "job_end"}
PHASE_NOTEBOOKS = {"ideation": "01_ideation.ipynb", "novelty": "02_novelty.ipynb", "experiments": "03_experiments.ipynb",
                   "analysis": "04_analysis.ipynb", "writeup": "05_writeup.ipynb", "review": "06_review.ipynb"}


class Panel(widgets.VBox):
    """A panel for one gate. Subclasses implement `body()` (the widgets to show) and call
    `decide(action, ...)` from their click handlers. `phases` are those whose outputs it shows."""

    gate = ""
    title = ""
    phases: tuple[str, ...] = ()
    refreshing_events = REFRESHING_EVENTS

    def __init__(self, study: Study | str | Path):
        super().__init__()
        self.study = open_study(study)
        self.message = widgets.HTML()
        self.stale = widgets.HTML()
        self.stale.add_class("aisci-out-of-date")
        self.add_class("aisci-panel")
        self.add_class(f"aisci-{self.gate}-panel")
        self.refresh()
        FOLLOWER.follow(self)

    # --- following the study ------------------------------------------------------------------------
    def out_of_date(self) -> str | None:
        """The first phase this panel shows whose outputs no longer match its inputs (None: all current)."""
        from aisci import studies

        states = studies.planned_states(self.study.root)
        return next((phase for phase in self.phases if states.get(phase) == "out of date"), None)

    def mark_out_of_date(self) -> None:
        phase = self.out_of_date()
        if phase is None:
            self.stale.value = ""
            return
        finished = self.study.phase_state().get(phase, {}).get("finished_at") or ""
        later = [d for d in self.study.decisions() if d.get("at", "") >= finished and finished]
        cause = ""
        if later:
            last = later[-1]
            items = ", ".join(map(str, last.get("items", [])))
            cause = (f" Your decision at the {last['gate']} gate ({last['action']} {items}, by "
                     f"{last.get('by', '?')}, {last['at']}) came after it ran.")
        self.stale.value = (f'<div style="border-left:4px solid #9a6700;padding:2px 8px;margin:4px 0">'
                            f"<b>out of date — rerun {esc(phase)}</b> ({esc(PHASE_NOTEBOOKS[phase])}, or "
                            f"<code>aisci run --until {esc(phase)}</code>): what this panel shows comes from the "
                            f"last {esc(phase)} run.{esc(cause)}</div>")

    def on_events(self, new: list[dict]) -> None:
        """New events of the study (from the follower): read it again, or, while a person is editing
        here, only say whether it is out of date (a rebuild would drop their unsaved text)."""
        if not any(e["kind"] in self.refreshing_events for e in new):
            return
        if self.busy_editing():
            self.mark_out_of_date()
        else:
            self.refresh()

    def busy_editing(self) -> bool:
        return bool(getattr(self, "editing", None)) or bool(getattr(self, "branching", False))

    def decide(self, action: str, **details: Any) -> dict:
        """Write one decision to decisions.jsonl and show the panel as it now stands."""
        entry = self.study.record_decision(self.gate, action, by="panel", **details)
        items = ", ".join(map(str, details.get("items", [])))
        self.refresh()
        self.say(f"recorded at {entry['at']}: {action} {items}".rstrip() +
                 " — the next run (this notebook's next phase, or `aisci run`) honours it")
        return entry

    def say(self, text: str, error: bool = False) -> None:
        colour = "#cf222e" if error else "#1a7f37"
        self.message.value = f'<span style="color:{colour}">{esc(text)}</span>'

    def refresh(self) -> None:
        header = widgets.HTML(CSS + f"<h3>{esc(self.title)}</h3>")
        self.mark_out_of_date()
        self.children = [header, self.stale, *self.body(), self.message]

    def body(self) -> list[widgets.Widget]:
        raise NotImplementedError

    def decisions(self) -> list[dict]:
        return self.study.decisions(self.gate)
