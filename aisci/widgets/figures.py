"""The figures panel: each analysis figure with its caption; keep or drop it, edit the
caption. The writeup reads the choices through `aisci.gates.figure_choices`."""

from __future__ import annotations

import ipywidgets as widgets

from aisci import gates
from aisci.widgets.base import Panel, badge, button, esc
from aisci.widgets.data import figures


class FiguresPanel(Panel):
    gate = "figures"
    title = "Figures — keep or drop each one, edit its caption; the paper uses what you keep"
    phases = ("analysis",)

    def figures(self) -> list[dict]:
        return figures(self.study)

    def keep(self, name: str) -> dict:
        return self.decide("keep", items=[name], before=self._state(name), after="kept")

    def drop(self, name: str) -> dict:
        return self.decide("drop", items=[name], before=self._state(name), after="dropped")

    def set_caption(self, name: str, caption: str) -> dict | None:
        current = self._caption(name)
        if caption.strip() == current:
            self.say(f"{name}: the caption is unchanged")
            return None
        return self.decide("caption", items=[name], before=current, after=caption.strip())

    def _state(self, name: str) -> str:
        return "dropped" if gates.item_verdicts(self.study, self.gate).get(name) == "reject" else "kept"

    def _caption(self, name: str) -> str:
        original = next(f["caption"] for f in self.figures() if f["name"] == name)
        return gates.figure_captions(self.study).get(name, original)

    def body(self) -> list[widgets.Widget]:
        figs = self.figures()
        if not figs:
            return [widgets.HTML("No figures yet: run the analysis phase (04_analysis.ipynb).")]
        return [self._card(fig) for fig in figs]

    def _card(self, fig: dict) -> widgets.Widget:
        name = fig["name"]
        state = self._state(name)
        path = self.study.path(fig["path"])
        image = (widgets.Image(value=path.read_bytes(), format="png", layout=widgets.Layout(max_width="420px"))
                 if path.exists() else widgets.HTML(f"<i>{esc(fig['path'])} is missing</i>"))
        caption = widgets.Textarea(value=self._caption(name), layout=widgets.Layout(width="95%", height="50px"))
        caption.add_class("aisci-caption")
        header = widgets.HTML(f"<b>{esc(name)}</b> <code>{esc(fig['path'])}</code>"
                              f"{badge(state, 'ok' if state == 'kept' else 'no')}")
        row = widgets.HBox([button("Keep", "aisci-keep", lambda: self.keep(name), style="success"),
                            button("Drop", "aisci-drop", lambda: self.drop(name), style="danger"),
                            button("Save caption", "aisci-save-caption", lambda: self.set_caption(name, caption.value))])
        card = widgets.VBox([header, image, caption, row])
        card.add_class("aisci-card")
        return card
