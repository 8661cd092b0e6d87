"""The review benchmark: score review tables against the venue's decisions, and run an aisci
reviewer over a benchmark's papers with every review cached (a rerun only reviews what is new).

A labelled paper whose review is missing, or lacks the score the rule needs (empty, NaN, not a
number), is by default counted as a Reject with the lowest score (`missing="reject"`): a reviewer
that fails on a paper does not get to leave it out. `missing="drop"` scores only the papers with a
usable review instead. Either way the count of such papers is reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aisci.fsutil import atomic_write_json, atomic_write_text
from aisci.review.benchdata import (
    REVIEW_COLUMNS,
    BenchData,
    BenchDataError,
    form_to_row,
)
from aisci.review.form import ReviewForm
from aisci.review.inputs import read_bench_paper
from aisci.review.metrics import (
    METRIC_NAMES,
    BinaryMetrics,
    binary_metrics,
    bootstrap_intervals,
)
from aisci.review.reviewer import Reviewer, review_with_evidence
from aisci.review.rules import Rule

MISSING_POLICIES = ("reject", "drop")


@dataclass
class ScoreResult:
    source: str
    rule: str
    metrics: BinaryMetrics
    n_missing: int
    missing_policy: str
    intervals: dict[str, tuple[float, float]] | None = None

    def as_dict(self) -> dict:
        return {"source": self.source, "rule": self.rule, "metrics": self.metrics.as_dict(),
                "n_missing": self.n_missing, "missing_policy": self.missing_policy,
                "intervals": self.intervals}


def score_reviews(labels: pd.Series, reviews: pd.DataFrame, rule: Rule, *, source: str,
                  ids: list[str] | None = None, missing: str = "reject", bootstrap: int = 0,
                  seed: int = 0) -> ScoreResult:
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}")
    ids = list(labels.index) if ids is None else list(ids)
    table = reviews.reindex(ids)
    accepts = rule.accepts(table).astype(float)
    scores = rule.scores(table).astype(float)
    is_missing = (accepts.isna() | scores.isna()).to_numpy()
    y_true = labels.loc[ids].to_numpy(dtype=bool)
    if missing == "drop":
        keep = ~is_missing
        y_true, accepts, scores = y_true[keep], accepts[keep], scores[keep]
    y_pred = accepts.fillna(0.0).to_numpy() > 0.5
    score_values = scores.fillna(-np.inf).to_numpy()  # a missing review ranks below every real one
    if y_true.size == 0:
        raise BenchDataError(f"{source}: no paper left to score")
    intervals = (bootstrap_intervals(y_true, y_pred, score_values, n_boot=bootstrap, seed=seed)
                 if bootstrap else None)
    return ScoreResult(source=source, rule=rule.name, metrics=binary_metrics(y_true, y_pred, score_values),
                       n_missing=int(is_missing.sum()), missing_policy=missing, intervals=intervals)


_HEADERS = {"accuracy": "acc", "balanced_accuracy": "bal acc", "f1": "F1", "roc_auc": "AUC",
            "fpr": "FPR", "fnr": "FNR"}


def format_results(results: list[ScoreResult]) -> str:
    """A plain-text table, one row per (review table, rule); intervals in brackets when bootstrapped."""
    rows = []
    for result in results:
        metrics = result.metrics.as_dict()
        row = {"reviews": result.source, "rule": result.rule, "n": str(result.metrics.n),
               "missing": str(result.n_missing)}
        for name in METRIC_NAMES:
            cell = f"{metrics[name]:.3f}"
            if result.intervals:
                low, high = result.intervals[name]
                cell += f" [{low:.3f}, {high:.3f}]"
            row[_HEADERS[name]] = cell
        rows.append(row)
    columns = list(rows[0]) if rows else []
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


# --- running a reviewer over the benchmark papers ----------------------------------------------

@dataclass
class RunSummary:
    out_dir: Path
    reviewed: int = 0
    cached: int = 0
    redone_stale: int = 0  # cached by another reviewer version, so reviewed again
    no_text: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None


def _cache_path(out_dir: Path, paper_id: str) -> Path:
    if not paper_id or "/" in paper_id or "\\" in paper_id or paper_id.startswith("."):
        raise BenchDataError(f"paper id {paper_id!r} cannot name a cache file")
    return out_dir / f"{paper_id}.json"


def _load_cached(path: Path, reviewer: Reviewer) -> tuple[dict | None, bool]:
    """(cached record, was_stale). A damaged file or another reviewer/version means review again."""
    if not path.is_file():
        return None, False
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        ReviewForm.model_validate(record["review"])
    except (ValueError, KeyError, TypeError):
        return None, True
    if record.get("reviewer") != reviewer.name or record.get("reviewer_version") != reviewer.version:
        return None, True
    return record, False


def run_reviewer(data: BenchData, reviewer: Reviewer, out_dir: str | Path, ids: list[str],
                 progress: Callable[[int, int, str], None] | None = None) -> RunSummary:
    """Review each paper in `ids` unless `out_dir/<id>.json` already holds this reviewer's review.

    Each review is written as soon as it is made, so an interrupted run loses at most one paper.
    The table of all reviews is also written as out_dir/reviews.csv, ready for `--reviews`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = RunSummary(out_dir=out_dir)
    rows = []
    for position, paper_id in enumerate(ids, 1):
        cache = _cache_path(out_dir, paper_id)
        record, stale = _load_cached(cache, reviewer)
        if record is not None:
            summary.cached += 1
        else:
            paper = data.paper_path(paper_id)
            if not paper.is_file():
                summary.no_text.append(paper_id)
                continue
            form, evidence = review_with_evidence(reviewer, read_bench_paper(paper))
            record = {"paper_id": paper_id, "reviewer": reviewer.name, "reviewer_version": reviewer.version,
                      "review": form.model_dump(), "evidence": evidence}
            atomic_write_json(cache, record)
            summary.reviewed += 1
            summary.redone_stale += int(stale)
        row = form_to_row(paper_id, ReviewForm.model_validate(record["review"]))
        if "p_accept" in record.get("evidence", {}):
            row["p_accept"] = record["evidence"]["p_accept"]
        rows.append(row)
        if progress:
            progress(position, len(ids), paper_id)
    table = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS) + (["p_accept"] if any("p_accept" in r for r in rows) else []))
    atomic_write_text(out_dir / "reviews.csv", table.to_csv(index=False))
    summary.table = table.set_index("paper_id")
    return summary
