"""What the paper says about how it was made: the note under the title and the disclosure
appendix (who wrote each section, the decisions, the models' tokens and cost, the checks)."""

from __future__ import annotations

from aisci.paper import disclosure, latex
from aisci.paper.sections import PERSON, SECTIONS
from aisci.writeup.fixing import open_problems
from aisci.writeup.workspace import Workspace


def note(ws: Workspace) -> str:
    writers = {m.author for m in ws.manuscript.meta.values()} - {PERSON}
    if writers <= {"offline-engine"}:
        return ("Written by aisci's offline engine: deterministic and model-free; no language model wrote this text. "
                "The experiments and every number in it are real.")
    models = ", ".join(sorted(w.removeprefix("model:") for w in writers if w.startswith("model:")))
    return f"Drafted by {models} through aisci."


def title_note_tex(ws: Workspace) -> str:
    return r"\thanks{" + latex.escape(note(ws)) + " See the disclosure appendix.}"


def record(ws: Workspace) -> disclosure.Disclosure:
    return disclosure.gather(ws.study, [ws.manuscript.meta[n] for n in SECTIONS], len(open_problems(ws)))


def appendix_tex(ws: Workspace) -> str:
    return disclosure.to_latex(record(ws))
