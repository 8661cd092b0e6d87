"""The ideas panel: one card per idea with its rubric (each criterion, passed or not, and
why) and its novelty evidence; approve / reject / edit / reorder. Decisions go to the
`ideas` gate (and an override of a "not novel" verdict to the `novelty` gate)."""

from __future__ import annotations

import json

import ipywidgets as widgets

from aisci import gates
from aisci.errors import GateStop
from aisci.artifacts import Ideas
from aisci.widgets.base import Panel, badge, button, esc, mark
from aisci.widgets.data import novelty_decisions


class IdeasPanel(Panel):
    gate = "ideas"
    title = "Ideas — approve, reject, edit or reorder; the next phase runs the approved ones in this order"
    phases = ("ideation", "novelty")

    def __init__(self, study):
        self.editing: set[str] = set()
        super().__init__(study)

    # --- state, all from disk ------------------------------------------------------------------
    def ideas(self) -> list:
        return gates.apply_idea_edits(self.study, Ideas.load(self.study).ideas)

    def order(self) -> list[str]:
        ideas = sorted(self.ideas(), key=lambda i: -i.score)
        return gates.ordered(self.study, self.gate, [i.name for i in ideas])

    def passing(self) -> list[str] | None:
        """The ideas that go on as things stand, or None while a `stop` gate waits."""
        ideas = self.ideas()
        try:
            return gates.selection(self.study, self.gate, [i.name for i in ideas], [i.score for i in ideas],
                                   self.study.config.ideation.select)
        except GateStop:
            return None

    # --- actions ---------------------------------------------------------------------------------
    def approve(self, name: str) -> dict:
        before = self.passing() or []
        chosen = set(gates.human_choice(self.study, self.gate) or []) - gates.rejected(self.study, self.gate)
        after = [n for n in self.order() if n in chosen | {name}]
        return self.decide("approve", items=after, before=before, after=after)

    def reject(self, name: str) -> dict:
        before = self.passing() or []
        return self.decide("reject", items=[name], before=before, after=[n for n in before if n != name])

    def move(self, name: str, step: int) -> dict | None:
        before = self.order()
        index = before.index(name)
        target = index + step
        if not 0 <= target < len(before):
            return None
        after = list(before)
        after[index], after[target] = after[target], after[index]
        return self.decide("reorder", items=[name], before=before, after=after)

    def edit(self, name: str, **fields) -> dict | None:
        idea = next(i for i in self.ideas() if i.name == name)
        changed = {k: v for k, v in fields.items() if k in gates.IDEA_EDITABLE_FIELDS and getattr(idea, k) != v}
        if not changed:
            self.say(f"{name}: nothing changed")
            return None
        self.editing.discard(name)
        return self.decide("edit", items=[name], before={k: getattr(idea, k) for k in changed}, after=changed)

    def override_novelty(self, name: str) -> dict:
        entry = self.study.record_decision("novelty", "approve", items=[name], by="panel",
                                           before="not novel", after="novel (override)")
        self.refresh()
        self.say(f"recorded at {entry['at']}: {name} goes on despite the novelty check")
        return entry

    # --- view ------------------------------------------------------------------------------------
    def body(self) -> list[widgets.Widget]:
        ideas = {i.name: i for i in self.ideas()}
        if not ideas:
            return [widgets.HTML("No ideas yet: run the ideation phase (01_ideation.ipynb or `aisci run`).")]
        passing = self.passing()
        human = gates.human_choice(self.study, self.gate)
        verdicts = gates.item_verdicts(self.study, self.gate)
        novelty = novelty_decisions(self.study)
        overridden = gates.item_verdicts(self.study, "novelty")
        edited = gates.idea_edits(self.study)
        policy = self.study.config.gates.ideas
        if passing is None:
            summary = ("<b>This gate waits for you</b> (policy <code>stop</code>): approve the ideas to run, "
                       "then rerun the next phase.")
        elif human is None:
            summary = (f"Policy <code>{policy}</code>: the top {self.study.config.ideation.select} by score "
                       f"(or by your order) go on. Approving any idea replaces that with your choice.")
        else:
            summary = f"Your choice goes on: {', '.join(passing) or 'nothing'}."
        cards = [widgets.HTML(f'<p class="aisci-muted">{summary}</p>')]
        for rank, name in enumerate(self.order(), start=1):
            idea = ideas[name]
            if verdicts.get(name) == "reject":
                state = badge("rejected by you", "no")
            elif human is not None and name in (passing or []):
                state = badge("approved by you", "ok")
            elif passing is not None and name in passing:
                state = badge("selected by the auto policy", "ok")
            else:
                state = badge("waiting for you" if passing is None else "not selected")
            cards.append(self._card(rank, idea, state, novelty.get(name), overridden.get(name), name in edited))
        return cards

    def _card(self, rank, idea, state, novelty, override, edited) -> widgets.Widget:
        rubric = "".join(f"<li>{mark(r.passed)} {esc(r.criterion)} — "
                         f"<span class='aisci-muted'>{esc(r.reason)}</span></li>" for r in idea.rubric)
        params = ", ".join(f"<code>{esc(k)} = {esc(repr(v))}</code>" for k, v in idea.parameters.items()) or "none"
        text = (f"<b>{rank}. {esc(idea.title)}</b> <code>{esc(idea.name)}</code>"
                f"{badge(f'score {idea.score}/{len(idea.rubric)}')}{state}"
                f"{badge('edited by you') if edited else ''}"
                f"<br><b>Hypothesis.</b> {esc(idea.hypothesis)}<br><b>Parameters.</b> {params}"
                f"<details><summary>Rubric</summary><ul>{rubric}</ul></details>")
        if novelty:
            evidence = "".join(f"<li><code>{esc(e['key'])}</code> — {esc(e['reason'])}</li>"
                               for e in novelty.get("evidence", [])) or "<li>no papers</li>"
            verdict = badge("novel", "ok") if novelty.get("novel") else badge("not novel", "no")
            if override == "approve":
                verdict += badge("goes on: your override", "ok")
            text += (f"<b>Novelty</b> {verdict} <span class='aisci-muted'>{esc(novelty.get('summary', ''))}</span>"
                     f"<details><summary>Evidence</summary><ul>{evidence}</ul></details>")
        name = idea.name
        row = [button("Approve", "aisci-approve", lambda: self.approve(name), style="success"),
               button("Reject", "aisci-reject", lambda: self.reject(name), style="danger"),
               button("↑", "aisci-up", lambda: self.move(name, -1), tooltip="move up"),
               button("↓", "aisci-down", lambda: self.move(name, +1), tooltip="move down"),
               button("Edit", "aisci-edit", lambda: self._toggle_edit(name))]
        if novelty and not novelty.get("novel") and override != "approve":
            row.append(button("Run it anyway", "aisci-override", lambda: self.override_novelty(name),
                              tooltip="override the novelty check"))
        parts = [widgets.HTML(text), widgets.HBox(row)]
        if name in self.editing:
            parts.append(self._editor(idea))
        card = widgets.VBox(parts)
        card.add_class("aisci-card")
        card.add_class("aisci-idea-card")
        return card

    def _toggle_edit(self, name: str) -> None:
        self.editing ^= {name}
        self.refresh()

    def _editor(self, idea) -> widgets.Widget:
        title = widgets.Text(value=idea.title, description="Title", layout=widgets.Layout(width="95%"))
        hypothesis = widgets.Textarea(value=idea.hypothesis, description="Hypothesis",
                                      layout=widgets.Layout(width="95%", height="70px"))
        parameters = widgets.Text(value=json.dumps(idea.parameters), description="Parameters",
                                  layout=widgets.Layout(width="95%"))

        def save() -> None:
            try:
                values = json.loads(parameters.value)
                if not isinstance(values, dict):
                    raise TypeError("not an object")
            except (TypeError, ValueError) as exc:
                self.say(f"parameters must be a JSON object such as {{\"lr\": 0.01}} ({exc})", error=True)
                return
            self.edit(idea.name, title=title.value, hypothesis=hypothesis.value, parameters=values)

        editor = widgets.VBox([title, hypothesis, parameters, button("Save edit", "aisci-save", save, style="primary")])
        editor.add_class("aisci-idea-editor")
        return editor
