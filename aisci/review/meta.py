"""Deterministic meta-review: N ReviewForms -> one MetaReview (no area-chair model involved).

Scores are averaged; the decision is mean Overall >= threshold, or a calibrated rule applied to
the mean sub-scores; strengths and weaknesses are merged, duplicates folded together and ordered
by how many reviewers raised them (then by first appearance), so the same reviews always give the
same meta-review.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from aisci.errors import AisciError
from aisci.review.form import MetaReview, ReviewForm

if TYPE_CHECKING:  # pandas (and the rules built on it) load when a meta-review is made
    from aisci.review.rules import LogisticRule

SUB_SCORES = ("soundness", "presentation", "contribution", "originality", "quality", "clarity",
              "significance", "confidence")


class MetaReviewError(AisciError):
    """A meta-review was asked of no reviews."""


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def merge_points(lists: list[list[str]], n_reviews: int) -> list[str]:
    counts: Counter[str] = Counter()
    first_text: dict[str, str] = {}
    order: dict[str, int] = {}
    for points in lists:
        for point in dict.fromkeys(_key(p) for p in points if p.strip()):  # a reviewer counts once per point
            counts[point] += 1
        for point in points:
            key = _key(point)
            if key and key not in first_text:
                first_text[key] = point.strip()
                order[key] = len(order)
    ranked = sorted(first_text, key=lambda key: (-counts[key], order[key]))
    if n_reviews == 1:
        return [first_text[key] for key in ranked]
    return [f"{first_text[key]} (raised by {counts[key]} of {n_reviews} reviewers)" for key in ranked]


def mean_scores(reviews: list[ReviewForm], extra: dict[str, float] | None = None) -> pd.Series:
    """The reviews' mean sub-scores and Overall, in the review table's column names, plus `extra`
    columns a fitted rule may read (the text model's `text_score`)."""
    import pandas as pd

    from aisci.review.benchdata import form_to_row

    table = pd.DataFrame([form_to_row(f"review-{i}", form) for i, form in enumerate(reviews, 1)])
    means = table[[name.capitalize() for name in SUB_SCORES] + ["Overall"]].mean()
    for name, value in (extra or {}).items():
        means[name] = float(value)
    return means


def decide_by_rule(meta: MetaReview, reviews: list[ReviewForm], rule: LogisticRule,
                   extra: dict[str, float] | None = None) -> MetaReview:
    """A meta-review whose decision is the fitted rule's ([review] rule = "calibrated:PATH"), whoever
    wrote it; its Overall stays (the checks lower it after this)."""
    probability = float(rule.probabilities(mean_scores(reviews, extra).to_frame().T).iloc[0])
    decision = "Accept" if probability >= rule.cutoff else "Reject"
    reason = (f"decision by the fitted rule ({rule.name}, {', '.join(rule.features)}): p(accept) = "
              f"{probability:.2f} {'>=' if decision == 'Accept' else '<'} cutoff {rule.cutoff:g}: {decision}")
    if decision != meta.decision:
        reason += f" (the meta-review said {meta.decision})"
    return meta.model_copy(update={"decision": decision, "reasons": [*meta.reasons, reason]})


def meta_review(reviews: list[ReviewForm], *, threshold: float = 6.0,
                rule: LogisticRule | None = None, extra: dict[str, float] | None = None) -> MetaReview:
    if not reviews:
        raise MetaReviewError("a meta-review needs at least one review")
    import pandas as pd

    from aisci.review.benchdata import form_to_row

    table = pd.DataFrame([form_to_row(f"review-{i}", form) for i, form in enumerate(reviews, 1)])
    means = mean_scores(reviews, extra)
    overall = float(means["Overall"])
    votes = Counter(form.decision for form in reviews)
    score_range = f"{int(table['Overall'].min())}-{int(table['Overall'].max())}"
    reasons = [f"mean Overall {overall:.2f} over {len(reviews)} review(s) (range {score_range})",
               "mean sub-scores: " + ", ".join(f"{name.capitalize()} {means[name.capitalize()]:.2f}" for name in SUB_SCORES),
               f"reviewers' own decisions: {votes.get('Accept', 0)} Accept, {votes.get('Reject', 0)} Reject"]
    if rule is None:
        accept = overall >= threshold
        reasons.append(f"decision rule: mean Overall {'>=' if accept else '<'} {threshold:g}")
        rule_text = f"the rule Accept when mean Overall >= {threshold:g}"
    else:
        probability = float(rule.probabilities(means.to_frame().T).iloc[0])
        accept = probability >= rule.cutoff
        reasons.append(f"decision rule: calibrated logistic rule on the mean scores, p(accept) = {probability:.2f} "
                       f"({'>=' if accept else '<'} cutoff {rule.cutoff:g})")
        rule_text = "a calibrated logistic rule"
    decision = "Accept" if accept else "Reject"
    summary = (f"Deterministic meta-review (no area-chair model) of {len(reviews)} review(s): mean Overall "
               f"{overall:.2f}; {decision} by {rule_text}. First reviewer's summary: {reviews[0].summary}")
    return MetaReview(
        summary=summary,
        strengths=merge_points([form.strengths for form in reviews], len(reviews)),
        weaknesses=merge_points([form.weaknesses for form in reviews], len(reviews)),
        overall=min(10.0, max(1.0, overall)),
        decision=decision,
        reasons=reasons,
    )


def apply_findings(meta: MetaReview, findings: list, *, threshold: float, cap: int = 3) -> MetaReview:
    """The grounded checks' verdict on a meta-review: Overall loses one point per failed check, at most
    `cap` (a skipped check counts neither way); an Accept whose lowered Overall falls below the threshold
    becomes a Reject. Checks can lower a decision, never raise one. Failed checks join the weaknesses."""
    failed = [f for f in findings if not f.ok and not f.skipped]
    counted = [f for f in findings if not f.skipped]
    skipped = len(findings) - len(counted)
    if not findings:
        alone = "no grounded checks ran (the paper was reviewed on its own, without the notebooks behind it)"
        return meta.model_copy(update={"reasons": [*meta.reasons, alone]})
    penalty = min(cap, len(failed))
    overall = max(1.0, round(meta.overall - penalty, 2))
    decision = meta.decision
    reasons = list(meta.reasons)
    skipped_note = f" ({skipped} skipped)" if skipped else ""
    if failed:
        reasons.append(f"{len(failed)} of {len(counted)} grounded checks failed{skipped_note}: Overall lowered by "
                       f"{penalty} (one point per failed check, at most {cap}, never below 1) from {meta.overall:g} "
                       f"to {overall:g}")
        if decision == "Accept" and overall < threshold:
            decision = "Reject"
            reasons.append(f"decision lowered to Reject: Overall {overall:g} after the checks is below {threshold:g}")
    else:
        reasons.append(f"all {len(counted)} grounded checks pass{skipped_note}")
    summary = meta.summary + (f" Grounded checks: {len(counted) - len(failed)} of {len(counted)} pass"
                              f"{skipped_note}" + (f"; Overall lowered by {penalty}." if penalty else "."))
    integrity = open_integrity_problems(findings)
    if integrity:
        # a claim the checks cannot back never raises a score: with one open, the paper is not acceptable
        capped = min(overall, float(threshold) - 1)
        reasons.append(f"{len(integrity)} integrity problem{'s' if len(integrity) != 1 else ''} of the writeup "
                       f"open: Overall capped at {capped:g} and the decision is Reject until each is fixed or "
                       "accepted by a person")
        overall, decision = max(1.0, capped), "Reject"
        summary += (f" Open integrity problems of the writeup ({len(integrity)}): "
                    + "; ".join(f.detail for f in integrity[:5]) + ("; ..." if len(integrity) > 5 else "") + ".")
    return meta.model_copy(update={
        "overall": overall, "decision": decision, "reasons": reasons, "summary": summary,
        "weaknesses": [*meta.weaknesses, *(f"[grounded check failed: {f.check}] {f.detail}" for f in failed)]})


def open_integrity_problems(findings: list) -> list:
    """The writeup's problems nobody fixed or accepted (aisci.paper.checks.check_writeup), and checks made
    on sections that changed since."""
    return [f for f in findings if not f.ok and not f.skipped and f.check.startswith("writeup")
            and (f.evidence or {}).get("open", True)]


def _half_up(value: float) -> int:
    return int(value + 0.5)  # scores are positive; Python's round() would take 6.5 to 6


def ensemble_form(meta: MetaReview, reviews: list[ReviewForm]) -> ReviewForm:
    """One ReviewForm standing for an ensemble (what `Reviewer.review` returns): the meta-review's text,
    Overall and decision, the reviewers' mean sub-scores and confidence, their questions and limitations."""
    import pandas as pd

    table = pd.DataFrame([form.model_dump() for form in reviews])
    mean = {name: min(4, max(1, _half_up(table[name].mean())))
            for name in ("originality", "quality", "clarity", "significance", "soundness", "presentation",
                         "contribution")}
    return ReviewForm(
        summary=meta.summary, strengths=meta.strengths, weaknesses=meta.weaknesses,
        questions=merge_points([form.questions for form in reviews], len(reviews)),
        limitations=merge_points([form.limitations for form in reviews], len(reviews)),
        ethical_concerns=any(form.ethical_concerns for form in reviews),
        overall=min(10, max(1, _half_up(meta.overall))),
        confidence=min(5, max(1, _half_up(table["confidence"].mean()))),
        decision=meta.decision, **mean)
