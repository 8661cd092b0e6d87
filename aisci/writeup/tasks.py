"""The writeup's model tasks and their offline forms: writeup.method (method and experimental
setup from the executed notebooks), writeup.draft (the other sections) and writeup.fix (one
section rewritten to clear the problems the checks found). The offline engine fills fixed
section templates (aisci/paper/offline/*.tex) with the study's facts and never rewrites."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aisci.llm.tasks import Task
from aisci.paper.sections import SECTIONS

OFFLINE_TEMPLATES = Path(__file__).resolve().parent.parent / "paper" / "offline"
METHOD_SECTIONS = ("method", "experimental_setup")
DRAFT_SECTIONS = tuple(s for s in SECTIONS if s not in METHOD_SECTIONS)


class MethodSections(BaseModel):
    method: str
    experimental_setup: str


class PaperDraft(BaseModel):
    title: str
    abstract: str
    introduction: str
    related_work: str
    results: str
    discussion: str
    limitations: str
    conclusion: str


class SectionRevision(BaseModel):
    text: str


def fill(name: str, facts: dict[str, str]) -> str:
    text = (OFFLINE_TEMPLATES / f"{name}.tex").read_text(encoding="utf-8")
    return string.Template(text).substitute(facts).strip() + "\n"


def _offline_method(inputs: dict[str, Any]) -> MethodSections:
    """The offline engine's method and setup: templates filled with the baseline notebook's
    own outline, its parameters and the study's settings."""
    return MethodSections(**{name: fill(name, inputs["facts"]) for name in METHOD_SECTIONS})


def _offline_draft(inputs: dict[str, Any]) -> PaperDraft:
    """The offline engine's paper: fixed section templates filled with the study's facts and
    the macros of its records."""
    facts = inputs["facts"]
    sections = {name: fill(name, facts) for name in DRAFT_SECTIONS if name != "title"}
    return PaperDraft(title=facts["title_tex"], **sections)


def _offline_fix(inputs: dict[str, Any]) -> SectionRevision:
    """The offline engine does not rewrite text: it keeps the section and the checks report."""
    return SectionRevision(text=inputs["text"])


METHOD = Task("writeup.method", "writeup", MethodSections, _offline_method, temperature=0.3, max_tokens=4000)
DRAFT = Task("writeup.draft", "writeup", PaperDraft, _offline_draft, temperature=0.4, max_tokens=8000)
FIX = Task("writeup.fix", "writeup", SectionRevision, _offline_fix, temperature=0.2, max_tokens=4000)
