"""The offline reviewer: deterministic and model-free. No language model reads the paper; a stated
checklist of text statistics fills the NeurIPS review form, and every score says how it was reached.

Scoring rule (the whole of it):
  1. Each checklist item below measures one number from the text (`aisci.review.textstats`) and
     passes when that number reaches its minimum. It feeds one area with its weight.
  2. Area fraction = passed weight / total weight of the area's items. Each 1-4 sub-score is
     1 + round(3 x fraction) of its area:
        presentation -> Presentation, Clarity
        soundness    -> Soundness, Quality
        contribution -> Contribution, Significance, and Originality capped at 3
                        (novelty cannot be judged from counts, so never "excellent")
  3. Overall (1-10) comes from the fraction of all weight passed, through OVERALL_CUTS: the
     smallest fraction that earns each Overall score. Decision = Accept when Overall >= 6.
  4. Confidence is 1 ("educated guess"): nothing here understands the paper.
  5. A study's own paper (the review phase, or `aisci review` on a file in a study's paper/) is scored
     only on what the study can show: seeds from the replicas of a configuration, error bars only
     with at least 2 seeds, ablations from ablation nodes, datasets from the runs; and while the
     writeup's checks leave an integrity problem open, Overall is at most OPEN_PROBLEM_CAP.

The item minimums and OVERALL_CUTS were set by looking only at the distribution of these numbers
over the 400 train papers of iclr2022-review-bench, never at the 100 test papers; the cuts put the
6/5 boundary near where the venue's accept rate (about 37%) would fall.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from aisci.fsutil import sha256_of
from aisci.review.form import ReviewForm
from aisci.review.textstats import PaperStatistics, paper_statistics
from aisci.review.verified import VerifiedFacts

OFFLINE_LABEL = "Offline engine (model-free checklist reviewer; no language model read this paper)"


@dataclass(frozen=True)
class Check:
    key: str
    area: str  # presentation | soundness | contribution
    weight: int
    description: str  # what a passing paper does
    measure_label: str  # what the number counts
    measure: Callable[[PaperStatistics], float]
    minimum: float
    question: str  # asked when the item fails


def _has(kind: str) -> Callable[[PaperStatistics], float]:
    return lambda stats: float(kind in stats.sections)


# key                area          weight  description / what is counted / minimum / question on failure
CHECKLIST: tuple[Check, ...] = (
    Check("abstract", "presentation", 1, "opens with an abstract",
          "abstract section found", _has("abstract"), 1, "Where is the abstract?"),
    Check("introduction", "presentation", 1, "has an introduction section",
          "introduction section found", _has("introduction"), 1, "Can you add an introduction that states the problem and contributions?"),
    Check("conclusion", "presentation", 1, "ends with a conclusion or discussion section",
          "conclusion section found", _has("conclusion"), 1, "What are the conclusions and open problems?"),
    Check("figures", "presentation", 2, "illustrates its method or results with figures",
          "distinct figures referenced", lambda s: s.figures, 4, "Can the main results be shown in figures?"),
    Check("length", "presentation", 1, "is a full-length paper (body of at least 3,500 words)",
          "words before the references", lambda s: s.body_words, 3500, "Is the paper complete? The body is short."),
    Check("structure", "presentation", 1, "is organised into at least 6 numbered sections and subsections",
          "numbered headings", lambda s: sum(1 for h in s.headings if h.numbered), 6, "Can the paper be organised into clearer sections?"),
    Check("method", "soundness", 2, "describes its method in a section of its own",
          "method / approach / model section found", _has("method"), 1, "Which section describes the proposed method?"),
    Check("experiments", "soundness", 2, "has an experiments or evaluation section",
          "experiments / evaluation / results section found", _has("experiments"), 1, "How is the method evaluated empirically?"),
    Check("tables", "soundness", 2, "reports quantitative results in tables",
          "distinct tables referenced", lambda s: s.tables, 3, "Can you report the quantitative results in tables?"),
    Check("error_bars", "soundness", 2, "reports spread of its numbers (std, +/-, confidence intervals)",
          "mentions of std / +/- / confidence intervals / error bars", lambda s: s.error_bar_mentions, 4, "How much do the numbers vary across runs? Please report std or confidence intervals."),
    Check("seeds", "soundness", 1, "repeats experiments over several seeds or runs",
          "mentions of seeds / runs / trials", lambda s: s.seed_mentions, 2, "How many seeds or independent runs are the numbers averaged over?"),
    Check("baselines", "soundness", 2, "compares against baselines",
          "mentions of baselines / comparisons / state of the art", lambda s: s.baseline_mentions, 10, "Which baselines does the method beat, under the same budget?"),
    Check("ablations", "soundness", 1, "ablates its components",
          "mentions of ablation", lambda s: s.ablation_mentions, 2, "Which component is responsible for the gain? An ablation study would show it."),
    Check("reproducibility", "soundness", 1, "gives what is needed to reproduce it (code, hyperparameters, statement)",
          "mentions of code release / hyperparameters / reproducibility", lambda s: s.reproducibility_mentions, 8, "Will the code be released, and are all hyperparameters given?"),
    Check("related_work", "contribution", 2, "positions itself in a related-work or background section",
          "related work / background section found", _has("related_work"), 1, "How does this work differ from prior work?"),
    Check("citations", "contribution", 2, "engages with the literature (at least 80 in-text citations)",
          "in-text citations before the references", lambda s: s.citations, 80, "Which closely related work is missing from the discussion?"),
    Check("references", "contribution", 1, "has a reference list of at least 60 entries",
          "years in the reference list (about one per entry)", lambda s: s.references, 60, "Is the reference list complete?"),
    Check("datasets", "contribution", 1, "evaluates on several datasets or benchmarks",
          "mentions of datasets / benchmarks", lambda s: s.dataset_mentions, 20, "Does the method generalise beyond the datasets shown?"),
    Check("theory", "contribution", 1, "states formal results (theorems, lemmas, proofs)",
          "mentions of Theorem / Lemma / Proposition / Corollary / Proof", lambda s: s.theorem_mentions, 3, "Is there a formal guarantee behind the method?"),
    Check("limitations", "contribution", 1, "discusses its limitations",
          "limitations section or mentions of limitations", lambda s: s.limitation_mentions + 3 * ("limitations" in s.sections), 2, "What are the limitations of the method?"),
)

AREAS = ("presentation", "soundness", "contribution")
# Overall score -> the smallest fraction of the total checklist weight that earns it.
# 10 ("award quality") is out of reach on purpose: counting things cannot find it.
OVERALL_CUTS: dict[int, float] = {2: 0.30, 3: 0.45, 4: 0.55, 5: 0.65, 6: 0.77, 7: 0.85, 8: 0.92, 9: 0.97, 10: 1.01}


@dataclass(frozen=True)
class CheckResult:
    key: str
    area: str
    weight: int
    passed: bool
    value: float
    minimum: float
    reason: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class OfflineAssessment:
    form: ReviewForm
    checks: tuple[CheckResult, ...]
    area_fractions: dict[str, float]
    total_fraction: float


def run_checklist(stats: PaperStatistics, verified: VerifiedFacts | None = None) -> tuple[CheckResult, ...]:
    """Each item measured from the text, except, for a study's own paper (`verified`), the items the
    study can show: those are measured from its runs, never from what the text claims."""
    results = []
    for check in CHECKLIST:
        value, minimum, label = float(check.measure(stats)), check.minimum, check.measure_label
        if verified is not None and check.key in VERIFIED_ITEMS:
            value, minimum, label = VERIFIED_ITEMS[check.key](stats, verified)
        passed = value >= minimum
        verdict = "passes" if passed else "fails"
        reason = (f"{verdict}: {check.description} — {label}: {value:g} "
                  f"(needs at least {minimum:g})")
        results.append(CheckResult(check.key, check.area, check.weight, passed, value, minimum, reason))
    return tuple(results)


# item -> (value, minimum, what is counted) from the study's runs: a claim in the text earns nothing
VERIFIED_ITEMS: dict[str, Callable[[PaperStatistics, VerifiedFacts], tuple[float, float, str]]] = {
    "seeds": lambda s, v: (float(v.seeds), 2, "seeds of the most-replicated configuration, counted from the runs"),
    "error_bars": lambda s, v: (float(s.error_bar_mentions if v.seeds >= 2 else 0), 4,
                                "mentions of spread, counted only when a configuration ran at least 2 seeds"),
    "ablations": lambda s, v: (float(v.ablation_nodes), 1, "ablation nodes that ran"),
    "datasets": lambda s, v: (float(v.datasets), 2, "datasets the runs used"),
}
OPEN_PROBLEM_CAP = 3  # the most Overall a study's paper gets while an integrity problem is open


def _fraction(results: tuple[CheckResult, ...], area: str | None = None) -> float:
    chosen = [r for r in results if area is None or r.area == area]
    return sum(r.weight for r in chosen if r.passed) / sum(r.weight for r in chosen)


def sub_score(fraction: float) -> int:
    return 1 + round(3 * fraction)


def overall_score(fraction: float) -> int:
    return max([1] + [score for score, cut in OVERALL_CUTS.items() if fraction >= cut])


# a title line ending in one of these goes on on the next line ("... with a small transformer: how")
_TITLE_CONTINUES = {"a", "an", "the", "of", "for", "with", "on", "in", "to", "and", "or", "how", "via", "from", "by",
                    "at", "as", "is", "are", "what", "why", "when", "beyond", "towards", "toward"}


def _title(text: str) -> str:
    """The title: the first line of the text, joined with the lines after it while it plainly
    goes on there (a PDF breaks a long title over two or three lines)."""
    lines = [stripped for line in text.splitlines()
             if len(stripped := line.strip().lstrip("#").strip().strip("*").strip()) > 3]
    if not lines:
        return "(untitled)"
    title = lines[0]
    for following in lines[1:3]:
        if title[-1] in "∗*†‡":
            break  # a footnote mark (\\thanks) ends the title
        last = title.split()[-1].lower()
        if title.endswith((":", "-", ",")) or last in _TITLE_CONTINUES:
            title += " " + following
        else:
            break
    return title.rstrip("*∗†‡ ")[:150]


def _abstract_opening(text: str) -> str:
    match = re.search(r"^\s*(?:#+\s*)?(?:\*\*)?abstract(?:\*\*)?[\s:.]*([^#]{40,1200}?[.!?])(?:\s|$)",
                      text[:8000], re.IGNORECASE | re.MULTILINE | re.DOTALL)
    if not match:
        return ""
    return " ".join(match.group(1).split())[:400]


def checklist_overall(stats: PaperStatistics) -> int:
    """The Overall score the checklist gives, without writing the rest of the review."""
    return overall_score(_fraction(run_checklist(stats)))


class OfflineChecklistReviewer:
    """`review(paper_text) -> ReviewForm`, by the checklist above."""

    name = "offline"
    version = "checklist-1-" + sha256_of(repr([(c.key, c.area, c.weight, c.minimum) for c in CHECKLIST])
                                          + repr(OVERALL_CUTS))[:12]

    def assess(self, paper_text: str, verified: VerifiedFacts | None = None) -> OfflineAssessment:
        stats = paper_statistics(paper_text)
        checks = run_checklist(stats, verified)
        fractions = {area: _fraction(checks, area) for area in AREAS}
        total = _fraction(checks)
        overall = overall_score(total)
        problems = list(verified.open_problems) if verified else []
        if problems:
            overall = min(overall, OPEN_PROBLEM_CAP)
        passed = [c for c in checks if c.passed]
        failed = [c for c in checks if not c.passed]
        questions = {c.key: c.question for c in CHECKLIST}
        area_text = ", ".join(f"{area} {fractions[area]:.0%}" for area in AREAS)
        opening = _abstract_opening(paper_text)
        summary = (f"{OFFLINE_LABEL}. Paper: {_title(paper_text)}. "
                   + (f"Its abstract opens: \"{opening}\" " if opening else "")
                   + f"Checklist: {len(passed)} of {len(checks)} items pass ({total:.0%} of the weight; {area_text}); "
                   f"Overall {overall} by the stated mapping"
                   + (f", capped at {OPEN_PROBLEM_CAP} while {len(problems)} integrity problem"
                      f"{'s' if len(problems) != 1 else ''} of the writeup stay open." if problems else ".")
                   + (" Seeds, ablations and datasets are counted from the study's runs, not from the text."
                      if verified else ""))
        has_limitations = "limitations" in stats.sections or stats.limitation_mentions > 0
        form = ReviewForm(
            summary=summary,
            strengths=[f"[checklist:{c.key}] {c.reason}" for c in passed],
            weaknesses=[f"[integrity] {p}" for p in problems] + [f"[checklist:{c.key}] {c.reason}" for c in failed],
            originality=min(3, sub_score(fractions["contribution"])),
            quality=sub_score(fractions["soundness"]),
            clarity=sub_score(fractions["presentation"]),
            significance=sub_score(fractions["contribution"]),
            questions=[questions[c.key] for c in failed],
            limitations=[("The paper discusses limitations (a limitations section or mentions were found)."
                          if has_limitations else "No discussion of limitations was found.")
                         + " The offline reviewer cannot judge whether the discussion is adequate."],
            ethical_concerns=False,  # a checklist of counts cannot detect ethical problems; a person must
            soundness=sub_score(fractions["soundness"]),
            presentation=sub_score(fractions["presentation"]),
            contribution=sub_score(fractions["contribution"]),
            overall=overall,
            confidence=1,
            decision="Accept" if overall >= 6 else "Reject",
        )
        return OfflineAssessment(form=form, checks=checks, area_fractions=fractions, total_fraction=total)

    def review(self, paper_text: str, verified: VerifiedFacts | None = None) -> ReviewForm:
        return self.assess(paper_text, verified).form

    def review_with_evidence(self, paper_text: str, verified: VerifiedFacts | None = None) -> tuple[ReviewForm, dict]:
        assessment = self.assess(paper_text, verified)
        return assessment.form, {"checklist": [c.as_dict() for c in assessment.checks],
                                 "area_fractions": assessment.area_fractions,
                                 "total_fraction": assessment.total_fraction}
