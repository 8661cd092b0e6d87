"""Which PDF a study has, and whether it still matches the sections on disk: one line for status,
the panels, the sidebar and the CLI. Light on purpose (no checks, no LaTeX): `aisci status` reads it."""

from __future__ import annotations

from aisci.fsutil import read_json
from aisci.paper.sections import sections_digest


def pdf_state(study) -> str | None:
    """One line for status, the panels and the CLI: which PDF there is, whether it is the final
    paper or a draft, and whether it still matches the sections on disk. None before a writeup."""
    checks = read_json(study.path("paper", "checks.json"))
    if not checks:
        return None
    paper = study.path("paper")
    open_, accepted = checks.get("open", 0), checks.get("accepted", 0)
    pdf = checks.get("pdf")
    if pdf and (study.root / pdf).exists():
        if pdf.endswith("paper.pdf"):
            where = "paper/paper.pdf (final: no integrity problem open" + (f", {accepted} accepted by a person)" if accepted else ")")
        else:
            where = f"paper/paper-draft.pdf (DRAFT: {open_} integrity problem{'s' if open_ != 1 else ''} open; no paper.pdf)"
    else:
        where = "no PDF (paper/main.tex and paper/paper.md)" + (f"; {open_} integrity problem(s) open" if open_ else "")
    if checks.get("sections_digest") and checks["sections_digest"] != sections_digest(paper / "sections"):
        return (f"{where}, built BEFORE the sections were last edited: run `aisci paper {study.root}` to check "
                "and build them again")
    return f"{where}, matches the sections"
