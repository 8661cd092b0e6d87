"""A decision rule fitted on labelled reviews: logistic regression on features of each paper
(a review's sub-scores, or model-free text statistics), judged only on papers it was not fitted on.

`cross_validate` runs stratified k-fold cross-validation repeated over seeds and compares the
fitted rule with a fixed rule on the very same held-out folds. `fit_logistic` fits the rule that
ships; evaluate it once on held-out ids (see `aisci review-bench --fit-on ... --evaluate-on ...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aisci.errors import AisciError
from aisci.review.benchdata import SCORE_COLUMNS
from aisci.review.metrics import METRIC_NAMES, binary_metrics
from aisci.review.rules import TRANSFORMS, LogisticRule

SUBSCORE_FEATURES = SCORE_COLUMNS  # Soundness ... Significance, as in the published review CSVs


class CalibrationError(AisciError):
    """Too few labelled papers, or no usable features, to fit or cross-validate a rule."""


def _logistic_regression(C: float):
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # pragma: no cover - scikit-learn is a dependency; this is for a broken install
        raise CalibrationError("fitting a rule needs scikit-learn: pip install scikit-learn") from None
    # class_weight="balanced": the 0.5 cutoff then aims at balanced accuracy, not at the majority class
    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000)


def usable_features(table: pd.DataFrame, wanted: tuple[str, ...] | list[str]) -> list[str]:
    present = [name for name in wanted if name in table.columns]
    if not present:
        raise CalibrationError(f"none of the features {', '.join(wanted)} is in the table")
    return present


def fit_logistic(features: pd.DataFrame, labels: pd.Series, *, transform: str = "identity",
                 C: float = 1.0, provenance: dict | None = None) -> LogisticRule:
    """Fit on exactly the rows given (rows with a missing feature must be removed by the caller)."""
    y = labels.loc[features.index].to_numpy(dtype=bool)
    if y.all() or not y.any():
        raise CalibrationError("fitting needs both accepted and rejected papers")
    matrix = TRANSFORMS[transform](features.to_numpy(dtype=float))
    center = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature: leave it unscaled (its coefficient ends near 0)
    model = _logistic_regression(C).fit((matrix - center) / scale, y)
    return LogisticRule(features=list(features.columns), center=center.tolist(), scale=scale.tolist(),
                        coefficients=model.coef_[0].tolist(), intercept=float(model.intercept_[0]),
                        cutoff=0.5, transform=transform,
                        provenance={"n": int(y.size), "n_accept": int(y.sum()), "C": C,
                                    "class_weight": "balanced", **(provenance or {})})


@dataclass
class CrossValidation:
    features: list[str]
    folds: int
    seeds: list[int]
    n: int
    n_accept: int
    n_dropped: int  # rows left out for a missing feature
    baseline_name: str
    calibrated: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (mean, sd) over seeds
    baseline: dict[str, tuple[float, float]] = field(default_factory=dict)
    fold_gain: tuple[float, float] = (0.0, 0.0)  # balanced accuracy, calibrated minus baseline, per fold
    folds_won: int = 0

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items()}


def _mean_sd(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return float(np.nanmean(array)), float(np.nanstd(array, ddof=1)) if array.size > 1 else 0.0


def cross_validate(features: pd.DataFrame, labels: pd.Series, *, baseline_accepts: pd.Series,
                   baseline_scores: pd.Series, baseline_name: str, folds: int = 5,
                   seeds: list[int] | tuple[int, ...] = (0, 1, 2, 3, 4), transform: str = "identity",
                   C: float = 1.0) -> CrossValidation:
    """Stratified `folds`-fold CV of a logistic rule, repeated per seed.

    Per seed, the out-of-fold predictions of all folds are pooled into one set of metrics; the
    report gives mean and sd of those over seeds. The fixed baseline is scored on the same pooled
    papers (no fitting, so its figure does not move with the seed) and fold by fold against the
    fitted rule (`fold_gain`, `folds_won`).
    """
    from sklearn.model_selection import StratifiedKFold

    complete = features.dropna()
    n_dropped = len(features) - len(complete)
    y = labels.loc[complete.index].to_numpy(dtype=bool)
    if min(y.sum(), (~y).sum()) < folds:
        raise CalibrationError(f"{folds}-fold cross-validation needs at least {folds} accepted and {folds} "
                               f"rejected papers; have {int(y.sum())} and {int((~y).sum())}")
    base_accept = baseline_accepts.loc[complete.index].fillna(False).to_numpy(dtype=bool)
    base_score = baseline_scores.loc[complete.index].fillna(-np.inf).to_numpy(dtype=float)
    per_seed: dict[str, list[float]] = {name: [] for name in METRIC_NAMES}
    gains: list[float] = []
    for seed in seeds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        probability = np.empty(len(complete))
        for train_index, test_index in splitter.split(complete, y):
            rule = fit_logistic(complete.iloc[train_index], labels, transform=transform, C=C)
            probability[test_index] = rule.probabilities(complete.iloc[test_index]).to_numpy()
            fold_fitted = binary_metrics(y[test_index], probability[test_index] >= rule.cutoff,
                                         probability[test_index])
            fold_fixed = binary_metrics(y[test_index], base_accept[test_index], base_score[test_index])
            gains.append(fold_fitted.balanced_accuracy - fold_fixed.balanced_accuracy)
        pooled = binary_metrics(y, probability >= 0.5, probability).as_dict()
        for name in METRIC_NAMES:
            per_seed[name].append(pooled[name])
    fixed = binary_metrics(y, base_accept, base_score).as_dict()
    return CrossValidation(
        features=list(complete.columns), folds=folds, seeds=list(seeds), n=len(complete),
        n_accept=int(y.sum()), n_dropped=n_dropped, baseline_name=baseline_name,
        calibrated={name: _mean_sd(per_seed[name]) for name in METRIC_NAMES},
        baseline={name: (float(fixed[name]), 0.0) for name in METRIC_NAMES},
        fold_gain=_mean_sd(gains), folds_won=int(sum(gain > 0 for gain in gains)),
    )
