"""The writeup's checks of each section against the study: numbers, experiment claims,
citation keys, attributions, value macros, figure and table references, and chktex.

Each failed check is a Finding the fix task can act on (`detail` is written to be read
by a model and a person alike); the writeup records them all in paper/checks.json."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from aisci.literature.model import Reference
from aisci.paper import citations, claims, method_check, numbers
from aisci.paper.code_facts import CodeFacts
from aisci.paper.figures import Figure, referenced
from aisci.paper.sections import strip_comments

Status = Literal["open", "fixed", "removed", "passed", "accepted"]


class Finding(BaseModel):
    """One result of a writeup check. `ok` and `detail` follow aisci.paper.checks.Finding, so
    the paper panel and the review read both the same way."""

    check: str  # number | claim | citation | attribution | macro | reference | figure | latex | chktex
    ok: bool
    detail: str
    section: str | None = None
    severity: Literal["error", "warning"] = "error"
    status: Status = "open"
    snippet: str = ""
    suggestion: str | None = None
    bibtex: str | None = None  # an entry to add to references.bib (attribution)
    key: str | None = None  # the citation key concerned (citation, attribution)
    id: str = ""  # stable across runs while the problem stays the same: what a person accepts at the paper gate
    accepted: str | None = None  # the reason a person gave for accepting it at the paper gate

    def model_post_init(self, _context) -> None:
        if not self.id:
            self.id = problem_id(self.check, self.section, self.detail)

    @property
    def open(self) -> bool:
        """A problem that blocks the final PDF: a failed error-level check nobody accepted."""
        return not self.ok and self.severity == "error" and self.status != "accepted"

    def for_model(self) -> str:
        text = f"[{self.check}] {self.detail}"
        if self.snippet:
            text += f" In: \"{self.snippet}\""
        if self.suggestion:
            text += f" Suggestion: {self.suggestion}"
        return text


@dataclass
class PaperFacts:
    """What the sections are checked against."""

    facts: list[numbers.Fact]
    evidence: claims.Evidence
    bib: dict[str, Reference]
    macros: dict[str, str]  # value macro -> typeset value
    figures: list[Figure]
    labels: set[str] = field(default_factory=set)  # labels defined outside the sections (tab:results, sec:...)
    code: CodeFacts | None = None  # what the executed code did (optimizer, loss, batch, ...)
    template_text: str = ""  # the template's own description: its author's account of the method


def check_section(name: str, body: str, paper: PaperFacts) -> list[Finding]:
    """The failed checks of one section (the title and related work skip the claims check)."""
    found: list[Finding] = []
    for use in numbers.unmatched_numbers(body, paper.facts, paper.template_text):
        elsewhere = numbers.nearest_fact(use, paper.facts)
        found.append(Finding(
            check="number", ok=False, section=name, snippet=use.snippet(body),
            detail=(f"the number {use.text} matches no record, parameter or setting that its sentence is about"
                    + (f" (it equals {elsewhere.source}, which the sentence does not name)" if elsewhere else "")),
            suggestion="state results only through the value macros (\\R...) in a sentence that names what they "
                       "measure, or remove the number"))
    if name not in ("related_work", "title"):
        for claim in claims.unrun_claims(body, paper.evidence):
            found.append(Finding(check="claim", ok=False, section=name, snippet=_short(claim.sentence),
                                 detail=f"the text {claim.reason}",
                                 suggestion=f"remove or correct the claim about {claim.term!r}: describe only what "
                                            "the study's notebooks ran"))
    if name not in ("related_work", "title") and paper.code is not None:
        for mismatch in method_check.mismatches(body, paper.code, paper.template_text, name):
            found.append(Finding(check="method_code", ok=False, section=name, snippet=_short(mismatch.sentence),
                                 detail=f"the text {mismatch.reason}",
                                 suggestion=f"describe what the code ran, or correct {mismatch.term!r}"))
    for unknown in citations.unknown_keys(body, set(paper.bib)):
        found.append(Finding(
            check="citation", ok=False, section=name, key=unknown.key,
            detail=f"\\cite{{{unknown.key}}} is not in references.bib (a key nobody supplied: rejected)",
            suggestion=(f"did you mean {unknown.suggestion}?" if unknown.suggestion else
                        "cite only keys listed in references.bib, or drop the citation")))
    for issue in citations.misattributions(body, paper.bib):
        found.append(Finding(check="attribution", ok=False, section=name, snippet=_short(issue.sentence),
                             detail=issue.message, key=issue.suggestion.key, bibtex=issue.suggestion.bibtex,
                             suggestion=f"cite {issue.suggestion.short()} for {issue.method.name}"))
    text = strip_comments(body)
    for macro in dict.fromkeys(re.findall(r"\\(R[A-Z][A-Za-z]*)", text)):
        if macro not in paper.macros:
            close = difflib.get_close_matches(macro, sorted(paper.macros), n=1, cutoff=0.6)
            found.append(Finding(check="macro", ok=False, section=name, detail=f"\\{macro} is not a value macro "
                                 "(values.tex defines no such record)",
                                 suggestion=f"did you mean \\{close[0]}?" if close else "use a macro from values.tex"))
    defined = paper.labels | {f.label for f in paper.figures}
    for label in dict.fromkeys(re.findall(r"\\(?:[cC]ref|autoref|ref|eqref)\{([^}]*)\}", text)):
        if label not in defined and label not in labels_in(text):
            found.append(Finding(check="reference", ok=False, section=name,
                                 detail=f"\\ref{{{label}}} points to nothing the paper defines",
                                 suggestion="refer only to " + ", ".join(sorted(defined))))
    return found


def check_figures_referenced(bodies: dict[str, str], figures: list[Figure]) -> list[Finding]:
    """A figure no section refers to is flagged on the results section (where it belongs)."""
    text = "\n".join(strip_comments(b) for b in bodies.values())
    return [Finding(check="figure", ok=False, section="results",
                    detail=f"Figure {fig.label} ({fig.caption}) is never referenced in the text",
                    suggestion=f"refer to it as Figure~\\ref{{{fig.label}}} where the results discuss it")
            for fig in figures if not referenced(fig, text)]


def passes(name: str) -> Finding:
    """The summary line of a section that passed every check."""
    return Finding(check="section", ok=True, section=name, status="passed",
                   detail=f"sections/{name}.tex: numbers, claims, citations and references check out")


def problem_id(check: str, section: str | None, detail: str) -> str:
    """"P" and 8 hex digits of the problem's check, section and detail."""
    return "P" + hashlib.sha256(f"{check}|{section or ''}|{detail}".encode()).hexdigest()[:8]


def with_acceptances(findings: list[Finding], accepted: dict[str, str]) -> list[Finding]:
    """Findings a person accepted at the paper gate (problem id -> reason) marked so."""
    return [f.model_copy(update={"status": "accepted", "accepted": accepted[f.id]})
            if not f.ok and f.id in accepted else f for f in findings]


def labels_in(text: str) -> set[str]:
    return set(re.findall(r"\\label\{([^}]*)\}", text))


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
