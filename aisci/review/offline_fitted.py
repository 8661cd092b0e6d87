"""The fitted offline reviewer: still model-free, but Overall and Decision come from a logistic
rule on a dozen text statistics (`PaperStatistics.features`), fitted on labelled papers.

The shipped rule (`offline_textstats_rule.json`, beside this file) was fitted on the 400 train ids
of iclr2022-review-bench only and evaluated once on its 100 test ids; its provenance block says
how. Sub-scores, strengths and weaknesses are the checklist's (see `offline.py`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from aisci.fsutil import sha256_of
from aisci.review.benchdata import BenchData
from aisci.review.form import ReviewForm
from aisci.review.inputs import read_bench_paper
from aisci.review.offline import OfflineChecklistReviewer, checklist_overall
from aisci.review.rules import LogisticRule
from aisci.review.textstats import FEATURE_NAMES, paper_statistics

SHIPPED_RULE = "offline_textstats_rule.json"
FITTED_LABEL = "Offline engine (model-free; fitted text-statistics rule; no language model read this paper)"


def text_features(paper_text: str) -> dict[str, float]:
    return paper_statistics(paper_text).features()


def text_feature_table(data: BenchData, ids: list[str]) -> pd.DataFrame:
    """One row per paper id: its text statistics, plus `checklist_overall`, the offline checklist
    reviewer's Overall (the fixed rule a fitted one is compared with). Papers without text are left out."""
    rows = {}
    for paper_id in ids:
        if data.paper_path(paper_id).is_file():
            stats = paper_statistics(read_bench_paper(data.paper_path(paper_id)))
            rows[paper_id] = {**stats.features(), "checklist_overall": float(checklist_overall(stats))}
    return pd.DataFrame.from_dict(rows, orient="index", columns=[*FEATURE_NAMES, "checklist_overall"])


def overall_from_probability(probability: float) -> int:
    """1..10 in tenths of p(accept): p >= 0.5 gives 6 or more, so "Overall >= 6" is the fitted rule."""
    return max(1, min(10, 1 + int(probability * 10)))


class FittedTextReviewer:
    name = "offline-fitted"

    def __init__(self, rule: LogisticRule):
        self.rule = rule
        self.version = "textstats-" + sha256_of(rule.to_json())[:12]

    @classmethod
    def shipped(cls) -> FittedTextReviewer:
        return cls(LogisticRule.load(Path(str(resources.files("aisci.review") / SHIPPED_RULE))))

    def probability(self, paper_text: str) -> float:
        features = pd.DataFrame([text_features(paper_text)])
        return float(self.rule.probabilities(features).iloc[0])

    def review_with_evidence(self, paper_text: str) -> tuple[ReviewForm, dict]:
        assessment = OfflineChecklistReviewer().assess(paper_text)
        features = text_features(paper_text)
        probability = float(self.rule.probabilities(pd.DataFrame([features])).iloc[0])
        overall = overall_from_probability(probability)
        checklist_summary = assessment.form.summary.split(". ", 1)[1] if ". " in assessment.form.summary else ""
        form = assessment.form.model_copy(update={
            "summary": (f"{FITTED_LABEL}. p(accept) = {probability:.2f} from a logistic rule on text statistics "
                        f"({', '.join(f'{k} {v:g}' for k, v in features.items())}). {checklist_summary}"),
            "overall": overall,
            "decision": "Accept" if probability >= self.rule.cutoff else "Reject",
        })
        return form, {"p_accept": probability, "features": features,
                      "checklist": [c.as_dict() for c in assessment.checks]}

    def review(self, paper_text: str) -> ReviewForm:
        return self.review_with_evidence(paper_text)[0]
