"""The sections: one a person wrote, edited or locked is kept as it is on disk; each other one
is its own call (writeup.method, writeup.experimental_setup, ..., writeup.title, in DRAFT_ORDER),
given the facts its prompt names and the sections written before it, and is checked and fixed
before the next one reads it (on the offline engine, fixed templates filled with the study's
facts). Each is stamped with its author."""

from __future__ import annotations

from aisci import gates
from aisci.constants import OFFLINE_ENGINE
from aisci.fsutil import read_json
from aisci.paper import disclosure, latex
from aisci.paper.sections import PERSON, SECTIONS, read_section, write_section
from aisci.writeup import facts, fixing
from aisci.writeup.tasks import DRAFT_ORDER, SECTION_TASKS
from aisci.writeup.workspace import Workspace


def draft(ws: Workspace) -> None:
    keep_persons_sections(ws)
    offline = facts.offline_facts(ws)
    for name in DRAFT_ORDER:
        if name in ws.manuscript.kept:
            continue
        task = SECTION_TASKS[name]
        result = ws.ctx.llm.run(task, facts=offline, **facts.section_inputs(ws, task))
        text = getattr(result.output, name)
        if name == "title" and result.author != OFFLINE_ENGINE:
            text = latex.escape(" ".join(text.split()))  # the model writes the title as plain text
        write_draft(ws, name, text, result.author, result.call_id)
        fixing.revise_section(ws, name)  # a later section is written from this one as it ends up


def keep_persons_sections(ws: Workspace) -> None:
    """A section a person edited (or locked) is kept, and its author recorded for the disclosure."""
    ms = ws.manuscript
    previous = read_json(ws.paper / "sections.json", default={})
    locked = gates.locked_sections(ws.study)
    for name in SECTIONS:
        current = read_section(ws.sections_dir, name)
        if current.by_person or (name in locked and current.exists):
            ms.kept.add(name)
            ms.texts[name] = current.body
            before = previous.get(name, {})
            based_on = current.author or before.get("based_on") or before.get("author")
            ms.meta[name] = disclosure.SectionAuthor(
                name=name, author=PERSON if current.by_person else current.author,
                based_on=based_on if current.by_person and based_on != PERSON else None, locked=name in locked)
        elif name in locked:
            ws.ctx.warn(f"paper section {name} is locked but paper/sections/{name}.tex is missing: written afresh")


def write_draft(ws: Workspace, name: str, text: str, author: str, call_id: int | None) -> None:
    ms = ws.manuscript
    written = write_section(ws.sections_dir, name, text, author)
    ms.texts[name] = written.body
    ms.meta[name] = disclosure.SectionAuthor(name=name, author=author, calls=[call_id] if call_id else [])
