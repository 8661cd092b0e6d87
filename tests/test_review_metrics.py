"""Metrics against values computed by hand, and the bootstrap's intervals."""

import math

import numpy as np
import pytest

from aisci.review.metrics import binary_metrics, bootstrap_intervals, roc_auc

# 5 papers: accepted = first two. Predictions: TP=1 (paper 0), FN=1 (paper 1), FP=1 (paper 2), TN=2.
Y = [True, True, False, False, False]
PRED = [True, False, True, False, False]
SCORES = [3, 2, 2, 1, 1]


def test_confusion_metrics_by_hand():
    m = binary_metrics(Y, PRED, SCORES)
    assert (m.tp, m.fp, m.tn, m.fn) == (1, 1, 2, 1)
    assert m.accuracy == pytest.approx(3 / 5)
    assert m.balanced_accuracy == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert m.f1 == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert m.fpr == pytest.approx(1 / 3)
    assert m.fnr == pytest.approx(1 / 2)


def test_auc_counts_ties_half():
    # accept scores 3, 2 vs reject 2, 1, 1: pairs won 3 + (0.5 + 2) = 5.5 of 6
    assert roc_auc(Y, SCORES) == pytest.approx(5.5 / 6)
    assert roc_auc([True, False], [1, 1]) == pytest.approx(0.5)
    assert roc_auc([True, False], [0, 1]) == pytest.approx(0.0)


def test_undefined_metrics_are_nan_and_f1_without_positives_is_zero():
    m = binary_metrics([False, False], [False, False])
    assert math.isnan(m.roc_auc) and math.isnan(m.fnr) and math.isnan(m.balanced_accuracy)
    assert m.f1 == 0.0 and m.accuracy == 1.0


def test_without_scores_the_decisions_rank_the_papers():
    m = binary_metrics(Y, PRED)
    assert m.roc_auc == pytest.approx(m.balanced_accuracy)


def test_bootstrap_is_seeded_and_contains_the_point_estimate():
    rng = np.random.default_rng(1)
    y = rng.random(200) < 0.4
    scores = y + rng.normal(0, 0.8, 200)
    pred = scores > 0.5
    point = binary_metrics(y, pred, scores).as_dict()
    first = bootstrap_intervals(y, pred, scores, n_boot=300, seed=7)
    assert first == bootstrap_intervals(y, pred, scores, n_boot=300, seed=7)
    assert first != bootstrap_intervals(y, pred, scores, n_boot=300, seed=8)
    for name, (low, high) in first.items():
        assert low <= point[name] <= high, name
        assert high - low > 0


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError):
        binary_metrics([True], [True, False])
