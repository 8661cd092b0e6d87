"""The deterministic meta-review: N review forms into one decision."""

import pytest

from aisci.review.form import ReviewForm
from aisci.review.meta import MetaReviewError, meta_review
from aisci.review.rules import LogisticRule


def _form(overall, soundness=3, strengths=("clear writing",), weaknesses=("no ablation",), decision="Reject"):
    return ReviewForm(summary=f"review with overall {overall}", strengths=list(strengths),
                      weaknesses=list(weaknesses), originality=3, quality=3, clarity=3, significance=3,
                      questions=[], limitations=[], ethical_concerns=False, soundness=soundness,
                      presentation=3, contribution=3, overall=overall, confidence=4, decision=decision)


def test_mean_score_threshold_and_merged_points():
    reviews = [_form(6, strengths=["Clear writing.", "strong baselines"]),
               _form(7, strengths=["clear writing"], weaknesses=["No ablation", "small datasets"]),
               _form(4, weaknesses=["small datasets"], decision="Reject")]
    meta = meta_review(reviews)
    assert meta.overall == pytest.approx(17 / 3) and meta.decision == "Reject"
    assert meta.strengths[0] == "Clear writing. (raised by 3 of 3 reviewers)"
    assert meta.strengths[1] == "strong baselines (raised by 1 of 3 reviewers)"
    assert [w.split(" (")[0] for w in meta.weaknesses] == ["no ablation", "small datasets"]
    assert meta.summary.startswith("Deterministic meta-review (no area-chair model) of 3 review(s)")
    assert any("range 4-7" in reason for reason in meta.reasons)
    assert meta == meta_review(reviews)
    assert meta_review(reviews, threshold=5.5).decision == "Accept"


def test_calibrated_rule_decides_on_mean_scores():
    rule = LogisticRule(features=["Soundness"], center=[2.5], scale=[1.0], coefficients=[4.0], intercept=0.0)
    strong = meta_review([_form(5, soundness=4), _form(5, soundness=3)])
    assert strong.decision == "Reject"  # by the default Overall threshold
    calibrated = meta_review([_form(5, soundness=4), _form(5, soundness=3)], rule=rule)
    assert calibrated.decision == "Accept" and "p(accept) = 0.98" in calibrated.reasons[-1]


def test_no_reviews_is_an_error():
    with pytest.raises(MetaReviewError):
        meta_review([])
