"""The writeup's model tasks and their offline forms: one task per section (writeup.method,
writeup.results, ..., writeup.title: each its own prompt file and answer model, asked in
DRAFT_ORDER so that a section is written from the sections before it) and writeup.fix (one
section rewritten to clear the problems the checks found). The offline engine fills fixed
section templates (aisci/paper/offline/*.tex) with the study's facts and never rewrites."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, create_model

from aisci.llm.tasks import Task

OFFLINE_TEMPLATES = Path(__file__).resolve().parent.parent / "paper" / "offline"
# The core first, from the notebooks and records; the framing next; the abstract and title last,
# as summaries of what is written. A section's prompt shows only sections before it here.
DRAFT_ORDER = ("method", "experimental_setup", "results", "discussion", "limitations", "conclusion",
               "introduction", "related_work", "abstract", "title")
_BODY = "LaTeX body text: no \\section command, no \\label{sec:...}, no preamble"


# each section's answer: one field named after it (what a model is told in the JSON schema)
_SECTION_FIELDS = {
    "title": "the paper's title, plain text without LaTeX",
    "abstract": f"the abstract, one paragraph; {_BODY}",
    "introduction": f"the Introduction section; {_BODY}",
    "related_work": f"the Related Work section; {_BODY}",
    "method": f"the Method section; {_BODY}",
    "experimental_setup": f"the Experimental Setup section; {_BODY}",
    "results": f"the Results section; {_BODY}",
    "discussion": f"the Discussion section; {_BODY}",
    "limitations": f"the Limitations section; {_BODY}",
    "conclusion": f"the Conclusion section; {_BODY}",
}
ANSWERS: dict[str, type[BaseModel]] = {
    name: create_model(f"{name.title().replace('_', '')}Answer", **{name: (str, Field(description=description))})
    for name, description in _SECTION_FIELDS.items()}


class SectionRevision(BaseModel):
    text: str


def fill(name: str, facts: dict[str, str]) -> str:
    text = (OFFLINE_TEMPLATES / f"{name}.tex").read_text(encoding="utf-8")
    return string.Template(text).substitute(facts).strip() + "\n"


def _offline_section(name: str, answer: type[BaseModel]):
    """The offline engine's section: its fixed template filled with the study's facts and the
    macros of its records (the title is made from the template and the parameters changed)."""
    def write(inputs: dict[str, Any]) -> BaseModel:
        facts = inputs["facts"]
        return answer(**{name: facts["title_tex"] if name == "title" else fill(name, facts)})
    write.__name__ = f"offline_{name}"
    return write


def _offline_fix(inputs: dict[str, Any]) -> SectionRevision:
    """The offline engine does not rewrite text: it keeps the section and the checks report."""
    return SectionRevision(text=inputs["text"])


def _section_task(name: str, max_tokens: int, temperature: float = 0.4) -> Task:
    answer = ANSWERS[name]
    return Task(f"writeup.{name}", "writeup", answer, _offline_section(name, answer), temperature=temperature,
                max_tokens=max_tokens)


# max_tokens: room for the section as JSON-escaped LaTeX (every backslash doubled), with slack for
# models that count their reasoning in it; a cut-off answer gets the client's repair round
SECTION_TASKS: dict[str, Task] = {
    "method": _section_task("method", 4000, temperature=0.3),
    "experimental_setup": _section_task("experimental_setup", 3000, temperature=0.3),
    "results": _section_task("results", 4000),
    "discussion": _section_task("discussion", 3000),
    "limitations": _section_task("limitations", 2000),
    "conclusion": _section_task("conclusion", 1500),
    "introduction": _section_task("introduction", 3000),
    "related_work": _section_task("related_work", 3000),
    "abstract": _section_task("abstract", 1500),
    "title": _section_task("title", 500),
}
FIX = Task("writeup.fix", "writeup", SectionRevision, _offline_fix, temperature=0.2, max_tokens=4000)
