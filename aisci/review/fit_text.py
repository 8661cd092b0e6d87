"""How the shipped text model is made: every choice by cross-validation inside the training ids.

  1. Each configuration of GRID (which features, regularisation, weight of the words) is scored by
     stratified 5-fold CV repeated over seeds, on the training papers only; the one with the best
     mean ROC AUC is chosen (ties: the earlier, simpler one in GRID).
  2. The decision threshold is the logit that maximises balanced accuracy over the chosen
     configuration's out-of-fold logits.
  3. The chosen configuration is fitted on all training papers with that threshold.
  4. The hybrid rule (optional, when a review table with sub-scores is given): a logistic rule on
     the text model's out-of-fold logit ("text_score") and the review's sub-scores, its
     regularisation chosen by the same CV.

`aisci review-bench DATA --fit` runs this on train_ids.txt and evaluates once on test_ids.txt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from aisci.review.calibrate import SUBSCORE_FEATURES, fit_logistic
from aisci.review.metrics import binary_metrics
from aisci.review.rules import LogisticRule
from aisci.review.text_model import Corpus, ModelChoice, TextModel, TextModelError, corpus_logits, fit_model

# Small on purpose: the word configurations take minutes each on two shared cores. A CV on the train ids
# (README of the data) put word-only models best near C = 10, so the grid brackets that.
GRID: tuple[ModelChoice, ...] = (
    *(ModelChoice("statistics", C) for C in (0.01, 0.1, 1.0)),
    ModelChoice("words", 10.0),
    *(ModelChoice("words+statistics", 1.0, words_weight=w) for w in (1.0, 3.0)),
)
HYBRID_C = (0.01, 0.1, 1.0)
TEXT_SCORE = "text_score"  # the column a hybrid rule reads the text model's logit from
SEEDS = (0, 1)
FOLDS = 5


@dataclass
class ChoiceScore:
    choice: ModelChoice
    roc_auc: tuple[float, float]  # mean, sd over seeds of the pooled out-of-fold AUC
    balanced_accuracy: tuple[float, float]  # at logit 0


def _folds(labels: np.ndarray, seed: int, folds: int):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels)


def out_of_fold_logits(corpus: Corpus, rows: np.ndarray, choice: ModelChoice, seed: int,
                       folds: int = FOLDS) -> np.ndarray:
    """One logit per row, each from a model fitted on the other folds."""
    y = corpus.labels[rows]
    logits = np.empty(len(rows))
    for fit_part, held_out in _folds(y, seed, folds):
        model = fit_model(corpus, rows[fit_part], choice)
        logits[held_out] = corpus_logits(model, corpus, rows[held_out])
    return logits


def best_threshold(labels: np.ndarray, logits: np.ndarray) -> float:
    """The cut between two neighbouring logits that maximises balanced accuracy (the lower one on ties)."""
    values = np.unique(logits)
    cuts = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    scores = [binary_metrics(labels, logits >= cut).balanced_accuracy for cut in cuts]
    return float(cuts[int(np.argmax(scores))])


@dataclass
class FitReport:
    model: TextModel
    scores: list[ChoiceScore]
    chosen: ChoiceScore
    oof_logits: np.ndarray  # the chosen configuration's, averaged over seeds, one per training row
    cv_at_threshold: dict  # balanced accuracy etc. of the pooled out-of-fold logits at the chosen threshold

    def as_dict(self) -> dict:
        return {"grid": [{**asdict(s.choice), "roc_auc": s.roc_auc, "balanced_accuracy_at_0": s.balanced_accuracy}
                         for s in self.scores],
                "chosen": asdict(self.chosen.choice), "threshold": self.model.threshold,
                "cv_at_threshold": self.cv_at_threshold}


def _mean_sd(values) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return round(float(array.mean()), 4), round(float(array.std(ddof=1)) if array.size > 1 else 0.0, 4)


def select_and_fit(corpus: Corpus, rows: np.ndarray, *, grid=GRID, seeds=SEEDS, folds: int = FOLDS,
                   provenance: dict | None = None, progress=lambda message: None) -> FitReport:
    y = corpus.labels[rows]
    if min(y.sum(), (~y).sum()) < folds:
        raise TextModelError(f"{folds}-fold cross-validation needs at least {folds} accepted and {folds} rejected "
                             f"papers; have {int(y.sum())} and {int((~y).sum())}")
    scores, logits_of = [], {}
    for choice in grid:
        per_seed = [out_of_fold_logits(corpus, rows, choice, seed, folds) for seed in seeds]
        logits_of[choice] = per_seed
        metrics = [binary_metrics(y, logits >= 0, logits) for logits in per_seed]
        scores.append(ChoiceScore(choice, _mean_sd([m.roc_auc for m in metrics]),
                                  _mean_sd([m.balanced_accuracy for m in metrics])))
        progress(f"  {choice.features:17} C={choice.C:<6g} words x{choice.words_weight:g}: CV AUC "
                 f"{scores[-1].roc_auc[0]:.3f} ± {scores[-1].roc_auc[1]:.3f}, balanced accuracy at 0 "
                 f"{scores[-1].balanced_accuracy[0]:.3f}")
    chosen = max(scores, key=lambda s: s.roc_auc[0])  # max keeps the first of equal scores
    per_seed = logits_of[chosen.choice]
    threshold = best_threshold(np.tile(y, len(per_seed)), np.concatenate(per_seed))
    at_threshold = [binary_metrics(y, logits >= threshold, logits).as_dict() for logits in per_seed]
    cv_at_threshold = {name: _mean_sd([m[name] for m in at_threshold])
                       for name in ("balanced_accuracy", "roc_auc", "accuracy", "f1")}
    model = fit_model(corpus, rows, chosen.choice, threshold=threshold, provenance={
        **(provenance or {}), "cv": {"folds": folds, "seeds": list(seeds), "chosen_by": "mean out-of-fold ROC AUC",
                                     "threshold_by": "balanced accuracy of the pooled out-of-fold logits",
                                     "at_threshold": cv_at_threshold}})
    return FitReport(model=model, scores=scores, chosen=chosen, oof_logits=np.mean(per_seed, axis=0),
                     cv_at_threshold=cv_at_threshold)


def hybrid_features(text_logits, reviews: pd.DataFrame) -> pd.DataFrame:
    """The table a hybrid rule reads: the text model's logit and the review's sub-scores."""
    present = [name for name in SUBSCORE_FEATURES if name in reviews.columns]
    table = reviews[present].copy()
    table.insert(0, TEXT_SCORE, np.asarray(text_logits, dtype=float))
    return table


def fit_hybrid(features: pd.DataFrame, labels: pd.Series, *, seeds=SEEDS, folds: int = FOLDS,
               provenance: dict | None = None) -> tuple[LogisticRule, dict]:
    """C by CV (mean out-of-fold balanced accuracy, then AUC), then the rule fitted on all rows."""
    from aisci.review.calibrate import cross_validate

    complete = features.dropna()
    scores = {}
    for C in HYBRID_C:
        cv = cross_validate(complete, labels, baseline_accepts=pd.Series(False, index=complete.index),
                            baseline_scores=pd.Series(0.0, index=complete.index), baseline_name="none",
                            folds=folds, seeds=list(seeds), C=C)
        scores[C] = {name: tuple(round(v, 4) for v in cv.calibrated[name])
                     for name in ("balanced_accuracy", "roc_auc", "f1")}
    best = max(HYBRID_C, key=lambda C: (scores[C]["balanced_accuracy"][0], scores[C]["roc_auc"][0]))
    rule = fit_logistic(complete, labels, C=best, provenance={
        **(provenance or {}), "features_from": f"{TEXT_SCORE} (the text model's out-of-fold logit) and review sub-scores",
        "cv": {"folds": folds, "seeds": list(seeds), "by_C": {str(C): s for C, s in scores.items()},
               "chosen_by": "mean out-of-fold balanced accuracy"}})
    rounded = LogisticRule(features=rule.features, center=[float(f"{v:.6g}") for v in rule.center],
                           scale=[float(f"{v:.6g}") for v in rule.scale],
                           coefficients=[float(f"{v:.6g}") for v in rule.coefficients],
                           intercept=float(f"{rule.intercept:.6g}"), cutoff=rule.cutoff, transform=rule.transform,
                           provenance=rule.provenance)
    return rounded, {"by_C": scores, "chosen_C": best}
