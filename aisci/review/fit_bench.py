"""`aisci review-bench DATA --fit`: fit the shipped text model (and the hybrid rule) on a benchmark's
train ids, evaluate both once on its test ids, and write them with their provenance.

Files written to the output folder (the package ships the same three, `aisci/review/`):
  offline_text_model.json             the text model (aisci.review.text_model)
  offline_text_model.provenance.json  data digests, ids, code version, CV figures, the test figures
  hybrid_text_subscores_rule.json     the hybrid rule (only when a review table with sub-scores is given)

Nothing here depends on the time or the machine, so a refit on the same data writes the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import aisci
from aisci.fsutil import sha256_of
from aisci.review.bench import ScoreResult
from aisci.review.benchdata import RATINGS_FILE, BenchData, load_review_table
from aisci.review.fit_text import TEXT_SCORE, fit_hybrid, hybrid_features, select_and_fit
from aisci.review.inputs import read_bench_paper
from aisci.review.metrics import binary_metrics, bootstrap_intervals
from aisci.review.text_model import Corpus, TextModel, TextModelError

MODEL_FILE = "offline_text_model.json"
PROVENANCE_FILE = "offline_text_model.provenance.json"
HYBRID_FILE = "hybrid_text_subscores_rule.json"
CODE_FILES = ("text_model.py", "fit_text.py", "fit_bench.py", "textstats.py", "calibrate.py", "rules.py")
BOOTSTRAP = 2000


@dataclass
class FitOutcome:
    model: TextModel
    provenance: dict
    files: list[Path]
    test: dict[str, ScoreResult]


def code_version() -> dict:
    """aisci's version and a digest of the code that fits and applies the model."""
    here = Path(__file__).parent
    return {"aisci": aisci.__version__,
            "sources_sha256": sha256_of({name: (here / name).read_text(encoding="utf-8") for name in CODE_FILES})}


def _scored(name: str, y: np.ndarray, accepts: np.ndarray, scores: np.ndarray, source: str) -> ScoreResult:
    return ScoreResult(source=source, rule=name, metrics=binary_metrics(y, accepts, scores), n_missing=0,
                       missing_policy="reject",
                       intervals=bootstrap_intervals(y, accepts, scores, n_boot=BOOTSTRAP, seed=0))


def _rounded(result: ScoreResult) -> dict:
    record = result.as_dict()
    record["metrics"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in record["metrics"].items()}
    record["intervals"] = {k: [round(a, 4), round(b, 4)] for k, (a, b) in record["intervals"].items()}
    return record


def fit_on_bench(data: BenchData, fit_ids: list[str], test_ids: list[str], out_dir: Path, *,
                 reviews: Path | None = None, progress=print) -> FitOutcome:
    overlap = set(fit_ids) & set(test_ids)
    if overlap:
        raise TextModelError(f"{len(overlap)} papers are both fit and test ids, e.g. {sorted(overlap)[0]}")
    fit_ids = [pid for pid in fit_ids if data.paper_path(pid).is_file()]
    texts = [read_bench_paper(data.paper_path(pid)) for pid in fit_ids]
    progress(f"counting the words of {len(fit_ids)} training papers")
    corpus = Corpus.from_texts(texts, data.labels.loc[fit_ids].to_numpy(dtype=bool))
    rows = np.arange(len(fit_ids))
    provenance = {
        "what": "a statistical model of ICLR 2022 accept/reject decisions from a paper's words and text "
                "statistics; it does not read or understand the paper",
        "data": {"folder": data.root.name, "ratings_sha256": sha256_of((data.root / RATINGS_FILE).read_bytes()),
                 "fit_ids_sha256": sha256_of("\n".join(fit_ids)), "fit_papers_sha256": sha256_of(texts),
                 "n_fit": len(fit_ids), "n_fit_accept": int(corpus.labels.sum())},
        "code": code_version(),
    }
    progress("cross-validating the configurations within the training papers")
    report = select_and_fit(corpus, rows, provenance=provenance, progress=progress)
    model = report.model
    progress(f"chosen: {model.choice.features}, C={model.choice.C:g}; threshold {model.threshold:g} "
             f"(p(accept) {model.cutoff:.3f})")

    test_ids = [pid for pid in test_ids if data.paper_path(pid).is_file()]
    test_texts = [read_bench_paper(data.paper_path(pid)) for pid in test_ids]
    y_test = data.labels.loc[test_ids].to_numpy(dtype=bool)
    test_logits = model.logits(test_texts)
    test = {"text": _scored("fitted text model", y_test, test_logits >= model.threshold, test_logits, "test ids")}
    files = []
    out_dir.mkdir(parents=True, exist_ok=True)
    full_provenance = {**provenance, "cv": report.as_dict(), "test": {
        "n": len(test_ids), "n_accept": int(y_test.sum()), "test_ids_sha256": sha256_of("\n".join(test_ids)),
        "evaluated": "once, after every choice was made on the fit ids", "bootstrap": BOOTSTRAP,
        "text_model": _rounded(test["text"])}}

    if reviews is not None:
        table = load_review_table(reviews)
        train_table = hybrid_features(report.oof_logits, table.reindex(fit_ids))
        train_table.index = fit_ids
        rule, hybrid_cv = fit_hybrid(train_table, data.labels, provenance={
            "reviews": Path(reviews).name, "reviews_sha256": sha256_of(Path(reviews).read_bytes()),
            "fit_ids_sha256": provenance["data"]["fit_ids_sha256"], "code": provenance["code"]})
        test_table = hybrid_features(test_logits, table.reindex(test_ids))
        test_table.index = test_ids
        probability = rule.probabilities(test_table).fillna(-np.inf).to_numpy(dtype=float)  # no review: lowest
        test["hybrid"] = _scored("hybrid: text model + review sub-scores", y_test, probability >= rule.cutoff,
                                 probability, "test ids")
        overall = pd.to_numeric(table.reindex(test_ids)["Overall"], errors="coerce").fillna(-np.inf).to_numpy()
        test["reviews"] = _scored(f"{Path(reviews).stem[:40]} Overall>=6 (fixed)", y_test, overall >= 6, overall,
                                  "test ids")
        rule.provenance["test"] = _rounded(test["hybrid"])
        path = out_dir / HYBRID_FILE
        path.write_text(json.dumps(rule.to_json(), sort_keys=True, indent=1) + "\n", encoding="utf-8")
        files.append(path)
        full_provenance["hybrid"] = {"rule_file": HYBRID_FILE, "cv": hybrid_cv, "test": _rounded(test["hybrid"]),
                                     "reviews_alone_test": _rounded(test["reviews"])}
    model.save(out_dir / MODEL_FILE)
    (out_dir / PROVENANCE_FILE).write_text(json.dumps(full_provenance, sort_keys=True, indent=1) + "\n",
                                          encoding="utf-8")
    files[:0] = [out_dir / MODEL_FILE, out_dir / PROVENANCE_FILE]
    return FitOutcome(model=model, provenance=full_provenance, files=files, test=test)
