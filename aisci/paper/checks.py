"""Grounded checks of a study's paper against the notebooks that produced it: every macro
equals its record (and every macro the text uses is defined), every figure exists and is
referenced, every citation resolves and credits the work that introduced the method it names,
the method section agrees with the code that ran, and, where the template declares its data
splits, no test example is also a training example.

Each check gives Findings: ok, failed, or skipped (it could not run here, and says why; a skipped
finding counts neither way). The review notebook runs `run_checks` and the meta-review lowers its
Overall by one point per failed finding (aisci.review.meta.apply_findings).

Data splits: a template declares them in its manifest.toml,

    [data]
    splits = ["train", "test"]              # turns the overlap probe on
    overlap_record = "train_test_overlap"   # the record its notebook writes (this is the default)
    max_overlap = 0.0                       # the largest fraction of test examples allowed in train

and its notebook records the overlap it measures on the data it actually split, e.g.
`aisci.record("train_test_overlap", aisci.review.overlap.overlap_fraction(X_train, X_test))`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import bibtexparser
import tomllib
from pydantic import BaseModel, Field, ValidationError

from aisci import results
from aisci.constants import OFFLINE_ENGINE
from aisci.paper.sections import sections_digest
from aisci.paper.values import collect_values, parse_values_tex
from aisci.manifest import DataSplits


class Finding(BaseModel):
    check: str
    ok: bool
    detail: str
    skipped: bool = False  # the check could not run here (said why in detail): counts neither as pass nor fail
    section: str | None = None  # the paper section the finding is about, when it is about one
    evidence: dict[str, Any] = Field(default_factory=dict)  # quotes, records, suggested fixes


def run_checks(study_dir: str | Path) -> list[Finding]:
    paper = Path(study_dir) / "paper"
    return [*check_writeup(study_dir), *check_values(study_dir), *check_macro_uses(paper), *check_figures(paper),
            *check_citations(paper), *check_attribution(paper), *check_method_code(study_dir),
            *check_split_overlap(study_dir)]


def check_writeup(study_dir: str | Path) -> list[Finding]:
    """The writeup's own checks (paper/checks.json: numbers bound to their records, claims about what
    ran, the method against the code, citations, attribution, figures, LaTeX): every problem still
    open, or accepted by a person at the paper gate, is a failed grounded check, named as such; and
    checks made on other sections than those on disk now count for nothing."""
    paper = Path(study_dir) / "paper"
    record = _read_json(paper / "checks.json")
    if not isinstance(record, dict) or "findings" not in record:
        return [Finding(check="writeup", ok=True, skipped=True, detail=(
            "skipped: the writeup has not checked this paper (no paper/checks.json)"))]
    if record.get("sections_digest") and record["sections_digest"] != sections_digest(paper / "sections"):
        return [Finding(check="writeup", ok=False, detail=(
            "the sections changed after the writeup last checked them: nothing in them is verified (run "
            "`aisci paper STUDY` to check them again)"))]
    problems = [f for f in record["findings"] if not f.get("ok") and f.get("severity", "error") == "error"]
    findings = []
    for f in problems:
        accepted = f.get("status") == "accepted"
        where = f"sections/{f['section']}.tex" if f.get("section") else "the paper"
        findings.append(Finding(
            check=f"writeup:{f['check']}", ok=False, section=f.get("section"),
            evidence={"id": f.get("id"), "snippet": f.get("snippet", ""), "accepted": f.get("accepted") if accepted
                      else None, "open": not accepted},
            detail=f"[{f.get('id')}] {where}: {f['detail']}"
                   + (f" (accepted by a person: {f.get('accepted')})" if accepted else " (open)")))
    if findings:
        return findings
    passed = sum(1 for f in record["findings"] if f.get("status") == "passed")
    return [Finding(check="writeup", ok=True, detail=(
        f"the writeup's checks of numbers, claims about what ran, the method against the code, citations and "
        f"figures leave no problem open ({passed} sections pass)"))]


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_values(study_dir: str | Path) -> list[Finding]:
    paper = Path(study_dir) / "paper"
    if not (paper / "values.tex").exists():
        return [Finding(check="value", ok=False, detail="paper/values.tex is missing: no number in the paper can be "
                                                         "traced to a record")]
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


def check_macro_uses(paper: Path) -> list[Finding]:
    """Every value macro (\\R...) the text uses is defined in values.tex: an undefined one is a number
    the paper states with no record behind it (and a LaTeX error)."""
    values = paper / "values.tex"
    defined = set(parse_values_tex(values.read_text(encoding="utf-8"))) if values.exists() else set()
    used: dict[str, str] = {}
    for path in sorted(paper.rglob("*.tex")):
        if path.name != "values.tex":
            for macro in re.findall(r"\\(R[A-Z][A-Za-z]*)", _strip_comments(path.read_text(encoding="utf-8"))):
                used.setdefault(macro, str(path.relative_to(paper)))
    undefined = sorted(set(used) - defined)
    if not undefined:
        return [Finding(check="value", ok=True, detail=f"all {len(used)} value macros the text uses are defined in values.tex")]
    return [Finding(check="value", ok=False, section=Path(used[m]).stem if used[m].startswith("sections/") else None,
                    detail=f"\\{m} is used in {used[m]} but values.tex defines no such macro (no record behind it)")
            for m in undefined]


def check_figures(paper: Path) -> list[Finding]:
    source = _all_tex(paper)
    findings = []
    for path in re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]*)\}", source):
        exists = (paper / path).exists()
        findings.append(Finding(check="figure", ok=exists, detail=f"{path} {'exists' if exists else 'is missing'}"))
    for label in re.findall(r"\\label\{(fig:[^}]*)\}", source):
        cited = re.search(r"\\(?:auto|c|C)?ref\{[^}]*\b" + re.escape(label) + r"\b[^}]*\}", source) is not None
        findings.append(Finding(check="figure", ok=cited, detail=f"{label} is {'referenced' if cited else 'never referenced'} in the text"))
    return findings


def check_citations(paper: Path) -> list[Finding]:
    bib = paper / "references.bib"
    keys = {e.key for e in bibtexparser.parse_string(bib.read_text(encoding="utf-8")).entries} if bib.exists() else set()
    cited = {k.strip() for group in _CITE.findall(_all_tex(paper)) for k in group.split(",") if k.strip()}
    return [Finding(check="citation", ok=k in keys, detail=f"\\cite{{{k}}} {'resolves' if k in keys else 'is not in references.bib'}")
            for k in sorted(cited)]


_CITE = re.compile(r"\\(?:cite|citep|citet|citealp|citealt|citeauthor|citeyear|parencite|textcite|autocite)\*?"
                   r"(?:\s*\[[^\]]*\]){0,2}\s*\{([^}]*)\}")


def check_attribution(paper: Path) -> list[Finding]:
    """A sentence naming a well-known method credits the paper that introduced it
    (aisci.literature.attribution: "LSTM (Goodfellow et al., 2016)" is flagged)."""
    from aisci.literature.attribution import check_text, find_mentions
    from aisci.literature.bibfile import parse_bib

    bib_path = paper / "references.bib"
    bib = {ref.key: ref for ref in parse_bib(bib_path.read_text(encoding="utf-8"), origin=str(bib_path)).references} \
        if bib_path.exists() else {}
    findings, mentions = [], 0
    for path in sorted((paper / "sections").glob("*.tex")):
        text = _strip_comments(path.read_text(encoding="utf-8"))
        mentions += len(find_mentions(text))
        findings += [Finding(check="attribution", ok=False, section=path.stem, evidence=issue.to_dict(),
                             detail=f"sections/{path.name}: {issue.message}") for issue in check_text(text, bib=bib)]
    if findings:
        return findings
    return [Finding(check="attribution", ok=True, detail=(
        f"{mentions} mention(s) of well-known methods; none is credited to another work" if mentions else
        "the text names no method of the attribution table, so no credit to check"))]


def check_method_code(study_dir: str | Path) -> list[Finding]:
    """The review phase's comparison of the method section with the code that ran
    (reviews/method_code.json, see aisci.review.method_code), its quotes verified against the
    paper and the notebooks as they are now. A claim whose quotes are not there is not counted."""
    from aisci.review.method_code import (
        COMPARISON_FILE,
        OFFLINE_AUTHOR_LABEL,
        MethodCodeComparison,
        quoted_in,
        study_sources,
    )

    root = Path(study_dir)
    saved = root / "reviews" / COMPARISON_FILE
    if not saved.exists():
        return [Finding(check="method_code", ok=True, skipped=True, section="method", detail=(
            "skipped: no comparison of the method with the code yet (the review phase writes reviews/"
            f"{COMPARISON_FILE})"))]
    try:
        record = json.loads(saved.read_text(encoding="utf-8"))
        comparison = MethodCodeComparison.model_validate(record["comparison"])
    except (ValueError, KeyError, TypeError) as exc:  # edited by hand into something else
        return [Finding(check="method_code", ok=True, skipped=True, section="method", detail=(
            f"skipped: reviews/{COMPARISON_FILE} is not a comparison aisci can read ({type(exc).__name__}); rerun "
            "the review phase"))]
    sources = study_sources(root, record.get("code_max_chars", 40000))
    who = OFFLINE_AUTHOR_LABEL if record["author"] == OFFLINE_ENGINE else record["author"]
    findings = []
    if record.get("sources_digest") != sources.digest:
        findings.append(Finding(check="method_code", ok=True, skipped=True, section="method", detail=(
            "note: the method text or the code changed since the comparison was made; its quotes are checked "
            "against the files as they are now (rerun the review phase to compare again)")))
    code_side = sources.code + "\n" + sources.run_parameters
    for item in comparison.items:
        paper_found = quoted_in(item.paper_quote, sources.method_text)
        code_found = quoted_in(item.code_quote, code_side) if item.code_quote.strip() else item.verdict == "not_in_code"
        evidence = {**item.model_dump(), "author": record["author"], "paper_quote_found": paper_found,
                    "code_quote_found": code_found}
        quotes = f'paper: "{item.paper_quote}"; code ({item.run}): "{item.code_quote or "nothing"}"'
        if not (paper_found and code_found):
            missing = " and ".join(side for side, found in (("paper", paper_found), ("code", code_found)) if not found)
            findings.append(Finding(check="method_code", ok=True, skipped=True, section="method", evidence=evidence,
                                    detail=f"not counted: {who} says {item.claim!r} is {item.verdict}, but its "
                                           f"{missing} quote is not in the {missing}"))
            continue
        findings.append(Finding(check="method_code", ok=item.verdict == "consistent", section="method",
                                evidence=evidence,
                                detail=f"{item.claim}: {item.verdict.replace('_', ' ')}; {quotes}. {item.explanation} "
                                       f"[{who}]"))
    if not comparison.items:
        findings.append(Finding(check="method_code", ok=True, skipped=True, section="method",
                                detail=f"{who} found no claim of the method it could quote from both sides"))
    return findings


def declared_splits(study_dir: str | Path) -> DataSplits | str | None:
    """The study template's [data] table; None when it declares none; a message when it is malformed."""
    root = Path(study_dir)
    try:
        config = tomllib.loads((root / "aisci.toml").read_text(encoding="utf-8"))
        manifest_path = root / config.get("study", {}).get("template", "template") / "manifest.toml"
        raw = tomllib.loads(manifest_path.read_text(encoding="utf-8")).get("data")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return f"the template's manifest could not be read ({exc})"
    if raw is None:
        return None
    try:
        return DataSplits.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"manifest.toml [data] {'.'.join(map(str, first['loc'])) or 'table'}: {first['msg']}"


def check_split_overlap(study_dir: str | Path) -> list[Finding]:
    """Where the template declares its data splits, every finished run records how many test examples
    also sit in its training split, and that fraction is at most max_overlap."""
    declared = declared_splits(study_dir)
    if isinstance(declared, str):
        return [Finding(check="data_split", ok=False, detail=declared)]
    record_name = declared.overlap_record if declared else DataSplits.model_fields["overlap_record"].default
    runs = results.experiment_records(study_dir)
    measured = {run: r for run, records in runs.items() for r in records if r.name == record_name}
    if declared is None and not measured:
        return [Finding(check="data_split", ok=True, skipped=True, detail=(
            "skipped: the template declares no data splits ([data] splits in manifest.toml) and no run records "
            f"{record_name}, so no train/test overlap probe ran"))]
    limit = declared.max_overlap if declared else 0.0
    findings = []
    for run in runs:
        record = measured.get(run)
        if record is None:
            findings.append(Finding(check="data_split", ok=False, detail=(
                f"{run}: the template declares its splits but the run records no {record_name} (have the notebook "
                f"call aisci.record({record_name!r}, aisci.review.overlap.overlap_fraction(train, test)))")))
        elif not isinstance(record.value, (int, float)):
            findings.append(Finding(check="data_split", ok=False, detail=f"{run}: {record_name} = {record.value!r} is not a number"))
        else:
            ok = record.value <= limit
            findings.append(Finding(check="data_split", ok=ok, evidence=record.model_dump(), detail=(
                f"{run}: {record.value:.1%} of the test examples also appear in the training split "
                f"({'within' if ok else 'above'} the allowed {limit:.1%}; {record.notebook}, cell {record.cell_index})")))
    return findings


def _strip_comments(tex: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", tex)


def _all_tex(paper: Path) -> str:
    return "\n".join(_strip_comments(p.read_text(encoding="utf-8")) for p in sorted(paper.rglob("*.tex")))
