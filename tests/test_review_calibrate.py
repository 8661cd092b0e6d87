"""The calibrated decision rule: cross-validated figures, fit on train ids, one evaluation on test ids."""

import json

import numpy as np
import pandas as pd
import pytest

from aisci.cli import main
from aisci.review.benchdata import load_bench, load_review_table
from aisci.review.calibrate import (
    SUBSCORE_FEATURES,
    CalibrationError,
    cross_validate,
    fit_logistic,
)
from aisci.review.rules import LogisticRule, RuleError, ThresholdRule
from aisci.review.synthetic import write_synthetic_bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_synthetic_bench(tmp_path_factory.mktemp("bench"))


def test_cli_calibrate_reports_cross_validated_figures(bench, capsys, tmp_path):
    out = tmp_path / "cv.json"
    assert main(["review-bench", str(bench), "--calibrate", "--cv-seeds", "3", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "stratified 5-fold CV" in printed and "logistic on 9 sub-scores" in printed and "±" in printed
    cv = json.loads(out.read_text())["cross_validation"]
    assert cv["seeds"] == [0, 1, 2] and cv["n"] == 20 and cv["baseline_name"] == "Overall>=6"
    mean, sd = cv["calibrated"]["balanced_accuracy"]
    assert 0 <= mean <= 1 and sd >= 0
    # the fixed rule is scored on the same papers as the fitted one: its pooled figure is the plain one
    assert cv["baseline"]["balanced_accuracy"][0] == pytest.approx(json.loads(out.read_text())["scores"][0]["metrics"]["balanced_accuracy"])


def test_cross_validation_never_fits_on_the_fold_it_scores():
    # labels that are pure noise: a rule that saw its test folds would score far above chance
    rng = np.random.default_rng(0)
    features = pd.DataFrame(rng.normal(size=(60, 9)), columns=SUBSCORE_FEATURES, index=[f"p{i}" for i in range(60)])
    labels = pd.Series(rng.random(60) < 0.4, index=features.index)
    cv = cross_validate(features, labels, baseline_accepts=features["Overall"] > 0,
                        baseline_scores=features["Overall"], baseline_name="Overall>0", seeds=[0, 1])
    assert cv.calibrated["balanced_accuracy"][0] < 0.7


def test_fit_on_train_evaluate_on_test_writes_a_rule_that_applies(bench, capsys, tmp_path):
    rule_path = tmp_path / "rule.json"
    assert main(["review-bench", str(bench), "--fit-on", "train_ids.txt", "--evaluate-on", "test_ids.txt",
                 "--rule-out", str(rule_path)]) == 0
    printed = capsys.readouterr().out
    assert "fitted logistic on 9 sub-scores on 15 papers" in printed and "5 held-out papers" in printed
    rule = LogisticRule.load(rule_path)
    assert rule.features == list(SUBSCORE_FEATURES) and rule.provenance["fitted_on"] == "train_ids.txt"
    assert rule.provenance["n"] == 15 and "test_metrics" in rule.provenance
    # the saved rule is the sigmoid of its stated coefficients
    table = load_review_table(bench / "llm_reviews" / "synthetic_reviewer.csv")
    row = table.iloc[0][rule.features].to_numpy(dtype=float)
    logit = rule.intercept + ((row - rule.center) / rule.scale) @ np.array(rule.coefficients)
    assert rule.probabilities(table).iloc[0] == pytest.approx(1 / (1 + np.exp(-logit)))
    # and it is a rule review-bench can score with
    out = tmp_path / "scores.json"
    assert main(["review-bench", str(bench), "--rule", f"calibrated:{rule_path}", "--ids", "test_ids.txt",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["scores"][0]["metrics"]["n"] == 5


def test_overlapping_fit_and_evaluation_ids_are_refused(bench, capsys):
    assert main(["review-bench", str(bench), "--fit-on", "train_ids.txt", "--evaluate-on", "train_ids.txt"]) == 2
    assert "in both --fit-on and --evaluate-on" in capsys.readouterr().err


def test_text_statistics_rule_cross_validates_within_train_ids(bench, capsys, tmp_path):
    assert main(["review-bench", str(bench), "--features", "text", "--calibrate", "--cv-seeds", "2",
                 "--fit-on", "train_ids.txt", "--evaluate-on", "test_ids.txt", "--rule-out", str(tmp_path / "t.json")]) == 0
    printed = capsys.readouterr().out
    assert "within train_ids.txt" in printed and "(15 papers" in printed
    assert "offline checklist Overall>=6 (fixed)" in printed
    assert LogisticRule.load(tmp_path / "t.json").transform == "log1p"


def test_fit_needs_both_classes_and_rule_files_are_validated(tmp_path):
    features = pd.DataFrame({"Overall": [5.0, 6.0]}, index=["a", "b"])
    with pytest.raises(CalibrationError):
        fit_logistic(features, pd.Series([True, True], index=["a", "b"]))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "logistic", "features": ["Overall"], "center": [1], "scale": [0],
                               "coefficients": [1], "intercept": 0}))
    with pytest.raises(RuleError, match="non-zero"):
        LogisticRule.load(bad)
    bad.write_text("{not json")
    with pytest.raises(RuleError, match="not a JSON rule"):
        LogisticRule.load(bad)


def test_too_few_papers_for_the_folds(bench):
    data = load_bench(bench)
    table = load_review_table(bench / "llm_reviews" / "synthetic_reviewer.csv").loc[data.labels.index]
    with pytest.raises(CalibrationError, match="at least"):
        cross_validate(table[list(SUBSCORE_FEATURES)], data.labels, baseline_accepts=ThresholdRule().accepts(table),
                       baseline_scores=table["Overall"], baseline_name="x", folds=10)
