"""Analysis cells written by the model for the study's own questions (per-seed spread,
overlaid curves, a table of the ablations, a plot of the changed component), appended after
the fixed base analysis, which stays as the floor. A helper of the analysis phase.

The cells run in the sandboxed kernel, like experiment nodes. A failing cell goes back to
the model once, as a debug round; still failing, it is dropped and the notebook says so.
What the cells record reaches values.tex, and their figures go through the figures gate,
like any record and figure of the analysis. The offline engine writes no extra cells."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, Field

from aisci.llm.tasks import Task
from aisci.execution import build
from aisci.search.node import NodeStatus

if TYPE_CHECKING:  # only named in annotations: `aisci status` imports this module without loading nbformat
    import nbformat

    from aisci.artifacts import ExperimentSummary

ROLE = "model-analysis"


class AnalysisCell(BaseModel):
    title: str = Field(description="a short heading: what the cell shows")
    purpose: str = Field(description="one sentence: which question of the study it answers")
    source: str = Field(description="the Python code of the cell")


class AnalysisCells(BaseModel):
    cells: list[AnalysisCell] = Field(default_factory=list, description="cells to append, in order")


class CellFix(BaseModel):
    source: str = Field(description="the whole corrected code of the cell")
    explanation: str = Field(description="what was wrong, in a sentence")


def _offline_cells(inputs: dict[str, Any]) -> AnalysisCells:
    """The offline engine reads no question into the results: the base analysis is all."""
    return AnalysisCells(cells=[])


def _offline_fix(inputs: dict[str, Any]) -> CellFix:
    return CellFix(source=inputs["source"], explanation="the offline engine does not rewrite code")


WRITE = Task("analysis.cells", "analysis", AnalysisCells, _offline_cells, temperature=0.3, max_tokens=6000)
FIX = Task("analysis.fix_cell", "analysis", CellFix, _offline_fix, temperature=0.2, max_tokens=4000)


RUN_FIELDS = ("id", "idea", "kind", "status", "parent", "seed", "ablation", "metrics", "parameters")


def study_for_prompt(summary: ExperimentSummary, ideas: list, histories: dict[str, list[str]], primary: str,
                     direction: str) -> dict[str, Any]:
    """What the model needs to choose its analyses: ideas, runs, and the data on disk."""
    return {
        "primary_metric": primary, "direction": direction,
        "ideas": [{"name": i.name, "title": i.title, "hypothesis": i.hypothesis, "parameters": i.parameters,
                   "method_change": getattr(i, "method_change", "")} for i in ideas],
        # the prompt's JSON, its keys in this order
        "runs": [{k: row[k] for k in RUN_FIELDS} for row in (n.model_dump(mode="json") for n in summary.nodes)],
        "replicas": summary.replicas,
        "history_columns": histories,
    }


def write_cells(llm, study: dict) -> tuple[list[AnalysisCell], str]:
    result = llm.run(WRITE, **study)
    return result.output.cells, result.author


def append(nb: nbformat.NotebookNode, cells: list[AnalysisCell], author: str) -> nbformat.NotebookNode:
    if not cells:
        return nb
    nb.cells.append(build.markdown(
        "## Analyses chosen for this study\n\n_Written by " + build.author_label(author) + " for the study's ideas; "
        "they run in the sandboxed kernel after aisci's base analysis above._", author))
    for cell in cells:
        nb.cells.append(_marked(build.markdown(f"### {cell.title}\n\n{cell.purpose}", author)))
        nb.cells.append(_marked(build.code(cell.source, author)))
    return nb


def run_with_repair(nb: nbformat.NotebookNode, run: Callable[[nbformat.NotebookNode], Any],
                    executed: Callable[[], nbformat.NotebookNode], fix: Callable[[str, str, str], CellFix],
                    say: Callable[[str], None]) -> tuple[Any, list[str]]:
    """Run the notebook; a model cell that fails gets one fix round, then is dropped with a
    note. Returns the last run's result and the notes. Only model cells are ever changed:
    a failure in aisci's own cells is returned as it is."""
    notes: list[str] = []
    fixed: set[str] = set()
    for _ in range(2 * len(_model_code(nb)) + 1):
        result = run(nb)
        if result.ok:
            return result, notes
        index = _failed_model_cell(executed())
        if index is None:
            return result, notes
        cell = nb.cells[index]
        cell_id = cell.get("id")
        if cell_id not in fixed:
            fixed.add(cell_id)
            answer = fix(cell.source, result.reason, result.traceback_tail)
            cell.source = answer.source
            say(f"analysis: a model-written cell failed ({result.reason}); the model fixed it: {answer.explanation}")
            continue
        note = f"A model-written analysis cell was dropped: it still failed after a fix round ({result.reason})."
        nb.cells[index] = _marked(build.markdown(f"> **Dropped.** {note}", build.AISCI_AUTHOR))
        notes.append(note)
        say(f"analysis: {note}")
    return run(nb), notes


def _marked(cell):
    cell.metadata.setdefault("aisci", {})["role"] = ROLE
    return cell


def _model_code(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.get("metadata", {}).get("aisci", {}).get("role") == ROLE]


def _failed_model_cell(executed: nbformat.NotebookNode) -> int | None:
    """The index of the model cell with an error output, counted as in the notebook aisci
    wrote (the cells papermill adds, its injected parameters and error banners, aside)."""
    added = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in executed.cells if not added & set(c.get("metadata", {}).get("tags", []))]
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index if cell.get("metadata", {}).get("aisci", {}).get("role") == ROLE else None
    return None


def history_columns(study_root: Path, summary: ExperimentSummary) -> dict[str, list[str]]:
    """The columns of each finished node's history.csv (what curves can be drawn)."""
    out = {}
    for node in summary.nodes:
        if node.status != NodeStatus.DONE or not node.notebook:
            continue
        path = Path(study_root) / Path(node.notebook).parent / "history.csv"
        if path.exists():
            out[node.id] = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    return out
