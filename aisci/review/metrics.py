"""Binary-decision metrics for a reviewer against accept/reject labels, and bootstrap intervals.

Definitions (accept is the positive class):
  accuracy           (TP + TN) / N
  balanced accuracy  (TPR + TNR) / 2
  F1                 2 TP / (2 TP + FP + FN), 0 when that denominator is 0
  FPR                FP / (FP + TN)   rejected papers the reviewer accepted
  FNR                FN / (FN + TP)   accepted papers the reviewer rejected
  ROC AUC            Mann-Whitney: P(score of a random accept > score of a random reject),
                     ties counted half (average ranks)
A metric whose denominator is empty (e.g. no accepted paper in a bootstrap sample) is NaN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import rankdata

METRIC_NAMES = ("accuracy", "balanced_accuracy", "f1", "roc_auc", "fpr", "fnr")


@dataclass(frozen=True)
class BinaryMetrics:
    n: int
    n_accept: int
    tp: int
    fp: int
    tn: int
    fn: int
    accuracy: float
    balanced_accuracy: float
    f1: float
    roc_auc: float
    fpr: float
    fnr: float

    def as_dict(self) -> dict:
        return asdict(self)


def _ratio(numerator, denominator):
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _confusion_rates(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Counts and rates along the last axis, so one call handles a whole bootstrap matrix."""
    tp = np.sum(y_true & y_pred, axis=-1)
    fp = np.sum(~y_true & y_pred, axis=-1)
    tn = np.sum(~y_true & ~y_pred, axis=-1)
    fn = np.sum(y_true & ~y_pred, axis=-1)
    tpr = _ratio(tp, tp + fn)
    tnr = _ratio(tn, tn + fp)
    f1_denominator = 2 * tp + fp + fn
    return {
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
        "balanced_accuracy": (tpr + tnr) / 2,
        "f1": np.where(f1_denominator > 0, _ratio(2 * tp, f1_denominator), 0.0),
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, fn + tp),
    }


def roc_auc(y_true, scores) -> float:
    """ROC AUC with ties counted half; NaN when only one class is present."""
    return float(_auc_rows(np.asarray(y_true, dtype=bool)[None, :], np.asarray(scores, dtype=float)[None, :])[0])


def _auc_rows(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    ranks = rankdata(scores, axis=-1)  # average ranks: a tie between an accept and a reject scores half
    n_pos = y_true.sum(axis=-1).astype(float)
    n_neg = y_true.shape[-1] - n_pos
    rank_sum = np.sum(np.where(y_true, ranks, 0.0), axis=-1)
    return _ratio(rank_sum - n_pos * (n_pos + 1) / 2, n_pos * n_neg)


def binary_metrics(y_true, y_pred, scores=None) -> BinaryMetrics:
    """Metrics of predicted decisions `y_pred` (bool) against labels `y_true` (bool, accept=True).

    `scores` rank the papers for ROC AUC (higher = more likely accept); without them the
    decisions themselves are the score.
    """
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"labels and predictions differ in length: {y_true.shape} vs {y_pred.shape}")
    scores = y_pred.astype(float) if scores is None else np.asarray(scores, dtype=float)
    rates = _confusion_rates(y_true, y_pred)
    return BinaryMetrics(
        n=int(y_true.size),
        n_accept=int(y_true.sum()),
        tp=int(rates["tp"]), fp=int(rates["fp"]), tn=int(rates["tn"]), fn=int(rates["fn"]),
        accuracy=float(rates["accuracy"]),
        balanced_accuracy=float(rates["balanced_accuracy"]),
        f1=float(rates["f1"]),
        roc_auc=roc_auc(y_true, scores),
        fpr=float(rates["fpr"]),
        fnr=float(rates["fnr"]),
    )


def bootstrap_intervals(y_true, y_pred, scores=None, *, n_boot: int = 1000, seed: int = 0,
                        level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each metric over `n_boot` resamples of the papers (with replacement).

    Seeded, so the same call gives the same intervals. Resamples in which a metric is
    undefined (one class missing) are left out of that metric's interval.
    """
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    scores = y_pred.astype(float) if scores is None else np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    intervals: dict[str, tuple[float, float]] = {}
    samples: dict[str, list[np.ndarray]] = {name: [] for name in METRIC_NAMES}
    chunk = max(1, 200_000 // max(1, y_true.size))  # bounded memory for large sets
    for start in range(0, n_boot, chunk):
        index = rng.integers(0, y_true.size, size=(min(chunk, n_boot - start), y_true.size))
        rates = _confusion_rates(y_true[index], y_pred[index])
        for name in METRIC_NAMES:
            if name == "roc_auc":
                samples[name].append(_auc_rows(y_true[index], scores[index]))
            else:
                samples[name].append(np.asarray(rates[name], dtype=float))
    tail = (1 - level) / 2 * 100
    for name in METRIC_NAMES:
        values = np.concatenate(samples[name])
        values = values[~np.isnan(values)]
        if values.size == 0:
            intervals[name] = (float("nan"), float("nan"))
        else:
            low, high = np.percentile(values, [tail, 100 - tail])
            intervals[name] = (float(low), float(high))
    return intervals
