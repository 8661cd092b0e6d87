"""Reading a study's results back: the node table and every record with its provenance.
Used by the analysis, paper and review notebooks, so a person can call the same code."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from aisci.records import Record, read_records


def node_table(study_dir: str | Path) -> pd.DataFrame:
    """One row per experiment node: id, idea, kind, status, then its metrics."""
    summary = _summary(study_dir)
    rows = [{"node": n["id"], "idea": n["idea"], "kind": n["kind"], "status": n["status"], **n["metrics"]}
            for n in summary["nodes"]]
    return pd.DataFrame(rows)


def best_node(study_dir: str | Path) -> str | None:
    """The node the experiments phase chose as best: the one a person approved at the
    experiments gate, else the best by the template's primary metric and direction."""
    return _summary(study_dir).get("best")


def experiment_records(study_dir: str | Path) -> dict[str, list[Record]]:
    """Records of every finished node, read from its executed notebook."""
    root = Path(study_dir)
    found = {}
    for node in _summary(study_dir)["nodes"]:
        if node["status"] == "done" and node.get("notebook"):
            found[node["id"]] = read_records(root / node["notebook"], label=node["notebook"])
    return found


def analysis_records(study_dir: str | Path) -> list[Record]:
    path = Path(study_dir) / "analysis" / "analysis.ipynb"
    return read_records(path, label="analysis/analysis.ipynb") if path.exists() else []


def histories(study_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Training curves (history.csv) written by finished nodes."""
    root = Path(study_dir)
    curves = {}
    for node in _summary(study_dir)["nodes"]:
        if node["status"] != "done" or not node.get("notebook"):  # failed and never-run nodes have no curve
            continue
        path = root / Path(node["notebook"]).parent / "history.csv"
        if path.exists():
            curves[node["id"]] = pd.read_csv(path)
    return curves


def _summary(study_dir: str | Path) -> dict:
    path = Path(study_dir) / "experiments" / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"nodes": []}
