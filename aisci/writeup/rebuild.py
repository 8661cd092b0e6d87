"""Check the paper and build it again, as `aisci paper` and the paper panel do: the writeup
phase is run again through the runner (so the study's state records it and the review knows
it is out of date), keeping every section a person edited."""

from __future__ import annotations

from aisci.runner import run_study
from aisci.writeup.pdf_state import pdf_state


def check_and_build(study, say=lambda message: None) -> tuple[str, list[str]]:
    """(the PDF state line, the run's notes)."""
    report = run_study(study, until="writeup", redo=["writeup"], say=say)
    return pdf_state(study) or "no paper", report.notes
