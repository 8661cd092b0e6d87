"""What the paper says about how it was made: the note under the title and the disclosure
appendix (who wrote each section, the decisions, the models' tokens and cost, and every open
or accepted problem of the checks)."""

from __future__ import annotations

from aisci.constants import OFFLINE_ENGINE
from aisci.paper import disclosure, latex
from aisci.paper.sections import HEADINGS, PERSON, SECTIONS
from aisci.writeup.fixing import accepted_problems, open_problems
from aisci.writeup.workspace import Workspace


def problems(ws: Workspace) -> list[disclosure.Problem]:
    return [disclosure.Problem(id=f.id, check=f.check, section=f.section, detail=f.detail, accepted=f.accepted)
            for f in open_problems(ws) + accepted_problems(ws)]


def note(ws: Workspace) -> str:
    """Who wrote the text (a model, the offline engine, a person), and whether every number in
    it is backed by a record: said only when the number checks passed."""
    meta = ws.manuscript.meta
    by_person = [HEADINGS[n] for n in SECTIONS if n in meta and meta[n].author == PERSON]
    models = sorted({m.author.removeprefix("model:") for m in meta.values() if m.author.startswith("model:")})
    offline = any(m.author == OFFLINE_ENGINE for m in meta.values())
    writers = []
    if models:
        writers.append(f"drafted by {', '.join(models)} through aisci")
    if offline:
        writers.append("written by aisci's offline engine (deterministic and model-free"
                       + ("; no language model wrote this text)" if not models else ")"))
    if by_person:
        section_word = "section" if len(by_person) == 1 else "sections"
        writers.append(f"with {len(by_person)} {section_word} written or edited by a person ({', '.join(by_person)})"
                       if writers else f"written by a person ({', '.join(by_person)})")
    text = (" ".join(writers) or "written through aisci")
    text = text[:1].upper() + text[1:] + "."
    unverified = sum(p.check == "number" for p in problems(ws))
    if unverified:
        text += (f" {unverified} number{'s' if unverified != 1 else ''} in it "
                 f"{'matches' if unverified == 1 else 'match'} no record of what "
                 f"{'its sentence is' if unverified == 1 else 'their sentences are'} about (see the appendix).")
    else:
        text += " The experiments are real, and every number in the text is typeset from a record or is a setting of the study."
    return text


def title_note_tex(ws: Workspace) -> str:
    return r"\thanks{" + latex.escape(note(ws)) + " See the disclosure appendix.}"


def record(ws: Workspace) -> disclosure.Disclosure:
    return disclosure.gather(ws.study, [ws.manuscript.meta[n] for n in SECTIONS], problems(ws))


def appendix_tex(ws: Workspace) -> str:
    return disclosure.to_latex(record(ws))
