"""The paper panel: each section with its checker findings; edit it, regenerate it, or lock
it. An edit is written to paper/sections/NAME.tex (the writeup keeps a person's edit and
discloses it); regenerate removes the section so the next writeup run writes it afresh;
a locked section is kept as it is (read through `aisci.gates.locked_sections`)."""

from __future__ import annotations

import os
from pathlib import Path

import ipywidgets as widgets
from IPython.display import Markdown

from aisci import gates
from aisci.artifacts import Paper
from aisci.fsutil import atomic_write_text, read_json
from aisci.widgets.base import Panel, badge, button, esc, mark
from aisci.widgets.data import findings_for_section, section_names
from aisci.writeup.pdf_state import pdf_state


class PaperPanel(Panel):
    gate = "paper"
    title = "Paper — each section with its checker findings; edit, regenerate or lock it"
    phases = ("writeup",)

    def __init__(self, study):
        self.editing: set[str] = set()
        super().__init__(study)

    def section_path(self, name: str):
        return self.study.path("paper", "sections", f"{name}.tex")

    def findings(self) -> list[dict]:
        """The grounded checks of the paper as it is on disk, the writeup's own problems among them: the
        same list the review phase saves (reviews/checks.json), so this panel and the review panel
        count the same checks for the same paper."""
        if not section_names(self.study):
            return []
        from aisci.paper.checks import run_checks

        try:
            return [f.model_dump() for f in run_checks(self.study.root)]
        except Exception as exc:  # noqa: BLE001 — the checks read files a half-written paper may lack
            return [{"check": "checks", "ok": False, "detail": f"the checks could not run: {exc}"}]

    def check_and_build(self) -> str:
        """What `aisci paper` does: check the sections as they are and build the PDF (paper.pdf only
        when no integrity problem is open, else the marked paper-draft.pdf)."""
        from aisci.writeup.rebuild import check_and_build

        state, _ = check_and_build(self.study)
        self.say(f"paper: {state}")
        self.refresh()
        return state

    # --- actions ---------------------------------------------------------------------------------
    def edit(self, name: str, text: str) -> dict | None:
        path = self.section_path(name)
        before = path.read_text(encoding="utf-8")
        text = text if text.endswith("\n") else text + "\n"
        if text == before:
            self.say(f"{name}: nothing changed")
            return None
        atomic_write_text(path, text)
        self.editing.discard(name)
        return self.decide("edit", items=[name], before=before, after=text)

    def regenerate(self, name: str) -> dict | None:
        if name in gates.locked_sections(self.study):
            self.say(f"{name} is locked: unlock it before regenerating it", error=True)
            return None
        path = self.section_path(name)
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        entry = self.decide("regenerate", items=[name], before=before, after="")
        path.unlink(missing_ok=True)  # the writeup writes a missing section afresh
        self.refresh()
        return entry

    def lock(self, name: str) -> dict:
        return self.decide("lock", items=[name], before="unlocked", after="locked")

    def unlock(self, name: str) -> dict:
        return self.decide("unlock", items=[name], before="locked", after="unlocked")

    # --- view ------------------------------------------------------------------------------------
    def body(self) -> list[widgets.Widget]:
        present = section_names(self.study)
        if not present:
            return [widgets.HTML("No paper yet: run the writeup phase (05_writeup.ipynb).")]
        found = self.findings()
        placed = {id(f) for name in Paper.SECTIONS for f in findings_for_section(name, found)}
        general = [f for f in found if id(f) not in placed]
        counted = [f for f in found if not f.get("skipped")]
        failed = [f for f in counted if not f["ok"]]
        skipped = len(found) - len(counted)
        state = pdf_state(self.study) or "no PDF yet"
        pdf = widgets.HTML(f"<p><b>PDF:</b> {esc(state)}</p>")
        checks = widgets.HTML(f"<p>{len(counted) - len(failed)} of {len(counted)} checks pass"
                              f"{f' ({skipped} skipped)' if skipped else ''}.{_findings_list(general)}</p>")
        build = button("Check and build the PDF", "aisci-build", self.check_and_build, style="primary")
        head = widgets.VBox([pdf, self._pdf_link(), checks])
        authors = read_json(self.study.path("paper", "sections.json"), default={})
        locked = gates.locked_sections(self.study)
        return [head, build] + [self._card(name, authors.get(name, {}), findings_for_section(name, found), name in locked)
                         for name in Paper.SECTIONS if name in present or name in self._regenerating()]

    def _pdf_link(self) -> widgets.Widget:
        """A link that opens the PDF there is (JupyterLab's PDF viewer): the final paper.pdf, or the
        marked paper-draft.pdf while integrity problems are open, and whether it matches the sections."""
        from aisci import studies

        link = widgets.Output()
        link.add_class("aisci-pdf-link")
        facts = studies.paper(self.study)
        if not facts or not facts["pdf"]:
            return link
        relative = os.path.relpath(self.study.path(facts["pdf"]), os.getcwd()).replace(os.sep, "/")
        what = ("the final paper" if facts["final"] else
                f"the DRAFT: {facts['open_problems']} integrity problem{'s' if facts['open_problems'] != 1 else ''} open")
        stale = "" if facts["current"] else " — built before the sections were last edited: check and build it again"
        link.append_display_data(Markdown(f"[Open {Path(facts['pdf']).name}]({relative}) ({what}){stale}"))
        return link

    def _regenerating(self) -> set[str]:
        return {i for d in self.decisions() if d["action"] == "regenerate" for i in d.get("items", [])}

    def _card(self, name: str, author: dict, section_findings: list[dict], locked: bool) -> widgets.Widget:
        path = self.section_path(name)
        exists = path.exists()
        text = path.read_text(encoding="utf-8") if exists else ""
        who = author.get("author", "?")
        header = (f"<b>{esc(name.replace('_', ' ').title())}</b> <code>paper/sections/{esc(name)}.tex</code>"
                  f"{badge('locked', 'ok') if locked else ''}{badge('written by ' + who)}"
                  f"{'' if exists else badge('regenerated at the next writeup run', 'no')}"
                  f"{_findings_list(section_findings)}"
                  f"<details><summary>LaTeX</summary><pre>{esc(text)}</pre></details>")
        row = [button("Edit", "aisci-edit", lambda: self._toggle_edit(name), disabled=not exists),
               button("Regenerate", "aisci-regenerate", lambda: self.regenerate(name), disabled=locked or not exists),
               (button("Unlock", "aisci-unlock", lambda: self.unlock(name)) if locked else
                button("Lock", "aisci-lock", lambda: self.lock(name), style="success", disabled=not exists))]
        parts = [widgets.HTML(header), widgets.HBox(row)]
        if name in self.editing and exists:
            area = widgets.Textarea(value=text, layout=widgets.Layout(width="98%", height="200px"))
            parts.append(widgets.VBox([area, button("Save section", "aisci-save", lambda: self.edit(name, area.value),
                                                    style="primary")]))
        card = widgets.VBox(parts)
        card.add_class("aisci-card")
        return card

    def _toggle_edit(self, name: str) -> None:
        self.editing ^= {name}
        self.refresh()


def _findings_list(found: list[dict]) -> str:
    if not found:
        return ""
    return "<ul>" + "".join(f"<li>{mark(f['ok'], f.get('skipped', False))} <code>{esc(f.get('check', ''))}</code> "
                            f"{esc(f.get('detail', ''))}</li>" for f in found) + "</ul>"
