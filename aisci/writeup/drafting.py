"""The sections: one a person wrote, edited or locked is kept as it is on disk; the method and
experimental setup come from writeup.method, the rest from writeup.draft (on the offline
engine, fixed templates filled with the study's facts). Each is stamped with its author."""

from __future__ import annotations

from pydantic import BaseModel

from aisci import gates
from aisci.constants import OFFLINE_ENGINE
from aisci.fsutil import read_json
from aisci.paper import disclosure, latex
from aisci.paper.sections import PERSON, SECTIONS, read_section, write_section
from aisci.writeup import facts
from aisci.writeup.tasks import DRAFT, DRAFT_SECTIONS, METHOD, METHOD_SECTIONS
from aisci.writeup.workspace import Workspace


def draft(ws: Workspace) -> None:
    keep_persons_sections(ws)
    ms = ws.manuscript
    inputs = facts.offline_facts(ws)
    needed = [n for n in METHOD_SECTIONS if n not in ms.kept]
    if needed:
        result = ws.ctx.llm.run(METHOD, facts=inputs, **facts.method_inputs(ws))
        write_drafts(ws, result.output, needed, result.author, result.call_id)
    needed = [n for n in DRAFT_SECTIONS if n not in ms.kept]
    if needed:
        result = ws.ctx.llm.run(DRAFT, facts=inputs, **facts.draft_inputs(ws))
        drafted = result.output
        if "title" in needed:
            drafted.title = latex.escape(drafted.title) if result.author != OFFLINE_ENGINE else drafted.title
        write_drafts(ws, drafted, needed, result.author, result.call_id)


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


def write_drafts(ws: Workspace, output: BaseModel, names: list[str], author: str, call_id: int | None) -> None:
    ms = ws.manuscript
    for name in names:
        written = write_section(ws.sections_dir, name, getattr(output, name), author)
        ms.texts[name] = written.body
        ms.meta[name] = disclosure.SectionAuthor(name=name, author=author, calls=[call_id] if call_id else [])
