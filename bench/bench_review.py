"""Review benchmark figures on iclr2022-review-bench (500 ICLR 2022 papers with decisions).

    python bench/bench_review.py [DATA_DIR]

DATA_DIR defaults to $AISCI_REVIEW_BENCH or ../shared/data/iclr2022-review-bench beside the repo;
without it the script says so and exits 0. Prints:
  1. the README's table, recomputed from the published review CSVs, checked against the README;
  2. the calibrated rule (logistic regression on the GPT-4o ensemble's sub-scores), stratified
     5-fold CV x 5 seeds, against Overall >= 6 on the same folds;
  3. the offline checklist reviewer over all 500 papers (and over the 100 test ids);
  4. the fitted text reviewer and the hybrid rule shipped in the package: their CV figures within the
     train ids (from the provenance file) and their figures on the 100 test ids with 95% bootstrap
     intervals (recomputed here from the shipped files), beside a leak probe that shows why the text
     model reads no version marks.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import pandas as pd

from aisci.review.bench import format_results, run_reviewer, score_reviews
from aisci.review.benchdata import load_bench, load_review_table
from aisci.review.calibrate import SUBSCORE_FEATURES, cross_validate
from aisci.review.fit_bench import HYBRID_FILE, MODEL_FILE, PROVENANCE_FILE
from aisci.review.fit_text import TEXT_SCORE, hybrid_features
from aisci.review.inputs import read_bench_paper
from aisci.review.offline import OfflineChecklistReviewer
from aisci.review.offline_fitted import FittedTextReviewer
from aisci.review.rules import DecisionFieldRule, LogisticRule, ThresholdRule

GPT4O = "gpt-4o-2024-05-13_temp_0_1_fewshot_1_reflect_5_ensemble_5_pages_all"
CLAUDE = "claude-3-5-sonnet-20240620_temp_0_1_reflect_5_ensemble_5_pages_all"
GPT4O_MINI = "gpt-4o-mini-2024-07-18_temp_0_1_fewshot_1_reflect_5_ensemble_5_pages_all"
# (review file, rule) -> accuracy, balanced accuracy, F1, FPR, FNR as printed in the data's README
README_ROWS = {
    (GPT4O, "overall"): (0.662, 0.651, 0.570, 0.307, 0.391),
    (GPT4O, "decision"): (0.696, 0.602, 0.372, 0.041, 0.755),
    (CLAUDE, "overall"): (0.402, 0.527, 0.552, 0.946, 0.000),
    (GPT4O_MINI, "overall"): (0.640, 0.590, 0.451, 0.222, 0.598),
}
README_GPT4O_AUC = 0.691


def find_data(argv: list[str]) -> Path | None:
    candidates = [argv[1]] if len(argv) > 1 else []
    candidates += [os.environ.get("AISCI_REVIEW_BENCH", ""),
                   str(Path(__file__).resolve().parents[2] / "shared" / "data" / "iclr2022-review-bench")]
    return next((Path(c) for c in candidates if c and (Path(c) / "ratings_subset.tsv").is_file()), None)


def readme_table(data) -> None:
    print("== 1. README table, recomputed ==")
    results, all_match = [], True
    for (name, kind), expected in README_ROWS.items():
        rule = ThresholdRule() if kind == "overall" else DecisionFieldRule()
        table = load_review_table(data.root / "llm_reviews" / f"{name}.csv")
        result = score_reviews(data.labels, table, rule, source=name[:40])
        m = result.metrics
        got = tuple(round(v, 3) for v in (m.accuracy, m.balanced_accuracy, m.f1, m.fpr, m.fnr))
        all_match &= got == expected
        results.append(result)
        if name == GPT4O and kind == "overall":
            all_match &= round(m.roc_auc, 3) == README_GPT4O_AUC
    print(format_results(results))
    print(f"matches the README exactly (acc, bal acc, F1, FPR, FNR, and AUC {README_GPT4O_AUC}): {all_match}\n")


def calibrated_rule(data) -> None:
    print("== 2. calibrated rule vs Overall >= 6, GPT-4o ensemble CSV, stratified 5-fold CV x 5 seeds ==")
    table = load_review_table(data.root / "llm_reviews" / f"{GPT4O}.csv").reindex(data.labels.index)
    rule = ThresholdRule()
    started = time.perf_counter()
    cv = cross_validate(table[list(SUBSCORE_FEATURES)], data.labels, baseline_accepts=rule.accepts(table),
                        baseline_scores=rule.scores(table), baseline_name=rule.name, seeds=range(5))
    for label, figures in (("logistic on 9 sub-scores", cv.calibrated), ("Overall>=6 (fixed)", cv.baseline)):
        print(f"{label:26} " + "  ".join(f"{key} {figures[key][0]:.3f} ± {figures[key][1]:.3f}"
                                         for key in ("balanced_accuracy", "f1", "roc_auc")))
    print(f"per-fold balanced-accuracy gain (fitted - fixed): {cv.fold_gain[0]:+.3f} ± {cv.fold_gain[1]:.3f}, "
          f"fitted better in {cv.folds_won}/25 folds ({time.perf_counter() - started:.1f} s)\n")


def offline_reviewers(data) -> None:
    print("== 3. offline checklist reviewer (model-free), all papers ==")
    ids = list(data.labels.index)
    test_ids = data.ids_from("test_ids.txt")
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        summary = run_reviewer(data, OfflineChecklistReviewer(), cache, ids)
        elapsed = time.perf_counter() - started
        rerun_started = time.perf_counter()
        rerun = run_reviewer(data, OfflineChecklistReviewer(), cache, ids)
        rerun_elapsed = time.perf_counter() - rerun_started
    print(f"{summary.reviewed} papers reviewed in {elapsed:.1f} s ({summary.reviewed / elapsed:.1f} papers/s); "
          f"rerun: {rerun.reviewed} reviewed, {rerun.cached} cached in {rerun_elapsed:.1f} s")
    rule = ThresholdRule()
    print(format_results([score_reviews(data.labels, summary.table, rule, source="checklist, all 500"),
                          score_reviews(data.labels, summary.table, rule, source="checklist, test ids",
                                        ids=test_ids)]))
    print()

    print("== 4. the shipped fitted text reviewer and hybrid rule: test ids, once, 95% bootstrap intervals ==")
    # Why the text model reads no version marks: in this data the accepted papers are camera-ready copies and the
    # rejected ones anonymous submissions, so one phrase alone separates them (a fixed rule, nothing fitted).
    texts = {pid: read_bench_paper(data.paper_path(pid)) for pid in ids if data.paper_path(pid).is_file()}
    anonymous = pd.DataFrame({"not_anonymous": [float("anonymous author" not in texts[pid].lower()) for pid in texts]},
                             index=list(texts))
    print(format_results([score_reviews(data.labels, anonymous, ThresholdRule("not_anonymous", 1),
                                        source="leak probe, all 500")]))
    reviewer = FittedTextReviewer.shipped()
    model = reviewer.model
    provenance = json.loads((resources.files("aisci.review") / PROVENANCE_FILE).read_text(encoding="utf-8"))
    cv = provenance["cv"]["cv_at_threshold"]
    print(f"text model ({model.choice.features}, C={model.choice.C:g}, {len(model.vocabulary)} terms, "
          f"{len((resources.files('aisci.review') / MODEL_FILE).read_bytes()) / 1e6:.2f} MB); CV within the train ids: "
          + "  ".join(f"{key} {cv[key][0]:.3f} ± {cv[key][1]:.3f}" for key in ("balanced_accuracy", "roc_auc")))
    hybrid_cv = provenance["hybrid"]["cv"]["by_C"][str(provenance["hybrid"]["cv"]["chosen_C"])]
    print(f"hybrid rule (text score + GPT-4o sub-scores); CV within the train ids: "
          + "  ".join(f"{key} {hybrid_cv[key][0]:.3f} ± {hybrid_cv[key][1]:.3f}" for key in ("balanced_accuracy", "roc_auc")))
    test = pd.DataFrame({TEXT_SCORE: model.logits([texts[pid] for pid in test_ids])}, index=test_ids)
    text_rule = ThresholdRule(TEXT_SCORE, model.threshold)
    gpt = load_review_table(data.root / "llm_reviews" / f"{GPT4O}.csv")
    hybrid = LogisticRule.load(resources.files("aisci.review") / HYBRID_FILE)
    hybrid_table = hybrid_features(test[TEXT_SCORE].to_numpy(), gpt.reindex(test_ids))
    hybrid_table.index = test_ids
    print(format_results([
        score_reviews(data.labels, test, text_rule, source="fitted text model", ids=test_ids, bootstrap=2000),
        score_reviews(data.labels, hybrid_table, hybrid, source="hybrid (text + GPT-4o sub-scores)", ids=test_ids,
                      bootstrap=2000),
        score_reviews(data.labels, gpt, ThresholdRule(), source="GPT-4o ensemble", ids=test_ids, bootstrap=2000),
    ]))
    print("goals: text model bal acc >= 0.70 and AUC >= 0.75; hybrid bal acc >= 0.72 (see the figures above)")


def main(argv: list[str]) -> int:
    data_dir = find_data(argv)
    if data_dir is None:
        print("bench_review: iclr2022-review-bench not found (pass DATA_DIR or set AISCI_REVIEW_BENCH); skipping")
        return 0
    data = load_bench(data_dir)
    print(f"data: {data_dir} ({len(data.labels)} papers, {int(data.labels.sum())} accepted)\n")
    readme_table(data)
    calibrated_rule(data)
    offline_reviewers(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
