"""What every review panel shares: the study, one way to record a decision, a status line,
and a rebuild from disk after every decision (so a panel re-opened later, or in another
notebook, shows the same state: everything comes from the study folder and decisions.jsonl)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from aisci.study import Study
from aisci.widgets.data import open_study

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


class Panel(widgets.VBox):
    """A panel for one gate. Subclasses implement `body()` (the widgets to show) and call
    `decide(action, ...)` from their click handlers."""

    gate = ""
    title = ""

    def __init__(self, study: Study | str | Path):
        super().__init__()
        self.study = open_study(study)
        self.message = widgets.HTML()
        self.add_class("aisci-panel")
        self.add_class(f"aisci-{self.gate}-panel")
        self.refresh()

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
        self.children = [header, *self.body(), self.message]

    def body(self) -> list[widgets.Widget]:
        raise NotImplementedError

    def decisions(self) -> list[dict]:
        return self.study.decisions(self.gate)
