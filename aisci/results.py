"""Reading a study's results back: the node table and every record with its provenance.
Used by the analysis, paper and review notebooks, so a person can call the same code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aisci.artifacts import ExperimentSummary
from aisci.records import Record, read_records

if TYPE_CHECKING:  # pandas loads where a table is made, not with every importer of this module
    import pandas as pd


def node_table(study_dir: str | Path) -> pd.DataFrame:
    """One row per experiment node: id, idea, kind, status, then its metrics."""
    import pandas as pd

    rows = [{"node": n.id, "idea": n.idea, "kind": str(n.kind), "status": str(n.status), **n.metrics}
            for n in ExperimentSummary.load(study_dir).nodes]
    return pd.DataFrame(rows)


def best_node(study_dir: str | Path) -> str | None:
    """The node the experiments phase chose as best: the one a person approved at the
    experiments gate, else the best by the template's primary metric and direction."""
    return ExperimentSummary.load(study_dir).best


def experiment_records(study_dir: str | Path) -> dict[str, list[Record]]:
    """Records of every finished node, read from its executed notebook."""
    root = Path(study_dir)
    found = {}
    for node in ExperimentSummary.load(study_dir).nodes:
        if node.status == "done":
            found[node.id] = read_records(root / node.notebook, label=node.notebook)
    return found


def analysis_records(study_dir: str | Path) -> list[Record]:
    path = Path(study_dir) / "analysis" / "analysis.ipynb"
    return read_records(path, label="analysis/analysis.ipynb") if path.exists() else []


def histories(study_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Training curves (history.csv) written by finished nodes."""
    import pandas as pd

    root = Path(study_dir)
    curves = {}
    for node in ExperimentSummary.load(study_dir).nodes:
        path = root / Path(node.notebook or "").parent / "history.csv"
        if node.status == "done" and node.notebook and path.exists():
            curves[node.id] = pd.read_csv(path)
    return curves

