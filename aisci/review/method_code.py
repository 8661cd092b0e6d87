"""The method section against the code that ran, with evidence quoted from both sides.

An LLM task (`review.method_code`) reads the paper's Method and Experimental Setup sections, the
code of the best run and the parameters cell of every run that executed, and lists claims with a quote
from each side and a verdict. Its offline implementation is a deterministic comparison, labelled as
such: every `name = value` (or "name of value") the method states for a parameter some run sets is
held against the values the runs' parameters cells set.

The review phase saves the comparison as reviews/method_code.json; the grounded checks
(`aisci.paper.checks.check_method_code`) turn it into findings and verify every quote against the
paper and code on disk. A quote that is not there is never counted against the paper: a model
that misquotes cannot fail a check.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from aisci.artifacts import ExperimentSummary, Paper
from aisci.fsutil import sha256_of
from aisci.llm.tasks import Task
from aisci.execution import build
from aisci.search.node import NodeStatus

COMPARISON_FILE = "method_code.json"  # in reviews/
SECTION_HEADINGS = re.compile(r"method|approach|setup|implementation", re.IGNORECASE)
OFFLINE_LABEL = ("offline engine: a deterministic comparison of the parameter values the method states with the "
                 "parameters cells that ran; no model read the paper or the code")
OFFLINE_AUTHOR_LABEL = "offline engine, deterministic comparison"
Verdict = Literal["consistent", "mismatch", "not_in_code"]


class MethodCodeItem(BaseModel):
    claim: str
    paper_quote: str
    code_quote: str
    run: str  # the run whose code is quoted
    verdict: Verdict
    explanation: str


class MethodCodeComparison(BaseModel):
    items: list[MethodCodeItem]
    summary: str


@dataclass(frozen=True)
class Sources:
    """What the comparison reads, built the same way by the phase and by the checks."""

    method_text: str
    best_run: str
    code: str
    run_parameters: str  # "# RUN (parameters cell, STATUS)" then the cell, for every run that executed
    parameter_cells: dict[str, str]  # run id -> its parameters cell

    @property
    def digest(self) -> str:
        return sha256_of([self.method_text, self.best_run, self.code, self.run_parameters])

    def task_inputs(self) -> dict[str, Any]:
        return {"method_text": self.method_text, "best_run": self.best_run, "code": self.code,
                "run_parameters": self.run_parameters}


# --- what is compared ------------------------------------------------------------------------------
def method_sections(paper_markdown: str) -> str:
    """The Method / Experimental Setup sections of the paper's Markdown, above the appendix."""
    body = paper_markdown.split(Paper.APPENDIX_MARK)[0]
    kept, keep = [], False
    for line in body.splitlines():
        if line.startswith("## "):
            keep = bool(SECTION_HEADINGS.search(line))
        if keep:
            kept.append(line)
    return "\n".join(kept).strip()


def study_sources(study_dir: str | Path, max_chars: int = 40000) -> Sources:
    root = Path(study_dir)
    paper = root / "paper" / "paper.md"
    method = method_sections(paper.read_text(encoding="utf-8")) if paper.exists() else ""
    summary = ExperimentSummary.load(root)
    # every run the paper may describe: a failed or timed-out run also set its parameters
    ran = [n for n in summary.nodes if n.notebook and (root / n.notebook).exists()]
    best = summary.best or next((n.id for n in ran if n.status == NodeStatus.DONE), "")
    ordered = sorted(ran, key=lambda n: n.id != best)  # the best run first
    cells, status, code = {}, {}, ""
    for node in ordered:
        status[node.id] = node.status.value
        nb = build.read(root / node.notebook)
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        tagged = [c.source for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
        cells[node.id] = tagged[0] if tagged else ""
        if node.id == best:
            code = "\n\n".join(f"# --- cell {i} ---\n{source}" for i, source in enumerate(sources, 1))
    if len(code) > max_chars:
        code = code[:max_chars] + "\n# [... the rest of the code is left out ...]"
    run_parameters = "\n\n".join(f"# {run} (parameters cell, {status[run]})\n{source}" for run, source in cells.items())
    return Sources(method, best, code, run_parameters, cells)


# --- the offline engine's comparison ---------------------------------------------------------------
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_VALUE = rf"(?P<value>{_NUMBER}|True|False|'[^'\n]*'|\"[^\"\n]*\")"
_BETWEEN = r"[\s`'\"*$\\{}()]*"


def assigned_values(source: str) -> dict[str, Any]:
    """name -> literal value of each `name = literal` in a parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values


def _assignment_line(source: str, name: str) -> str:
    return next((line.strip() for line in source.splitlines() if re.match(rf"\s*{re.escape(name)}\s*=", line)), "")


def _same(stated: str, value: Any) -> bool:
    """Does the text's value equal the run's, up to the digits the text shows?"""
    try:
        said = ast.literal_eval(stated)
    except (ValueError, SyntaxError):
        return False
    if isinstance(said, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        decimals = len(stated.split(".")[1]) if "." in stated and "e" not in stated.lower() else None
        shown = round(value, decimals) if decimals is not None else value
        return math.isclose(said, shown, rel_tol=1e-9, abs_tol=1e-12)
    return said == value


def offline_comparison(inputs: dict[str, Any]) -> MethodCodeComparison:
    """The deterministic comparison (see the module doc), from the task's inputs alone."""
    cells = _cells_from(inputs["run_parameters"])
    ran = {run: assigned_values(source) for run, source in cells.items()}
    # longest first (a name inside a longer one is matched after it), then by name: a set's order
    # follows the hash seed, and the review must come out the same on every replay
    names = sorted({name for values in ran.values() for name in values}, key=lambda name: (-len(name), name))
    text = inputs["method_text"].replace("\\_", "_")
    items, seen = [], set()
    for name in names:
        pattern = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w]){_BETWEEN}(?:=|:|\bis\b|\bof\b|\bset to\b)"
                             rf"{_BETWEEN}{_VALUE}")
        for match in pattern.finditer(text):
            stated = match.group("value")
            if (name, stated) in seen:
                continue
            seen.add((name, stated))
            line = _line_at(text, match.start())
            agreeing = [run for run, values in ran.items() if name in values and _same(stated, values[name])]
            if agreeing:
                run = agreeing[0]
                items.append(MethodCodeItem(
                    claim=f"{name} = {stated}", paper_quote=line, code_quote=_assignment_line(cells[run], name),
                    run=run, verdict="consistent", explanation=f"{run} ran with {name} = {ran[run][name]!r}."))
                continue
            setting = [run for run, values in ran.items() if name in values]
            run = setting[0]
            values = ", ".join(f"{ran[r][name]!r} ({r})" for r in setting)
            items.append(MethodCodeItem(
                claim=f"{name} = {stated}", paper_quote=line, code_quote=_assignment_line(cells[run], name),
                run=run, verdict="mismatch",
                explanation=f"the method states {name} = {stated}, but no run used it; the runs set {values}."))
    consistent = sum(item.verdict == "consistent" for item in items)
    summary = (f"{OFFLINE_LABEL}. {len(items)} parameter value(s) stated in the method, {consistent} of them set "
               "by a run that executed." if items else
               f"{OFFLINE_LABEL}. The method states no value for a parameter the runs set.")
    return MethodCodeComparison(items=items, summary=summary)


def _cells_from(run_parameters: str) -> dict[str, str]:
    cells: dict[str, list[str]] = {}
    current = None
    for line in run_parameters.splitlines():
        header = re.match(r"# (\S+) \(parameters cell(?:, [^)]*)?\)$", line)
        if header:
            current = header.group(1)
            cells[current] = []
        elif current is not None:
            cells[current].append(line)
    return {run: "\n".join(lines).strip() for run, lines in cells.items()}


def _line_at(text: str, position: int) -> str:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start:end if end >= 0 else len(text)].strip()


COMPARE = Task("review.method_code", "review", MethodCodeComparison, offline_comparison, temperature=0.0,
               max_tokens=4000)


# --- verifying the quotes ---------------------------------------------------------------------------
def _normal(text: str) -> str:
    return " ".join(text.replace("\\_", "_").split()).casefold()


def quoted_in(quote: str, source: str) -> bool:
    """Is the quote in the source, up to whitespace and case? An ellipsis may stand for omitted text."""
    parts = [_normal(p).strip(" `'\"") for p in re.split(r"\.\.\.|…", quote)]
    parts = [p for p in parts if p]
    if not parts:
        return False
    haystack, position = _normal(source), 0
    for part in parts:
        found = haystack.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True
