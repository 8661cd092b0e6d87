"""What `aisci review-bench` does once its arguments are parsed (the parser is in
aisci/commands/review_bench.py, kept light so that `aisci --help` loads no pandas)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from aisci.commands.review import reviewer_from
from aisci.errors import AisciError
from aisci.fsutil import atomic_write_json
from aisci.review.bench import (
    ScoreResult,
    format_results,
    run_reviewer,
    score_reviews,
)
from aisci.review.benchdata import (
    BenchData,
    load_bench,
    load_review_table,
    review_table_paths,
)
from aisci.review.calibrate import (
    SUBSCORE_FEATURES,
    CrossValidation,
    cross_validate,
    fit_logistic,
    usable_features,
)
from aisci.review.metrics import binary_metrics
from aisci.review.rules import LogisticRule, Rule, ThresholdRule, parse_rule
from aisci.review.textstats import FEATURE_NAMES


class ReviewBenchUsageError(AisciError):
    """Options of review-bench that do not fit together."""


def _rules(args) -> list[Rule]:
    rules = [parse_rule(spec) for spec in args.rule]
    rules += [ThresholdRule(threshold=t) for t in args.threshold]
    return rules or [ThresholdRule()]


def _fixed_rule(rules: list[Rule]) -> Rule:
    fixed = [rule for rule in rules if not isinstance(rule, LogisticRule)]
    return fixed[0] if fixed else ThresholdRule()


def _review_tables(data: BenchData, args) -> list[tuple[str, pd.DataFrame, list[str] | None]]:
    """(name, table, ids to score) for each review table: published CSVs, or a fresh reviewer run."""
    ids = data.ids_from(args.ids) if args.ids else list(data.labels.index)
    if args.run:
        out_dir = Path(args.out or f"review-bench-{_slug(args.run)}")
        reviewer = reviewer_from(args.run, args, default_store=out_dir / "calls.sqlite")
        if args.limit is not None:
            ids = ids[:max(0, args.limit)]
        summary = run_reviewer(data, reviewer, out_dir, ids)
        print(f"{reviewer.name} reviewer ({reviewer.version}): {summary.reviewed} reviewed, {summary.cached} cached"
              + (f", {summary.redone_stale} redone (older version)" if summary.redone_stale else "")
              + (f", {len(summary.no_text)} without a paper text" if summary.no_text else "")
              + f"; reviews in {out_dir}", file=sys.stderr)
        return [(reviewer.name, summary.table, ids)]
    return [(path.stem, load_review_table(path), ids) for path in review_table_paths(data, args.reviews)]


def _slug(name: str) -> str:
    """A reviewer name as a folder name: "openai:gpt-4o@http://host:8000/v1" -> "openai-gpt-4o-host-8000-v1"."""
    return re.sub(r"[^A-Za-z0-9._]+", "-", name.replace("http://", "").replace("https://", "")).strip("-")


def _format_cv(name: str, cv: CrossValidation, fitted_name: str) -> str:
    metrics = ("balanced_accuracy", "f1", "roc_auc", "accuracy", "fpr", "fnr")
    headers = ("bal acc", "F1", "AUC", "acc", "FPR", "FNR")

    def cells(figures):
        return "  ".join(f"{figures[m][0]:.3f} ± {figures[m][1]:.3f}" for m in metrics)

    width = max(len(fitted_name), len(cv.baseline_name) + 8)
    title = (f"{name}: stratified {cv.folds}-fold CV repeated over seeds {cv.seeds[0]}..{cv.seeds[-1]} "
             f"({cv.n} papers, {cv.n_accept} accepted, {cv.n_dropped} left out for missing features); "
             "mean ± sd over seeds of the pooled out-of-fold predictions")
    gain = (f"per-fold gain in balanced accuracy (fitted - fixed, same folds): {cv.fold_gain[0]:+.3f} ± "
            f"{cv.fold_gain[1]:.3f}; fitted better in {cv.folds_won} of {cv.folds * len(cv.seeds)} folds")
    return "\n".join([
        title,
        f"{'':{width}}  " + "  ".join(h.ljust(13) for h in headers),
        f"{fitted_name:{width}}  {cells(cv.calibrated)}",
        f"{cv.baseline_name + ' (fixed)':{width}}  {cells(cv.baseline)}",
        gain,
    ])


def _feature_source(data: BenchData, args, tables) -> tuple[str, pd.DataFrame, pd.Series, pd.Series, str, str]:
    """(name, features, fixed-rule accepts, fixed-rule scores, fixed-rule name, transform)."""
    if args.features == "text":
        from aisci.review.offline_fitted import text_feature_table

        wanted = set(data.ids_from(args.fit_on)) if args.fit_on else set(data.labels.index)
        if args.evaluate_on:
            wanted |= set(data.ids_from(args.evaluate_on))
        table = text_feature_table(data, [pid for pid in data.labels.index if pid in wanted])
        fixed = ThresholdRule(column="checklist_overall", threshold=6)
        return ("text statistics of the papers", table[list(FEATURE_NAMES)], fixed.accepts(table),
                fixed.scores(table), "offline checklist Overall>=6", "log1p")
    if len(tables) != 1:
        raise ReviewBenchUsageError(f"--calibrate/--fit-on on sub-scores need one review table; {len(tables)} "
                                    "found: name one with --reviews FILE.csv")
    name, table, _ = tables[0]
    table = table.reindex(data.labels.index)
    fixed = _fixed_rule(_rules(args))
    features = table[usable_features(table, SUBSCORE_FEATURES)]
    return name, features, fixed.accepts(table), fixed.scores(table), fixed.name, "identity"


def run_bench(args) -> int:
    data = load_bench(args.data_dir)
    if args.fit:
        return _refit_shipped(data, args)
    if args.evaluate_on and not args.fit_on:
        raise ReviewBenchUsageError("--evaluate-on needs --fit-on (the ids the rule is fitted on)")
    if args.limit is not None and not args.run:
        raise ReviewBenchUsageError("--limit applies to --run")
    if args.bootstrap < 0:
        raise ReviewBenchUsageError("--bootstrap must be 0 or more")
    report: dict = {"data_dir": str(data.root)}
    text_only = args.features == "text" and not args.run and (args.calibrate or args.fit_on)
    tables = [] if text_only else _review_tables(data, args)

    results: list[ScoreResult] = []
    for name, table, ids in tables:
        for rule in _rules(args):
            results.append(score_reviews(data.labels, table, rule, source=name, ids=ids, missing=args.missing,
                                         bootstrap=args.bootstrap, seed=args.seed))
    if results:
        print(format_results(results))
        missing = sum(r.n_missing for r in results)
        if missing:
            print(f"({missing} paper-rule pairs had no usable review: "
                  f"{'counted as Reject' if args.missing == 'reject' else 'left out'})")
        report["scores"] = [r.as_dict() for r in results]

    if args.calibrate or args.fit_on:
        name, features, fixed_accepts, fixed_scores, fixed_name, transform = _feature_source(data, args, tables)
        fitted_name = f"logistic on {len(features.columns)} {'sub-scores' if transform == 'identity' else 'text statistics'}"
        if args.calibrate:
            cv_ids = data.ids_from(args.fit_on) if args.fit_on else list(features.index)
            cv_ids = [pid for pid in cv_ids if pid in features.index]
            cv = cross_validate(features.loc[cv_ids], data.labels, baseline_accepts=fixed_accepts,
                                baseline_scores=fixed_scores, baseline_name=fixed_name, folds=args.folds,
                                seeds=list(range(args.cv_seeds)), transform=transform, C=args.C)
            where = f" within {Path(args.fit_on).name}" if args.fit_on else ""
            print("\n" + _format_cv(f"{name}{where}", cv, fitted_name))
            report["cross_validation"] = cv.as_dict()
        if args.fit_on:
            report["fitted"] = _fit_and_evaluate(data, args, name, features, fixed_accepts, fixed_scores,
                                                 fixed_name, transform, fitted_name)
    if args.json:
        atomic_write_json(Path(args.json), report)
    return 0


def _fit_and_evaluate(data, args, name, features, fixed_accepts, fixed_scores, fixed_name, transform,
                      fitted_name) -> dict:
    fit_ids = [pid for pid in data.ids_from(args.fit_on) if pid in features.index]
    train = features.loc[fit_ids].dropna()
    rule = fit_logistic(train, data.labels, transform=transform, C=args.C, provenance={
        "features_from": "review sub-scores" if transform == "identity" else "paper text statistics",
        "source": name, "fitted_on": Path(args.fit_on).name, "dropped_missing": len(fit_ids) - len(train),
    })
    print(f"\nfitted {fitted_name} on {len(train)} papers of {Path(args.fit_on).name}")
    record: dict = {"rule": rule.to_json()}
    if args.evaluate_on:
        test_ids = data.ids_from(args.evaluate_on)
        overlap = set(test_ids) & set(fit_ids)
        if overlap:
            raise ReviewBenchUsageError(f"{len(overlap)} papers are in both --fit-on and --evaluate-on")
        table = features.reindex(test_ids)
        fitted_result = score_reviews(data.labels, table, rule, source=Path(args.evaluate_on).name, ids=test_ids,
                                      missing=args.missing, bootstrap=args.bootstrap, seed=args.seed)
        y = data.labels.loc[test_ids].to_numpy(dtype=bool)
        fixed_metrics = binary_metrics(y, fixed_accepts.reindex(test_ids).fillna(False).to_numpy(dtype=bool),
                                       fixed_scores.reindex(test_ids).fillna(-float("inf")).to_numpy(dtype=float))
        fixed_result = ScoreResult(source=Path(args.evaluate_on).name, rule=f"{fixed_name} (fixed)",
                                   metrics=fixed_metrics, n_missing=0, missing_policy=args.missing)
        fitted_result.rule = f"{fitted_name} (fitted)"
        print(f"evaluated once on {len(test_ids)} held-out papers:")
        print(format_results([fitted_result, fixed_result]))
        rule.provenance["evaluated_on"] = Path(args.evaluate_on).name
        rule.provenance["test_metrics"] = {k: round(v, 4) if isinstance(v, float) else v
                                           for k, v in fitted_result.metrics.as_dict().items()}
        record["test"] = {"fitted": fitted_result.as_dict(), "fixed": fixed_result.as_dict()}
    out = Path(args.rule_out or "calibrated_rule.json")
    rule.save(out)
    print(f"rule saved to {out} (apply it with --rule calibrated:{out})")
    record["rule_file"] = str(out)
    return record


HYBRID_REVIEWS = "gpt-4o-2024-05-13_temp_0_1_fewshot_1_reflect_5_ensemble_5_pages_all.csv"


def _refit_shipped(data: BenchData, args) -> int:
    from importlib import resources

    from aisci.review.fit_bench import fit_on_bench

    if args.calibrate or args.run or args.rule or args.threshold:
        raise ReviewBenchUsageError("--fit refits the shipped model; it does not combine with --calibrate, --run "
                                    "or --rule")
    fit_ids = data.ids_from(args.fit_on or "train_ids.txt")
    test_ids = data.ids_from(args.evaluate_on or "test_ids.txt")
    reviews = Path(args.reviews) if args.reviews else data.root / "llm_reviews" / HYBRID_REVIEWS
    if args.reviews and not reviews.is_file():
        raise ReviewBenchUsageError(f"--reviews: not a review table: {reviews}")
    out_dir = Path(args.out or "review-bench-fit")
    outcome = fit_on_bench(data, fit_ids, test_ids, out_dir, reviews=reviews if reviews.is_file() else None,
                           progress=lambda message: print(message, file=sys.stderr))
    print(f"evaluated once on {outcome.provenance['test']['n']} test papers "
          f"({outcome.provenance['test']['n_accept']} accepted), 95% bootstrap intervals:")
    print(format_results(list(outcome.test.values())))
    shipped = resources.files("aisci.review")
    for path in outcome.files:
        twin = shipped / path.name
        same = twin.is_file() and twin.read_bytes() == path.read_bytes()
        print(f"{path}: {'identical to' if same else 'differs from'} the shipped {path.name}")
    if args.json:
        atomic_write_json(Path(args.json), outcome.provenance)
    return 0
