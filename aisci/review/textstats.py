"""Simple, model-free statistics of a paper's text: its sections and counts of the things a
reviewer looks for (tables, figures, equations, citations, error bars, baselines, ablations...).

The text is what `aisci.review.inputs` makes of a PDF, LaTeX or Markdown file: headings on their
own lines ("1 INTRODUCTION", "## 3.2 Method", "# Related work"), captions as "Figure 3: ...".
Everything here is a regular expression; nothing is learned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Section kinds and the words that name them in a heading (first match wins, in this order).
SECTION_KINDS: dict[str, tuple[str, ...]] = {
    "abstract": ("abstract",),
    "limitations": ("limitation",),
    "reproducibility": ("reproducibility",),
    "ethics": ("ethic", "broader impact", "societal impact"),
    "references": ("references", "bibliography"),
    "appendix": ("appendix", "appendices", "supplementary"),
    "introduction": ("introduction",),
    "related_work": ("related work", "background", "prior work", "literature", "related literature"),
    "experiments": ("experiment", "evaluation", "results", "empirical", "numerical stud", "simulation"),
    "conclusion": ("conclusion", "concluding", "discussion", "summary", "future work"),
    "method": ("method", "approach", "model", "framework", "algorithm", "proposed", "preliminar",
               "problem", "formulation", "setting", "analysis", "theory", "theoretical", "architecture"),
}

_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*)?"                 # Markdown heading marks / bold
    r"(?:(?:[A-Z]|\d+)(?:\.\d+)*\.?\s+)?"          # section number: "3", "3.2", "A.1", "4."
    r"([A-Za-z][A-Za-z0-9 ,:&'()/\-]{1,70}?)"      # the heading words
    r"(?:\*\*)?\s*$")
_NUMBERED_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\*\*)?\d+(?:\.\d+)*\.?\s+[A-Z]")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-']+")
_FIGURE = re.compile(r"\b(?:Figure|Fig\.)\s*~?(\d+)", re.IGNORECASE)
_TABLE = re.compile(r"\bTable\s*~?(\d+)", re.IGNORECASE)
_EQUATION_NUMBER = re.compile(r"\((\d{1,3})\)\s*$", re.MULTILINE)
_AUTHOR_YEAR = re.compile(r"\b[A-Z][A-Za-z\-]+(?: et al\.?| and [A-Z][A-Za-z\-]+)?,?\s*\(?(?:19|20)\d{2}[a-z]?\)?")
_NUMERIC_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,\u2013\-]\s*\d{1,3})*)\]")
_KEY_CITATION = re.compile(r"\[cite: ([^\]]+)\]")  # what inputs.tex_to_text makes of \cite{a,b}
_YEAR = re.compile(r"\b(?:19|20)\d{2}[a-z]?\b")
_ERROR_BAR = re.compile(r"±|\+/-|\bstd\b|standard deviation|standard error|confidence interval|error bars?|"
                        r"\bvariance across|\bmean and\b", re.IGNORECASE)
_SEEDS = re.compile(r"random seeds?|\bseeds\b|independent runs|\b\d+ runs\b|\b\d+ trials\b|averaged over",
                    re.IGNORECASE)
_BASELINE = re.compile(r"\bbaselines?\b|compared? (?:to|with|against)|state[- ]of[- ]the[- ]art|outperform",
                       re.IGNORECASE)
_ABLATION = re.compile(r"\bablat", re.IGNORECASE)
_REPRODUCIBILITY = re.compile(r"reproducib|code (?:is|will be) (?:publicly )?(?:available|released)|github\.com|"
                              r"source code|open[- ]source|hyper-?parameters?", re.IGNORECASE)
_THEOREM = re.compile(r"\b(?:Theorem|Lemma|Proposition|Corollary|Proof)\b")
_LIMITATION = re.compile(r"\blimitations?\b", re.IGNORECASE)
_DATASET = re.compile(r"\bdatasets?\b|\bbenchmarks?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Heading:
    line: int
    text: str
    kind: str | None
    numbered: bool


@dataclass(frozen=True)
class PaperStatistics:
    words: int
    body_words: int  # before the references
    headings: tuple[Heading, ...]
    sections: frozenset[str]  # kinds of section present
    figures: int
    tables: int
    equations: int
    citations: int  # in-text citations (author-year or [n]) in the body
    references: int  # years in the reference list: about one per entry
    error_bar_mentions: int
    seed_mentions: int
    baseline_mentions: int
    ablation_mentions: int
    reproducibility_mentions: int
    theorem_mentions: int
    limitation_mentions: int
    dataset_mentions: int

    def features(self) -> dict[str, float]:
        """The numbers a fitted rule uses (counts, not booleans, so the fit can weigh them)."""
        return {
            "words": float(self.body_words),
            "sections": float(sum(1 for h in self.headings if h.numbered)),
            "figures": float(self.figures),
            "tables": float(self.tables),
            "equations": float(self.equations),
            "citations": float(self.citations),
            "references": float(self.references),
            "error_bars": float(self.error_bar_mentions),
            "baselines": float(self.baseline_mentions),
            "ablations": float(self.ablation_mentions),
            "reproducibility": float(self.reproducibility_mentions),
            "theorems": float(self.theorem_mentions),
        }


FEATURE_NAMES = tuple(PaperStatistics(0, 0, (), frozenset(), *([0] * 13)).features())


def classify_heading(words: str) -> str | None:
    lowered = words.lower()
    for kind, names in SECTION_KINDS.items():
        if any(name in lowered for name in names):
            return kind
    return None


def find_headings(lines: list[str]) -> list[Heading]:
    headings = []
    for number, line in enumerate(lines):
        if len(line) > 90 or not line.strip():
            continue
        match = _HEADING.match(line)
        if not match:
            continue
        words = match.group(1).strip()
        numbered = bool(_NUMBERED_HEADING.match(line))
        is_markdown = line.lstrip().startswith("#")
        shouting = words.isupper() and len(words) > 3
        known = classify_heading(words)
        # A plain short line is a heading only if it is numbered, marked, all caps, or a known section name alone.
        if not (numbered or is_markdown or shouting or (known and len(words.split()) <= 4)):
            continue
        if numbered and len(words.split()) > 12:
            continue
        headings.append(Heading(line=number, text=words, kind=known, numbered=numbered))
    return headings


def _distinct_numbers(pattern: re.Pattern, text: str, limit: int = 200) -> int:
    return len({int(m) for m in pattern.findall(text) if 0 < int(m) <= limit})


def paper_statistics(text: str) -> PaperStatistics:
    lines = text.splitlines()
    headings = find_headings(lines)
    sections = {h.kind for h in headings if h.kind}
    if re.search(r"^\s*(?:\*\*)?abstract\b", text[:5000], re.IGNORECASE | re.MULTILINE):
        sections.add("abstract")  # "ABSTRACT" often runs into its first sentence
    references_start = next((h.line for h in headings if h.kind == "references"), None)
    appendix_start = next((h.line for h in headings if h.kind == "appendix"
                           and (references_start is None or h.line > references_start)), None)
    if references_start is None:
        body_lines, reference_lines = lines, []
    else:
        body_lines = lines[:references_start]
        reference_lines = lines[references_start:appendix_start]
    body = "\n".join(body_lines)
    numeric = sum(len(re.split(r"\s*[,\u2013\-]\s*", m)) for m in _NUMERIC_CITATION.findall(body))
    numeric += sum(len(keys.split(",")) for keys in _KEY_CITATION.findall(body))
    return PaperStatistics(
        words=len(_WORD.findall(text)),
        body_words=len(_WORD.findall(body)),
        headings=tuple(headings),
        sections=frozenset(sections),
        figures=_distinct_numbers(_FIGURE, text),
        tables=_distinct_numbers(_TABLE, text),
        equations=_distinct_numbers(_EQUATION_NUMBER, body),
        citations=len(_AUTHOR_YEAR.findall(body)) + numeric,
        references=len(_YEAR.findall("\n".join(reference_lines))),
        error_bar_mentions=len(_ERROR_BAR.findall(text)),
        seed_mentions=len(_SEEDS.findall(text)),
        baseline_mentions=len(_BASELINE.findall(text)),
        ablation_mentions=len(_ABLATION.findall(text)),
        reproducibility_mentions=len(_REPRODUCIBILITY.findall(text)),
        theorem_mentions=len(_THEOREM.findall(text)),
        limitation_mentions=len(_LIMITATION.findall(text)),
        dataset_mentions=len(_DATASET.findall(text)),
    )
