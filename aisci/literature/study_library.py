"""The study's literature library as the phases open it: the study library with the user
library attached, seeded with the template's references."""

from __future__ import annotations

from pathlib import Path

from aisci.literature.bibfile import read_bib
from aisci.literature.errors import LiteratureError
from aisci.literature.library import Library


def open_library(study, warn=lambda message: None) -> Library:
    """The study library, with the user library attached when one is configured (a missing
    one is warned about, not fatal: the study library still answers)."""
    user = study.config.literature.user_library_path(study.root)
    try:
        return Library.for_study(study.root, user_library=user)
    except LiteratureError as exc:
        warn(f"{exc}; searching the study library only")
        return Library.for_study(study.root)


def seed_library(library: Library, bib: Path, warn) -> None:
    """The template's references go into the study library (once: merged by identity). At
    `aisci init`, so `aisci lit search` finds them at once, and again at ideation for a study
    whose template's references.bib changed."""
    if not bib.exists():
        return
    try:
        if all(library.find(ref) is not None for ref in read_bib(bib).references):
            return
        report = library.add_bib(bib)
    except LiteratureError as exc:
        warn(f"the template's references.bib was not added to the study library: {exc}")
        return
    if report.skipped:
        warn(f"template references.bib: {len(report.skipped)} entr{'y' if len(report.skipped) == 1 else 'ies'}"
             f" skipped ({report.skipped[0].describe()})")


def describe_library(library: Library) -> str:
    text = f"study library ({len(library)} entries)"
    if library.user is not None:
        text += f" + user library {library.user.bib_path.name} ({len(library.user)} entries)"
    return text
