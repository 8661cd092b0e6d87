"""The offline (model-free) reviewer: its checklist, its scores, and resumable benchmark runs."""

import json

import pytest

from aisci.cli import main
from aisci.review.bench import run_reviewer
from aisci.review.benchdata import load_bench
from aisci.review.offline import (
    CHECKLIST,
    OFFLINE_LABEL,
    OfflineChecklistReviewer,
    overall_score,
)
from aisci.review.offline_fitted import FittedTextReviewer, overall_from_probability
from aisci.review.reviewer import Reviewer, get_reviewer
from aisci.review.synthetic import write_synthetic_bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_synthetic_bench(tmp_path_factory.mktemp("bench"))


def _paper(bench, paper_id):
    return (bench / "papers" / f"{paper_id}.txt").read_text()


def test_checklist_reviews_are_deterministic_labelled_and_explained(bench):
    reviewer = OfflineChecklistReviewer()
    assert isinstance(reviewer, Reviewer)
    strong, weak = _paper(bench, "paper000"), _paper(bench, "paper004")  # accepted / rejected in the fixture
    first = reviewer.review(strong)
    assert first == reviewer.review(strong)
    assert first.summary.startswith(OFFLINE_LABEL)
    assert first.overall > reviewer.review(weak).overall
    assert first.decision == "Accept" and reviewer.review(weak).decision == "Reject"
    assessment = reviewer.assess(weak)
    assert len(assessment.checks) == len(CHECKLIST)
    failed = [c for c in assessment.checks if not c.passed]
    assert failed and all("needs at least" in c.reason for c in failed)
    assert len(assessment.form.weaknesses) == len(failed) and len(assessment.form.questions) == len(failed)
    assert assessment.form.confidence == 1 and assessment.form.originality <= 3


def test_overall_mapping_is_monotone():
    scores = [overall_score(k / 100) for k in range(101)]
    assert scores == sorted(scores) and scores[0] == 1 and scores[-1] == 9
    assert [overall_from_probability(p) for p in (0.0, 0.49, 0.5, 0.99, 1.0)] == [1, 5, 6, 9, 9]


def test_resumable_run_reviews_nothing_new_the_second_time(bench, tmp_path):
    data = load_bench(bench)
    reviewer = OfflineChecklistReviewer()
    ids = list(data.labels.index)
    first = run_reviewer(data, reviewer, tmp_path / "out", ids)
    assert (first.reviewed, first.cached) == (20, 0)
    assert len(list((tmp_path / "out").glob("paper*.json"))) == 20
    second = run_reviewer(data, reviewer, tmp_path / "out", ids)
    assert (second.reviewed, second.cached) == (0, 20)
    assert second.table.equals(first.table)
    # a damaged cache file or one from another reviewer version is redone, the rest stays cached
    (tmp_path / "out" / "paper003.json").write_text("{half a file")
    record = json.loads((tmp_path / "out" / "paper005.json").read_text())
    record["reviewer_version"] = "old"
    (tmp_path / "out" / "paper005.json").write_text(json.dumps(record))
    third = run_reviewer(data, reviewer, tmp_path / "out", ids)
    assert (third.reviewed, third.cached, third.redone_stale) == (2, 18, 2)


def test_cli_run_with_limit_then_full_run(bench, tmp_path, capsys):
    out = tmp_path / "cache"
    assert main(["review-bench", str(bench), "--run", "offline", "--limit", "4", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "4 reviewed, 0 cached" in captured.err and "offline" in captured.out
    assert main(["review-bench", str(bench), "--run", "offline", "--out", str(out), "--json", str(tmp_path / "f.json")]) == 0
    assert "16 reviewed, 4 cached" in capsys.readouterr().err
    assert json.loads((tmp_path / "f.json").read_text())["scores"][0]["metrics"]["n"] == 20
    assert (out / "reviews.csv").is_file()
    assert main(["review-bench", str(bench), "--reviews", str(out / "reviews.csv")]) == 0


def test_paper_without_text_counts_as_missing(bench, tmp_path):
    data = load_bench(bench)
    summary = run_reviewer(data, OfflineChecklistReviewer(), tmp_path / "out", ["paper000", "ghost"])
    assert summary.no_text == ["ghost"] and summary.reviewed == 1


def test_shipped_fitted_reviewer_loads_and_reviews(bench):
    reviewer = get_reviewer("offline-fitted")
    assert isinstance(reviewer, FittedTextReviewer)
    assert reviewer.model.provenance["data"]["n_fit"] == 400
    form, evidence = reviewer.review_with_evidence(_paper(bench, "paper000"))
    assert form.summary.startswith("Offline engine (fitted text model")
    assert 0 <= evidence["p_accept"] <= 1
    assert form.overall == overall_from_probability(evidence["p_accept"], evidence["cutoff"])


@pytest.mark.parametrize("text,title", [
    ("A Study of Grokking with a small transformer: how\nweight decay moves the final accuracy∗\nJane Doe\nAbstract",
     "A Study of Grokking with a small transformer: how weight decay moves the final accuracy"),
    ("# Attention Is All You Need\n\n## Abstract\nThe dominant models", "Attention Is All You Need"),
    ("Deep Residual Learning for Image Recognition\nKaiming He\nAbstract", "Deep Residual Learning for Image Recognition"),
])
def test_a_title_broken_over_lines_is_read_whole(text, title):
    from aisci.review.offline import _title
    assert _title(text) == title
