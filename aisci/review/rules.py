"""Decision rules: turn one review (a row of a review table) into accept/reject and a ranking score.

  overall>=6            a fixed threshold on a score column (any column, any of >= > <= <)
  decision              the review's own Decision field
  calibrated:RULE.json  a fitted logistic rule saved by `aisci review-bench --fit-on`

Every rule gives a score per paper (higher = more likely accept, used for ROC AUC) and NaN where
the review lacks what the rule needs; the scoring step decides what a missing review means.
"""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aisci.errors import AisciError
from aisci.fsutil import atomic_write_json
from aisci.review.benchdata import REVIEW_COLUMNS

_COMPARISONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
# Count features are heavy-tailed (one paper has 900 "±"); log1p keeps one paper from dominating a fit.
TRANSFORMS = {"identity": lambda matrix: matrix, "log1p": lambda matrix: np.log1p(np.clip(matrix, 0, None))}
_THRESHOLD_SPEC = re.compile(r"^\s*([A-Za-z_ ]+?)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


class RuleError(AisciError):
    """A decision rule is malformed or cannot be applied to a review table."""


def _column(reviews: pd.DataFrame, name: str) -> pd.Series:
    if name not in reviews.columns:
        raise RuleError(f"the review table has no {name!r} column (has: {', '.join(map(str, reviews.columns))})")
    return pd.to_numeric(reviews[name], errors="coerce").astype(float)


@dataclass(frozen=True)
class ThresholdRule:
    column: str = "Overall"
    threshold: float = 6
    comparison: str = ">="

    @property
    def name(self) -> str:
        return f"{self.column}{self.comparison}{self.threshold:g}"

    def scores(self, reviews: pd.DataFrame) -> pd.Series:
        values = _column(reviews, self.column)
        return -values if self.comparison in ("<", "<=") else values  # lower is better for "<" rules

    def accepts(self, reviews: pd.DataFrame) -> pd.Series:
        values = _column(reviews, self.column)
        return values.where(values.isna(), _COMPARISONS[self.comparison](values, self.threshold))


@dataclass(frozen=True)
class DecisionFieldRule:
    name: str = "Decision field"

    def accepts(self, reviews: pd.DataFrame) -> pd.Series:
        if "Decision" not in reviews.columns:
            raise RuleError("the review table has no 'Decision' column")
        text = reviews["Decision"].astype("string").str.strip().str.lower()
        return pd.Series(np.where(text.str.startswith("accept").fillna(False), 1.0,
                                  np.where(text.str.startswith("reject").fillna(False), 0.0, np.nan)),
                         index=reviews.index)

    def scores(self, reviews: pd.DataFrame) -> pd.Series:
        return self.accepts(reviews)


@dataclass(frozen=True)
class LogisticRule:
    """p(accept) = sigmoid(intercept + sum coef_i * (x_i - center_i) / scale_i); accept when p >= cutoff."""

    features: list[str]
    center: list[float]
    scale: list[float]
    coefficients: list[float]
    intercept: float
    cutoff: float = 0.5
    transform: str = "identity"  # or "log1p", applied to the raw features before centering
    provenance: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"calibrated logistic ({len(self.features)} features)"

    def probabilities(self, features: pd.DataFrame) -> pd.Series:
        missing = [name for name in self.features if name not in features.columns]
        if missing:
            raise RuleError(f"the rule needs columns the table lacks: {', '.join(missing)}")
        matrix = TRANSFORMS[self.transform](
            features[self.features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float))
        standardized = (matrix - np.asarray(self.center)) / np.asarray(self.scale)
        logits = self.intercept + standardized @ np.asarray(self.coefficients)
        return pd.Series(1 / (1 + np.exp(-logits)), index=features.index)  # NaN rows stay NaN

    def scores(self, reviews: pd.DataFrame) -> pd.Series:
        return self.probabilities(reviews)

    def accepts(self, reviews: pd.DataFrame) -> pd.Series:
        probability = self.probabilities(reviews)
        return probability.where(probability.isna(), probability >= self.cutoff)

    def to_json(self) -> dict:
        return {"kind": "logistic", **asdict(self)}

    def save(self, path: str | Path) -> None:
        atomic_write_json(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> LogisticRule:
        path = Path(path)
        if not path.is_file():
            raise RuleError(f"rule file not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RuleError(f"{path}: not a JSON rule file ({exc})") from None
        return cls.from_json(data, source=str(path))

    @classmethod
    def from_json(cls, data: dict, source: str = "rule") -> LogisticRule:
        if not isinstance(data, dict) or data.get("kind") != "logistic":
            raise RuleError(f"{source}: not a logistic rule (kind must be 'logistic')")
        try:
            rule = cls(features=[str(name) for name in data["features"]],
                       center=[float(v) for v in data["center"]],
                       scale=[float(v) for v in data["scale"]],
                       coefficients=[float(v) for v in data["coefficients"]],
                       intercept=float(data["intercept"]),
                       cutoff=float(data.get("cutoff", 0.5)),
                       transform=str(data.get("transform", "identity")),
                       provenance=dict(data.get("provenance", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise RuleError(f"{source}: malformed logistic rule ({type(exc).__name__}: {exc})") from None
        lengths = {len(rule.features), len(rule.center), len(rule.scale), len(rule.coefficients)}
        if len(lengths) != 1 or not rule.features:
            raise RuleError(f"{source}: features, center, scale and coefficients must have the same non-zero length")
        if rule.transform not in TRANSFORMS:
            raise RuleError(f"{source}: unknown transform {rule.transform!r} (known: {', '.join(TRANSFORMS)})")
        if any(not math.isfinite(v) or v == 0 for v in rule.scale):
            raise RuleError(f"{source}: every scale must be a non-zero number")
        return rule


Rule = ThresholdRule | DecisionFieldRule | LogisticRule


def parse_rule(spec: str) -> Rule:
    """`overall>=6`, `decision`, `calibrated:PATH.json` (or just a path ending in .json)."""
    text = spec.strip()
    if text.lower() in ("decision", "decision field"):
        return DecisionFieldRule()
    if text.lower().startswith("calibrated:"):
        return LogisticRule.load(text.split(":", 1)[1])
    if text.lower().endswith(".json"):
        return LogisticRule.load(text)
    match = _THRESHOLD_SPEC.match(text)
    if not match:
        raise RuleError(f"cannot read rule {spec!r}: use e.g. 'overall>=6', 'decision' or 'calibrated:rule.json'")
    column, comparison, threshold = match.groups()
    canonical = {name.lower(): name for name in REVIEW_COLUMNS}
    return ThresholdRule(column=canonical.get(column.strip().lower(), column.strip()),
                         threshold=float(threshold), comparison=comparison)
