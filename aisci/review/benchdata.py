"""Read a labelled review benchmark folder (the layout of iclr2022-review-bench):

  ratings_subset.tsv   paper_id, human scores, decision ("Reject" or "Accept (...)")
  papers/<id>.txt      the paper's text
  llm_reviews/*.csv    one review per paper: paper_id, Summary, ..., Overall, ..., Decision
  train_ids.txt, test_ids.txt   optional split, one paper id per line
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aisci.errors import AisciError

RATINGS_FILE = "ratings_subset.tsv"
REVIEWS_FOLDER = "llm_reviews"
PAPERS_FOLDER = "papers"

# Canonical column names of a review table (as in the published CSVs).
SCORE_COLUMNS = ("Soundness", "Presentation", "Contribution", "Overall", "Confidence",
                 "Originality", "Quality", "Clarity", "Significance")
TEXT_COLUMNS = ("Summary", "Questions", "Limitations", "Strengths", "Weaknesses")
REVIEW_COLUMNS = ("paper_id", "Summary", "Questions", "Limitations", "Ethical Concerns", "Soundness",
                  "Presentation", "Contribution", "Overall", "Confidence", "Strengths", "Weaknesses",
                  "Originality", "Quality", "Clarity", "Significance", "Decision")


class BenchDataError(AisciError):
    """A review benchmark folder or review table is missing or malformed."""


@dataclass(frozen=True)
class BenchData:
    root: Path
    labels: pd.Series  # bool, index paper_id, True = accepted by the venue
    decisions: pd.Series  # the raw decision strings

    def paper_path(self, paper_id: str) -> Path:
        return self.root / PAPERS_FOLDER / f"{paper_id}.txt"

    def ids_from(self, ids_file: str | Path) -> list[str]:
        """Paper ids listed in a file (a path, or a name inside the data folder), checked against the labels."""
        path = Path(ids_file)
        if not path.exists() and (self.root / path).exists():
            path = self.root / path
        if not path.is_file():
            raise BenchDataError(f"ids file not found: {ids_file} (looked in . and {self.root})")
        ids = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        unknown = [paper_id for paper_id in ids if paper_id not in self.labels.index]
        if unknown:
            raise BenchDataError(f"{path.name}: {len(unknown)} ids not in {RATINGS_FILE}, e.g. {unknown[0]!r}")
        if not ids:
            raise BenchDataError(f"{path.name} lists no paper ids")
        return ids


def load_bench(data_dir: str | Path) -> BenchData:
    root = Path(data_dir)
    ratings_path = root / RATINGS_FILE
    if not root.is_dir():
        raise BenchDataError(f"benchmark folder not found: {root}")
    if not ratings_path.is_file():
        raise BenchDataError(f"{root} has no {RATINGS_FILE} (paper_id and decision columns expected)")
    try:
        ratings = pd.read_csv(ratings_path, sep="\t", dtype={"paper_id": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise BenchDataError(f"{ratings_path}: not a readable TSV ({exc})") from None
    for column in ("paper_id", "decision"):
        if column not in ratings.columns:
            raise BenchDataError(f"{ratings_path}: no {column!r} column")
    if ratings["paper_id"].duplicated().any():
        duplicate = ratings.loc[ratings["paper_id"].duplicated(), "paper_id"].iloc[0]
        raise BenchDataError(f"{ratings_path}: paper_id {duplicate!r} appears more than once")
    decisions = ratings.set_index("paper_id")["decision"].astype(str).str.strip()
    unknown = decisions[~decisions.str.match(r"^(Accept|Reject)\b")]
    if len(unknown):
        raise BenchDataError(f"{ratings_path}: decision {unknown.iloc[0]!r} for {unknown.index[0]} "
                             "is neither 'Reject' nor 'Accept (...)'")
    labels = decisions.str.startswith("Accept")  # any "Accept (Poster/Spotlight/Oral)" is an accept
    return BenchData(root=root, labels=labels, decisions=decisions)


def review_table_paths(data: BenchData, reviews: str | Path | None) -> list[Path]:
    """The review CSVs to score: a CSV, every CSV in a folder, or by default DATA/llm_reviews/*.csv."""
    source = Path(reviews) if reviews else data.root / REVIEWS_FOLDER
    if source.is_dir():
        paths = sorted(source.glob("*.csv"))
        if not paths:
            raise BenchDataError(f"no .csv review tables in {source}")
        return paths
    if source.is_file():
        return [source]
    raise BenchDataError(f"review table or folder not found: {source}")


def load_review_table(path: str | Path) -> pd.DataFrame:
    """A review table indexed by paper_id, columns renamed to the canonical spelling, scores numeric.

    Scores that are empty or not numbers become NaN (the scoring step decides what a missing
    score means); a table without paper_id, or with a paper reviewed twice, is an error.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"paper_id": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise BenchDataError(f"{path}: not a readable CSV ({exc})") from None
    canonical = {name.lower(): name for name in REVIEW_COLUMNS}
    table = table.rename(columns={column: canonical.get(str(column).strip().lower(), column)
                                  for column in table.columns})
    if "paper_id" not in table.columns:
        raise BenchDataError(f"{path}: no paper_id column")
    table["paper_id"] = table["paper_id"].astype(str).str.strip()
    duplicated = table["paper_id"].duplicated()
    if duplicated.any():
        raise BenchDataError(f"{path}: paper_id {table.loc[duplicated, 'paper_id'].iloc[0]!r} has more than "
                             "one row (one review per paper expected; aggregate an ensemble first)")
    for column in SCORE_COLUMNS:
        if column in table.columns:
            table[column] = pd.to_numeric(table[column], errors="coerce")
    return table.set_index("paper_id")


def form_to_row(paper_id: str, form) -> dict:
    """A ReviewForm as one row of a review table, in the published CSVs' columns."""
    return {
        "paper_id": paper_id, "Summary": form.summary, "Questions": repr(form.questions),
        "Limitations": repr(form.limitations), "Ethical Concerns": form.ethical_concerns,
        "Soundness": form.soundness, "Presentation": form.presentation, "Contribution": form.contribution,
        "Overall": form.overall, "Confidence": form.confidence, "Strengths": repr(form.strengths),
        "Weaknesses": repr(form.weaknesses), "Originality": form.originality, "Quality": form.quality,
        "Clarity": form.clarity, "Significance": form.significance, "Decision": form.decision,
    }
