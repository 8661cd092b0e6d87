"""Grounded checks of a study's paper against the notebooks that produced it: every macro
equals its record, every figure exists and is referenced, every citation resolves."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
from pydantic import BaseModel

from aisci import results
from aisci.paper.values import collect_values, parse_values_tex


class Finding(BaseModel):
    check: str
    ok: bool
    detail: str


def run_checks(study_dir: str | Path) -> list[Finding]:
    paper = Path(study_dir) / "paper"
    return [*check_values(study_dir), *check_figures(paper), *check_citations(paper)]


def check_values(study_dir: str | Path) -> list[Finding]:
    paper = Path(study_dir) / "paper"
    typeset = parse_values_tex((paper / "values.tex").read_text(encoding="utf-8"))
    expected = {v.macro: v for v in collect_values(results.experiment_records(study_dir),
                                                   results.analysis_records(study_dir))}
    findings = []
    for macro, text in typeset.items():
        value = expected.get(macro)
        if value is None:
            findings.append(Finding(check="value", ok=False, detail=f"\\{macro} = {text} matches no record"))
        elif value.text != text:
            findings.append(Finding(check="value", ok=False, detail=(
                f"\\{macro} = {text} but {value.record.notebook} (cell {value.record.cell_index}) records "
                f"{value.record.name} = {value.text}")))
        else:
            findings.append(Finding(check="value", ok=True, detail=f"\\{macro} = {text} equals its record"))
    return findings


def check_figures(paper: Path) -> list[Finding]:
    source = _all_tex(paper)
    findings = []
    for path in re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]*)\}", source):
        exists = (paper / path).exists()
        findings.append(Finding(check="figure", ok=exists, detail=f"{path} {'exists' if exists else 'is missing'}"))
    for label in re.findall(r"\\label\{(fig:[^}]*)\}", source):
        cited = f"\\ref{{{label}}}" in source
        findings.append(Finding(check="figure", ok=cited, detail=f"{label} is {'referenced' if cited else 'never referenced'} in the text"))
    return findings


def check_citations(paper: Path) -> list[Finding]:
    bib = paper / "references.bib"
    keys = {e.key for e in bibtexparser.parse_string(bib.read_text(encoding="utf-8")).entries} if bib.exists() else set()
    cited = {k.strip() for group in re.findall(r"\\cite[pt]?\{([^}]*)\}", _all_tex(paper)) for k in group.split(",")}
    return [Finding(check="citation", ok=k in keys, detail=f"\\cite{{{k}}} {'resolves' if k in keys else 'is not in references.bib'}")
            for k in sorted(cited)]


def _all_tex(paper: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(paper.rglob("*.tex")))
