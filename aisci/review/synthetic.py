"""A small synthetic review benchmark in the iclr2022-review-bench layout, made on the spot.

For tests and for trying `aisci review-bench` without the real data: accepted papers are written
with more of what the checklist looks for (sections, tables, error bars, citations...), and the
review table's scores lean towards the true decision with some deliberate mistakes, so every metric
is informative but none is perfect. Deterministic for a given seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aisci.fsutil import atomic_write_text
from aisci.review.benchdata import REVIEW_COLUMNS

_FILLER = ("We study a learning problem and propose a method that improves on prior approaches. "
           "The method is simple to implement and scales to large data. ")


def _paper_text(index: int, strong: bool, rng: np.random.Generator) -> str:
    n_cite = int(rng.integers(90, 130) if strong else rng.integers(5, 30))
    n_tables = 4 if strong else 1
    n_figures = 5 if strong else 1
    citations = " ".join(f"(Author{k} et al., {2000 + k % 20})." for k in range(n_cite))
    parts = [f"# Synthetic paper {index}", "", "ABSTRACT", "",
             f"We propose method {index} for a synthetic task and evaluate it carefully on benchmarks.", "",
             "1 INTRODUCTION", "", _FILLER * (60 if strong else 15), ""]
    if strong:
        parts += ["2 RELATED WORK", "", citations, "", "3 METHOD", "",
                  "Theorem 1. The loss decreases. Proof. By Lemma 2 and Proposition 3.", ""]
        parts += [f"x_{k} = f(x_{k - 1})    ({k})" for k in range(1, 6)]
        parts += ["", "4 EXPERIMENTS", "", "4.1 SETUP", "", "4.2 RESULTS", ""]
        parts += [f"Table {k}: accuracy 0.9{k} ± 0.01 (std over 5 random seeds) against the baseline."
                  for k in range(1, n_tables + 1)]
        parts += [f"Figure {k}: curves with error bars compared with baselines." for k in range(1, n_figures + 1)]
        parts += ["We compare against baselines and the state of the art on three datasets and benchmarks. " * 8,
                  "An ablation study removes each component; the ablation shows both matter. "
                  "Code is available at github.com/anon/repo with all hyperparameters; reproducibility is "
                  "ensured by fixed random seeds. Our datasets and benchmarks are public. " * 4,
                  "", "4.3 LIMITATIONS", "", "The limitations of this work are discussed here.", "",
                  "5 CONCLUSION", "", "We conclude.", "", "REFERENCES", ""]
        parts += [f"Author{k}, A. Paper {k}. In Venue, {2000 + k % 20}." for k in range(n_cite)]
    else:
        parts += ["2 METHOD", "", citations, "", "3 EXPERIMENTS", "",
                  "Table 1: accuracy 0.71.", "Figure 1: a curve.", "", "4 CONCLUSION", "", "We conclude.",
                  "", "REFERENCES", ""]
        parts += [f"Author{k}, A. Paper {k}. In Venue, {2000 + k % 20}." for k in range(n_cite)]
    return "\n".join(parts) + "\n"


def write_synthetic_bench(folder: str | Path, n_papers: int = 20, seed: int = 0) -> Path:
    """Write ratings_subset.tsv, papers/, llm_reviews/synthetic_reviewer.csv, train_ids.txt, test_ids.txt."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    ids = [f"paper{index:03d}" for index in range(n_papers)]
    accepted = np.arange(n_papers) % 5 < 2  # 40% accepted, spread evenly so any split keeps both classes
    accept_kinds = ("Accept (Poster)", "Accept (Spotlight)", "Accept (Oral)")
    decisions = [accept_kinds[i % 3] if accepted[i] else "Reject" for i in range(n_papers)]
    ratings = pd.DataFrame({"paper_id": ids, **{str(k): rng.integers(3, 9, n_papers).astype(float) for k in range(3)},
                            "decision": decisions})
    atomic_write_text(folder / "ratings_subset.tsv", ratings.to_csv(sep="\t", index=False))
    for index, paper_id in enumerate(ids):
        atomic_write_text(folder / "papers" / f"{paper_id}.txt", _paper_text(index, bool(accepted[index]), rng))
    rows = []
    for index, paper_id in enumerate(ids):
        # the reviewer leans to the truth but misjudges every fourth paper
        leaning = accepted[index] != (index % 4 == 3)
        overall = int(rng.integers(6, 9) if leaning else rng.integers(3, 6))
        low, high = (2, 5) if leaning else (1, 4)

        def sub(low=low, high=high) -> int:
            return int(rng.integers(low, high))
        rows.append({"paper_id": paper_id, "Summary": f"A review of {paper_id}.", "Questions": "[]",
                     "Limitations": "[]", "Ethical Concerns": False, "Soundness": sub(), "Presentation": sub(),
                     "Contribution": sub(), "Overall": overall, "Confidence": int(rng.integers(2, 6)),
                     "Strengths": "['clear']", "Weaknesses": "['small']", "Originality": sub(), "Quality": sub(),
                     "Clarity": sub(), "Significance": sub(),
                     "Decision": "Accept" if overall >= 7 else "Reject"})
    reviews = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
    atomic_write_text(folder / "llm_reviews" / "synthetic_reviewer.csv", reviews.to_csv(index=False))
    test = [paper_id for index, paper_id in enumerate(ids) if index % 4 == 0]
    atomic_write_text(folder / "train_ids.txt", "\n".join(p for p in ids if p not in test) + "\n")
    atomic_write_text(folder / "test_ids.txt", "\n".join(test) + "\n")
    return folder
