"""`aisci review-bench` scoring review tables of a synthetic benchmark made in tmp_path."""

import json

import pandas as pd
import pytest

from aisci.cli import main
from aisci.review.bench import score_reviews
from aisci.review.benchdata import load_bench, load_review_table
from aisci.review.metrics import binary_metrics
from aisci.review.rules import DecisionFieldRule, ThresholdRule, parse_rule
from aisci.review.synthetic import write_synthetic_bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_synthetic_bench(tmp_path_factory.mktemp("bench"))


def _expected(bench, column="Overall", threshold=6):
    data = load_bench(bench)
    table = pd.read_csv(bench / "llm_reviews" / "synthetic_reviewer.csv").set_index("paper_id").loc[data.labels.index]
    return binary_metrics(data.labels.to_numpy(), table[column] >= threshold, table[column])


def test_labels_count_every_accept_kind(bench):
    data = load_bench(bench)
    assert data.labels.sum() == 8 and len(data.labels) == 20
    assert set(data.decisions[data.labels]) == {"Accept (Poster)", "Accept (Spotlight)", "Accept (Oral)"}


def test_cli_table_matches_direct_computation(bench, capsys, tmp_path):
    out = tmp_path / "figures.json"
    assert main(["review-bench", str(bench), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    expected = _expected(bench)
    assert "synthetic_reviewer" in printed and f"{expected.balanced_accuracy:.3f}" in printed
    saved = json.loads(out.read_text())["scores"][0]
    assert saved["rule"] == "Overall>=6"
    assert saved["metrics"]["f1"] == pytest.approx(expected.f1)
    assert saved["metrics"]["roc_auc"] == pytest.approx(expected.roc_auc)


def test_threshold_and_decision_rules(bench, tmp_path):
    out = tmp_path / "figures.json"
    assert main(["review-bench", str(bench), "--threshold", "7", "--rule", "decision", "--json", str(out)]) == 0
    scores = {s["rule"]: s["metrics"] for s in json.loads(out.read_text())["scores"]}
    assert scores["Overall>=7"]["balanced_accuracy"] == pytest.approx(_expected(bench, threshold=7).balanced_accuracy)
    data = load_bench(bench)
    table = load_review_table(bench / "llm_reviews" / "synthetic_reviewer.csv").loc[data.labels.index]
    decided = binary_metrics(data.labels, table["Decision"] == "Accept")
    assert scores["Decision field"]["accuracy"] == pytest.approx(decided.accuracy)


def test_missing_scores_count_as_reject_or_are_dropped(bench, tmp_path):
    data = load_bench(bench)
    table = load_review_table(bench / "llm_reviews" / "synthetic_reviewer.csv")
    accepted = list(data.labels[data.labels].index)
    table.loc[accepted[0], "Overall"] = float("nan")  # an accepted paper whose review has no score
    table = table.drop(index=accepted[1])  # and one with no review at all
    as_reject = score_reviews(data.labels, table, ThresholdRule(), source="t", missing="reject")
    dropped = score_reviews(data.labels, table, ThresholdRule(), source="t", missing="drop")
    assert as_reject.n_missing == dropped.n_missing == 2
    assert as_reject.metrics.n == 20 and dropped.metrics.n == 18
    assert as_reject.metrics.fn == dropped.metrics.fn + 2
    # a CSV with non-numeric scores is read as NaN, not refused
    broken = tmp_path / "broken.csv"
    raw = pd.read_csv(bench / "llm_reviews" / "synthetic_reviewer.csv", dtype=str)
    raw.loc[0, "Overall"] = "n/a"
    raw.to_csv(broken, index=False)
    assert main(["review-bench", str(bench), "--reviews", str(broken), "--missing", "drop",
                 "--json", str(tmp_path / "f.json")]) == 0
    assert json.loads((tmp_path / "f.json").read_text())["scores"][0]["metrics"]["n"] == 19


def test_bootstrap_interval_holds_the_point_estimate(bench, tmp_path):
    out = tmp_path / "figures.json"
    assert main(["review-bench", str(bench), "--bootstrap", "200", "--seed", "3", "--json", str(out)]) == 0
    score = json.loads(out.read_text())["scores"][0]
    for name, (low, high) in score["intervals"].items():
        assert low <= score["metrics"][name] <= high


def test_rule_specs():
    assert parse_rule("overall>=6") == ThresholdRule("Overall", 6, ">=")
    assert parse_rule(" Soundness > 2 ") == ThresholdRule("Soundness", 2, ">")
    assert isinstance(parse_rule("decision"), DecisionFieldRule)


@pytest.mark.parametrize("argv, message", [
    (["--rule", "overall=>6"], "cannot read rule"),
    (["--rule", "calibrated:/nonexistent/rule.json"], "rule file not found"),
    (["--reviews", "/nonexistent.csv"], "not found"),
    (["--limit", "3"], "--limit applies to --run"),
    (["--run", "no-such-reviewer"], "unknown reviewer"),
])
def test_bad_options_give_one_line_errors(bench, capsys, argv, message):
    assert main(["review-bench", str(bench), *argv]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_data_folder_and_duplicate_reviews(tmp_path, bench, capsys):
    assert main(["review-bench", str(tmp_path)]) == 2
    assert "ratings_subset.tsv" in capsys.readouterr().err
    doubled = tmp_path / "doubled.csv"
    raw = pd.read_csv(bench / "llm_reviews" / "synthetic_reviewer.csv")
    pd.concat([raw, raw.head(1)]).to_csv(doubled, index=False)
    assert main(["review-bench", str(bench), "--reviews", str(doubled)]) == 2
    assert "more than one row" in capsys.readouterr().err
