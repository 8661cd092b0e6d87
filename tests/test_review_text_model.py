"""The fitted text reviewer: what it reads, how it is fitted (on the 20-paper fixture in the layout of
iclr2022-review-bench), that a refit writes the same bytes, the shipped model, and its use in a
study's meta-review through [review] rule. The last test checks the shipped model's test figures on
the real benchmark and runs only where ../shared/data/iclr2022-review-bench exists."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from aisci.cli import main
from aisci.config import ReviewSection, parse_config
from aisci.errors import ConfigError
from aisci.review.benchdata import load_bench
from aisci.review.fit_bench import HYBRID_FILE, MODEL_FILE, PROVENANCE_FILE
from aisci.review.fit_text import TEXT_SCORE
from aisci.review.form import ReviewForm
from aisci.review.inputs import read_bench_paper
from aisci.review.llm_reviewer import _offline_review
from aisci.review.meta import decide_by_rule, meta_review
from aisci.review.metrics import binary_metrics
from aisci.review.offline_fitted import FITTED_LABEL, FittedTextReviewer, overall_from_probability
from aisci.review.rules import LogisticRule
from aisci.review.text_model import Corpus, TextModel, TextModelError, comparable_text, corpus_logits

FIXTURE = Path(__file__).parent / "fixtures" / "review_bench20"
# ../shared/data beside the repository (AISCI_REVIEW_BENCH names it elsewhere, e.g. from a git worktree)
REAL = Path(os.environ.get("AISCI_REVIEW_BENCH") or
            Path(__file__).resolve().parents[2] / "shared" / "data" / "iclr2022-review-bench")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fit")
    assert main(["review-bench", str(FIXTURE), "--fit", "--out", str(out / "a"),
                 "--reviews", str(FIXTURE / "llm_reviews" / "fixture_reviewer.csv")]) == 0
    return out / "a"


def _papers():
    data = load_bench(FIXTURE)
    return data, {pid: read_bench_paper(data.paper_path(pid)) for pid in data.labels.index}


def test_the_model_reads_no_mark_of_a_papers_version():
    data, texts = _papers()
    accepted = next(t for pid, t in texts.items() if data.labels[pid])
    rejected = next(t for pid, t in texts.items() if not data.labels[pid])
    assert "Anonymous authors" in rejected and "Published as a conference paper" in accepted
    for text in (accepted, rejected):
        kept = comparable_text(text).lower()
        for mark in ("anonymous", "double-blind", "published as", "github", "acknowledg", "nowhere.edu",
                     "ada example", "references"):
            assert mark not in kept, mark
        assert kept.strip().startswith("abstract")


def test_a_refit_writes_the_same_bytes_and_the_provenance_says_how(fitted, tmp_path, capsys):
    assert main(["review-bench", str(FIXTURE), "--fit", "--out", str(tmp_path / "b"),
                 "--reviews", str(FIXTURE / "llm_reviews" / "fixture_reviewer.csv")]) == 0
    printed = capsys.readouterr().out
    assert "evaluated once on 4 test papers" in printed and "fitted text model" in printed and "hybrid" in printed
    for name in (MODEL_FILE, PROVENANCE_FILE, HYBRID_FILE):
        assert (fitted / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    provenance = json.loads((fitted / PROVENANCE_FILE).read_text())
    assert provenance["data"]["n_fit"] == 16 and provenance["test"]["n"] == 4
    assert provenance["code"]["aisci"] and len(provenance["code"]["sources_sha256"]) == 64
    assert provenance["cv"]["chosen"]["features"] in {"statistics", "words", "words+statistics"}
    assert {"roc_auc", "balanced_accuracy_at_0"} <= set(provenance["cv"]["grid"][0])
    low, high = provenance["test"]["text_model"]["intervals"]["balanced_accuracy"]
    assert 0 <= low <= provenance["test"]["text_model"]["metrics"]["balanced_accuracy"] <= high <= 1
    hybrid = LogisticRule.load(fitted / HYBRID_FILE)
    assert hybrid.features[0] == TEXT_SCORE and "Overall" in hybrid.features


def test_the_saved_model_scores_as_the_fitted_one(fitted):
    model = TextModel.load(fitted / MODEL_FILE)
    data, texts = _papers()
    ids = list(texts)
    corpus = Corpus.from_texts([texts[i] for i in ids], data.labels.loc[ids].to_numpy(dtype=bool))
    np.testing.assert_allclose(corpus_logits(model, corpus, np.arange(len(ids))),
                               model.logits([texts[i] for i in ids]), rtol=1e-9, atol=1e-9)
    # the fixture's accepted papers are written to be told apart: the model must rank them higher
    logits = model.logits([texts[i] for i in ids])
    assert binary_metrics(data.labels.loc[ids].to_numpy(), logits >= model.threshold, logits).roc_auc > 0.8


def test_a_broken_model_file_is_one_clear_error(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"kind": "logistic"}')
    with pytest.raises(TextModelError, match="not an aisci text model"):
        TextModel.load(path)
    with pytest.raises(TextModelError, match="not found"):
        TextModel.load(tmp_path / "none.json")


def test_the_shipped_model_is_small_labelled_and_fitted_on_the_train_ids_only():
    folder = resources.files("aisci.review")
    assert len((folder / MODEL_FILE).read_bytes()) <= 2 * 1024 * 1024
    provenance = json.loads((folder / PROVENANCE_FILE).read_text())
    assert provenance["data"]["folder"] == "iclr2022-review-bench"
    assert provenance["data"]["n_fit"] == 400 and provenance["test"]["n"] == 100
    reviewer = FittedTextReviewer.shipped()
    _, texts = _papers()
    form, evidence = reviewer.review_with_evidence(next(iter(texts.values())))
    assert form.summary.startswith(FITTED_LABEL) and "held-out papers it reached balanced accuracy" in form.summary
    assert form.overall == overall_from_probability(evidence["p_accept"], evidence["cutoff"])
    assert (form.decision == "Accept") == (form.overall >= 6)
    assert any(s.startswith("[text model]") for s in form.strengths + form.weaknesses)
    assert any(s.startswith("[checklist:") for s in form.strengths + form.weaknesses)


def test_overall_maps_the_cutoff_to_six():
    assert overall_from_probability(0.30, 0.30) == 6 and overall_from_probability(0.29, 0.30) == 5
    assert overall_from_probability(0.0, 0.3) == 1 and overall_from_probability(1.0, 0.3) == 9


def test_a_studys_offline_review_is_the_fitted_reviewers():
    _, texts = _papers()
    form = _offline_review({"paper_text": next(iter(texts.values()))})
    assert form.summary.startswith(FITTED_LABEL)


def _form(overall: int, score: int) -> ReviewForm:
    return ReviewForm(summary="s", strengths=[], weaknesses=[], originality=score, quality=score, clarity=score,
                      significance=score, questions=[], limitations=[], ethical_concerns=False, soundness=score,
                      presentation=score, contribution=score, overall=overall, confidence=3,
                      decision="Accept" if overall >= 6 else "Reject")


def test_review_rule_calibrated_decides_the_meta_review(fitted, tmp_path):
    rule = LogisticRule.load(fitted / HYBRID_FILE)
    forms = [_form(5, 2)]
    meta = meta_review(forms, threshold=6)
    assert meta.decision == "Reject"
    high = decide_by_rule(meta, forms, rule, {TEXT_SCORE: 50.0})
    low = decide_by_rule(meta, forms, rule, {TEXT_SCORE: -50.0})
    assert (high.decision, low.decision) == ("Accept", "Reject")  # the text score moves it, as fitted
    assert "decision by the fitted rule" in high.reasons[-1] and "the meta-review said Reject" in high.reasons[-1]


def test_review_rule_setting_is_checked():
    assert ReviewSection(rule="calibrated:rules/hybrid.json").rule == "calibrated:rules/hybrid.json"
    with pytest.raises(ConfigError, match="review.rule"):
        parse_config({"study": {"topic": "a topic", "template": "toy"}, "review": {"rule": "overall>=6 or so"}})


@pytest.mark.skipif(not (REAL / "ratings_subset.tsv").is_file(), reason="needs ../shared/data/iclr2022-review-bench")
def test_the_shipped_models_test_figures_hold_on_the_real_benchmark():
    data = load_bench(REAL)
    test_ids = data.ids_from("test_ids.txt")
    reviewer = FittedTextReviewer.shipped()
    logits = reviewer.model.logits([read_bench_paper(data.paper_path(pid)) for pid in test_ids])
    y = data.labels.loc[test_ids].to_numpy(dtype=bool)
    got = binary_metrics(y, logits >= reviewer.model.threshold, logits)
    shipped = json.loads(resources.files("aisci.review").joinpath(PROVENANCE_FILE).read_text())["test"]
    assert shipped["n"] == 100 and shipped["n_accept"] == 37
    assert round(got.balanced_accuracy, 4) == shipped["text_model"]["metrics"]["balanced_accuracy"]
    assert round(got.roc_auc, 4) == shipped["text_model"]["metrics"]["roc_auc"]
    assert not set(test_ids) & set(data.ids_from("train_ids.txt"))


def test_an_open_integrity_problem_still_caps_the_fitted_review():
    from aisci.review.offline import OPEN_PROBLEM_CAP
    from aisci.review.verified import VerifiedFacts

    data, texts = _papers()
    reviewer = FittedTextReviewer.shipped()
    best = max(texts.values(), key=reviewer.probability)
    open_problem = VerifiedFacts(seeds=3, ablation_nodes=0, datasets=1, open_problems=("a number without a record",))
    form = reviewer.review(best, open_problem)
    assert form.overall <= OPEN_PROBLEM_CAP and form.decision == "Reject"
    assert "[integrity] a number without a record" in form.weaknesses
    assert reviewer.review(best).overall >= form.overall
