"""The fitted offline reviewer: model-free, its Overall and Decision from the shipped text model
(aisci.review.text_model), a statistical model of ICLR 2022 decisions fitted on the 400 train ids of
iclr2022-review-bench and evaluated once on its 100 test ids (see `offline_text_model.provenance.json`
beside this file, and `aisci review-bench DATA --fit`, which remakes it).

The review form is filled from the model and says so:
  Overall     from p(accept): the model's cutoff maps to 6, so "Overall >= 6" is its decision
  sub-scores  from the text statistics that drive them (AREAS), each 1 + round(3 x sigmoid(their share
              of the logit)); the checklist's sub-scores when the model reads no statistics
  strengths / weaknesses   the features that raise / lower p(accept) most, then the checklist's items
The checklist (aisci.review.offline) still supplies the questions and the limitations text.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import pandas as pd

from aisci.fsutil import sha256_of
from aisci.review.benchdata import BenchData
from aisci.review.form import ReviewForm
from aisci.review.inputs import read_bench_paper
from aisci.review.offline import OPEN_PROBLEM_CAP, OfflineChecklistReviewer, checklist_overall, sub_score
from aisci.review.text_model import TextModel, statistics_row
from aisci.review.textstats import FEATURE_NAMES, paper_statistics
from aisci.review.verified import VerifiedFacts

SHIPPED_MODEL = "offline_text_model.json"
SHIPPED_PROVENANCE = "offline_text_model.provenance.json"
FITTED_LABEL = ("Offline engine (fitted text model: a statistical model of ICLR 2022 accept/reject decisions from "
                "the paper's words and text statistics; no language model read this paper, and nothing here "
                "judges whether its claims are right)")
# which text statistics drive which part of the form; the words' share goes to contribution
AREAS = {
    "presentation": ("words", "sections", "figures", "tables"),
    "soundness": ("equations", "error_bars", "baselines", "ablations", "reproducibility", "theorems"),
    "contribution": ("citations", "references"),
}
NAMED = 4  # features named as strengths, and as weaknesses


def overall_from_probability(probability: float, cutoff: float = 0.5) -> int:
    """1..10: below the cutoff 1..5 in equal steps of p, from the cutoff up 6..9 (10 is out of reach:
    counting words cannot find an award-quality paper)."""
    if probability < cutoff:
        return 1 + min(4, int(5 * probability / cutoff))
    return 6 + min(3, int(4 * (probability - cutoff) / (1 - cutoff)))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class FittedTextReviewer:
    name = "offline-fitted"

    def __init__(self, model: TextModel, track_record: str = ""):
        self.model = model
        self.track_record = track_record  # what it reached on held-out papers, said in every review
        self.version = "textmodel-" + sha256_of(model.to_json())[:12]

    @classmethod
    def shipped(cls) -> FittedTextReviewer:
        folder = resources.files("aisci.review")
        provenance = json.loads((folder / SHIPPED_PROVENANCE).read_text(encoding="utf-8"))
        test = provenance["test"]
        figures = test["text_model"]["metrics"]
        record = (f"Fitted on {provenance['data']['n_fit']} ICLR 2022 papers; on {test['n']} held-out papers it "
                  f"reached balanced accuracy {figures['balanced_accuracy']:.2f} and ROC AUC {figures['roc_auc']:.2f}.")
        return cls(TextModel.load(Path(str(folder / SHIPPED_MODEL))), record)

    @classmethod
    def from_file(cls, path: str | Path) -> FittedTextReviewer:
        return cls(TextModel.load(path))

    def probability(self, paper_text: str) -> float:
        return self.model.probability(paper_text)

    def review_with_evidence(self, paper_text: str, verified: VerifiedFacts | None = None) -> tuple[ReviewForm, dict]:
        """`verified`: a study's own facts (aisci.review.verified); while an integrity problem of its
        writeup is open, Overall is capped as the checklist caps it, and the decision is Reject."""
        checklist = OfflineChecklistReviewer().assess(paper_text, verified)
        probability = self.model.probability(paper_text)
        words, numbers = self.model.contributions(paper_text)
        counted = dict(zip(FEATURE_NAMES, statistics_row(paper_text)))
        overall = overall_from_probability(probability, self.model.cutoff)
        problems = list(verified.open_problems) if verified else []
        capped = ""
        if problems and overall > OPEN_PROBLEM_CAP:
            overall = OPEN_PROBLEM_CAP
            capped = (f" Overall capped at {OPEN_PROBLEM_CAP} while {len(problems)} integrity problem"
                      f"{'s' if len(problems) != 1 else ''} of the writeup stay open.")
        scores = self._sub_scores(numbers, sum(words.values()), checklist)
        raising, lowering = _named_features(words, numbers, counted)
        form = checklist.form.model_copy(update={
            "summary": (f"{FITTED_LABEL}. p(accept) = {probability:.2f} against the model's cutoff "
                        f"{self.model.cutoff:.2f}: Overall {overall}.{capped} {self.track_record}".strip()),
            "strengths": [f"[text model] raises p(accept): {item}" for item in raising]
                         + [s for s in checklist.form.strengths],
            "weaknesses": [f"[text model] lowers p(accept): {item}" for item in lowering]
                          + [w for w in checklist.form.weaknesses],
            **scores,
            "overall": overall,
            "confidence": 1,
            "decision": "Accept" if probability >= self.model.cutoff and not problems else "Reject",
        })
        return form, {"p_accept": probability, "cutoff": self.model.cutoff, "model_version": self.version,
                      "word_contributions": dict(sorted(words.items(), key=lambda kv: -abs(kv[1]))[:20]),
                      "statistic_contributions": numbers,
                      "checklist": [c.as_dict() for c in checklist.checks]}

    def _sub_scores(self, numbers: dict[str, float], words_share: float, checklist) -> dict[str, int]:
        if not numbers:  # a words-only model: the checklist's areas
            form = checklist.form
            return {name: getattr(form, name) for name in ("soundness", "presentation", "contribution",
                                                           "originality", "quality", "clarity", "significance")}
        area = {name: sub_score(_sigmoid(sum(numbers.get(f, 0.0) for f in features)))
                for name, features in AREAS.items()}
        area["contribution"] = sub_score(_sigmoid(sum(numbers.get(f, 0.0) for f in AREAS["contribution"])
                                                  + words_share))
        return {"presentation": area["presentation"], "clarity": area["presentation"],
                "soundness": area["soundness"], "quality": area["soundness"],
                "contribution": area["contribution"], "significance": area["contribution"],
                "originality": min(3, area["contribution"])}  # novelty cannot be judged from counts

    def review(self, paper_text: str, verified: VerifiedFacts | None = None) -> ReviewForm:
        return self.review_with_evidence(paper_text, verified)[0]


def _named_features(words: dict[str, float], numbers: dict[str, float],
                    counted: dict[str, float]) -> tuple[list[str], list[str]]:
    """The features with the largest share of the logit, each way, in words a reader can check."""
    items = [(value, f"the wording \"{term}\" (more common in papers the venue "
                     f"{'accepted' if value > 0 else 'rejected'})") for term, value in words.items()]
    items += [(value, f"{name.replace('_', ' ')}: {counted.get(name, 0):g} counted") for name, value in numbers.items()]
    raising = [text for value, text in sorted(items, key=lambda item: -item[0]) if value > 0][:NAMED]
    lowering = [text for value, text in sorted(items, key=lambda item: item[0]) if value < 0][:NAMED]
    return raising, lowering


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
