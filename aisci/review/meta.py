"""Deterministic meta-review: N ReviewForms -> one MetaReview (no area-chair model involved).

Scores are averaged; the decision is mean Overall >= threshold, or a calibrated rule applied to
the mean sub-scores; strengths and weaknesses are merged, duplicates folded together and ordered
by how many reviewers raised them (then by first appearance), so the same reviews always give the
same meta-review.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from aisci.errors import AisciError
from aisci.review.benchdata import form_to_row
from aisci.review.form import MetaReview, ReviewForm
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


def meta_review(reviews: list[ReviewForm], *, threshold: float = 6.0,
                rule: LogisticRule | None = None) -> MetaReview:
    if not reviews:
        raise MetaReviewError("a meta-review needs at least one review")
    table = pd.DataFrame([form_to_row(f"review-{i}", form) for i, form in enumerate(reviews, 1)])
    means = table[[name.capitalize() for name in SUB_SCORES] + ["Overall"]].mean()
    overall = float(means["Overall"])
    votes = Counter(form.decision for form in reviews)
    score_range = f"{int(table['Overall'].min())}-{int(table['Overall'].max())}"
    reasons = [f"mean Overall {overall:.2f} over {len(reviews)} review(s) (range {score_range})",
               "mean sub-scores: " + ", ".join(f"{name.capitalize()} {means[name.capitalize()]:.2f}" for name in SUB_SCORES),
               f"reviewers' own decisions: {votes.get('Accept', 0)} Accept, {votes.get('Reject', 0)} Reject"]
    if rule is None:
        accept = overall >= threshold
        reasons.append(f"decision rule: mean Overall {'>=' if accept else '<'} {threshold:g}")
        rule_text = f"mean Overall >= {threshold:g}"
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
