"""Analysis: a notebook that tables and plots the recorded metrics, records derived
numbers (best run, difference from the baseline), and saves figures with captions.

A person may edit analysis/analysis.ipynb (another plot, another record): the next run sees
that its code is not what aisci wrote, runs the person's notebook as it is instead of
rebuilding it, marks the changed cells as theirs, and reruns what follows (their records and
figures reach the paper). Deleting the notebook has aisci write it afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from aisci.artifacts import Analysis, ExperimentSummary, novel_ideas
from aisci.constants import OFFLINE_ENGINE
from aisci.fsutil import sha256_of
from aisci.llm.tasks import Task
from aisci.execution import build
from aisci import analysis_cells
from aisci.errors import NotebookError
from aisci.records import display_payloads, read_records
from aisci.search.compose import PERSON

CONSUMES = (ExperimentSummary,)
PRODUCES = (Analysis,)
# the analysis notebook runs in the sandbox (its limits), over the ideas that passed the gates
CONFIG = ("experiments.sandbox", "experiments.allow_network", "experiments.cpu_seconds", "experiments.memory_mb",
          "experiments.max_processes", "gates.ideas", "gates.novelty", "ideation.select")


class Observations(BaseModel):
    # no upper bound: a model may note something about each of many runs
    observations: list[str] = Field(min_length=1)


def _offline_observe(inputs: dict[str, Any]) -> Observations:
    primary, direction = inputs["primary_metric"], inputs["direction"]
    rows = [r for r in inputs["table"] if isinstance(r["metrics"].get(primary), (int, float))]
    base = next((r for r in rows if r["kind"] == "baseline"), None)
    if not rows or base is None:
        return Observations(observations=["No run recorded the primary metric next to a finished baseline, "
                                          "so no comparison can be made."])
    sign = 1 if direction == "maximize" else -1
    notes = []
    for row in rows:
        if row is base:
            continue
        delta = sign * (row["metrics"][primary] - base["metrics"][primary])
        verdict = "improves on" if delta > 0 else "does not improve on" if delta < 0 else "matches"
        notes.append(f"The {row['id']} run {verdict} the baseline's {primary}.")
    notes.append("Each run used a single seed, so differences this small may be noise (offline engine: "
                 "observations computed from the table, no model read it).")
    return Observations(observations=notes)


OBSERVE = Task("analysis.observe", "analysis", Observations, _offline_observe, temperature=0.2, max_tokens=1500)


def inputs(ctx) -> Any:
    """The code of analysis.ipynb as it is on disk: a person's edit reruns this phase."""
    path = ctx.study.path("analysis", "analysis.ipynb")
    return {"notebook": _code_hashes(build.peek(path)) if path.exists() else None}


def run(ctx) -> None:
    summary = ExperimentSummary.load(ctx.study)
    primary, metric = ctx.template.primary()
    rows = [n.model_dump(mode="json") for n in summary.nodes]
    table = [{k: row[k] for k in ("id", "idea", "kind", "status", "metrics", "parameters")} for row in rows]
    result = ctx.llm.run(OBSERVE, primary_metric=primary, direction=metric.direction, table=table)
    folder = ctx.study.path("analysis")
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    output = folder / "analysis.ipynb"
    previous = Analysis.load(ctx.study)
    edited = _edited_by_person(output, previous.built_code)
    if edited is not None:
        ctx.say("analysis/analysis.ipynb was edited by a person: running their notebook as it is "
                "(delete it to have aisci write it afresh)")
        nb, built_code = _mark_person_cells(build.read(output), edited), previous.built_code
    notes: list[str] = []
    parameters = {"study_dir": ctx.study.root_from(folder)}
    # a person or a model may have written its cells: it runs sandboxed, reading the executed nodes and the template
    reads = (ctx.study.path("experiments"), ctx.template.root)
    if edited is not None:
        ctx.execute_phase_notebook(nb, output, parameters=parameters, label="analysis", study_code_reads=reads)
    else:
        nb = _notebook(ctx, primary, metric.direction, result.output.observations, result.author)
        cells, cells_author = analysis_cells.write_cells(ctx.llm, analysis_cells.study_for_prompt(
            summary, novel_ideas(ctx.study), analysis_cells.history_columns(ctx.study.root, summary),
            primary, metric.direction))
        if cells:  # model-written code: the sandboxed kernel, a fix round per failing cell, then dropped
            nb = analysis_cells.append(nb, cells, cells_author)
            outcome, notes = analysis_cells.run_with_repair(
                nb, run=lambda current: ctx.execute(current, output, parameters=parameters, label="analysis",
                                                    study_code_reads=reads),
                executed=lambda: build.read(output),
                fix=lambda source, error, tail: ctx.llm.run(analysis_cells.FIX, source=source, error=error,
                                                            traceback=tail).output,
                say=ctx.say)
            if not outcome.ok:
                raise NotebookError(f"analysis/analysis.ipynb {outcome.status}: {outcome.reason}")
        else:
            ctx.execute_phase_notebook(nb, output, parameters=parameters, label="analysis", study_code_reads=reads)
        built_code = _code_hashes(nb)
    records = read_records(output, label="analysis/analysis.ipynb")
    figures = _figures(build.read(output))
    Analysis(records={r.name: r.value for r in records}, figures=figures, observations=result.output.observations,
             author=result.author, notes=notes, built_code=built_code, edited_by_person=edited is not None).save(ctx.study)


def _code_hashes(nb) -> list[str]:
    """One hash per code cell aisci or a person wrote (papermill's injected parameters left out)."""
    return [sha256_of(c.source) for c in nb.cells if c.cell_type == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def _edited_by_person(path: Path, built_code: list[str] | None) -> set[str] | None:
    """None when the notebook on disk runs the code aisci wrote (or is absent, or comes from a
    study made before aisci kept what it built); else the hashes of the cells a person wrote
    (empty when they only deleted cells)."""
    if not built_code or not path.exists():
        return None
    current = _code_hashes(build.read(path))
    return set(current) - set(built_code) if current != built_code else None


def _mark_person_cells(nb, edited: set[str]):
    for cell in nb.cells:
        if cell.cell_type == "code" and sha256_of(cell.source) in edited:
            cell.metadata.setdefault("aisci", {})["author"] = PERSON
    return nb


def _figures(nb) -> list[dict]:
    """Figures the notebook saved, announced in its outputs as JSON with a caption."""
    return [{**payload, "cell_index": index}
            for index, _, payload in display_payloads(nb, "application/vnd.aisci.figure+json")]


NOTEBOOK_CODE = [
    ("Load the results", '''import json
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import aisci
from aisci import results

table = results.node_table(study_dir)
table'''),
    ("Compare every run with the baseline on the primary metric", '''finished = table[table.status == "done"].dropna(subset=[PRIMARY])
baseline = finished[finished.kind == "baseline"]
# the best run is the one the experiments phase chose: a person's approval, else the primary metric
best_id = results.best_node(study_dir)
best = finished[finished.node == best_id].iloc[0] if best_id in set(finished.node) else (
    finished.sort_values(PRIMARY, ascending=(DIRECTION == "minimize")).iloc[0] if len(finished) else None)
if len(baseline) and best is not None:
    base_value = float(baseline[PRIMARY].iloc[0])
    aisci.record(f"baseline_{PRIMARY}", base_value, description="the baseline run")
    aisci.record(f"best_{PRIMARY}", float(best[PRIMARY]), description=f"the best run ({best.node})")
    aisci.record(f"best_minus_baseline_{PRIMARY}", float(best[PRIMARY]) - base_value,
                 description="best run minus baseline")
aisci.record("num_runs", int(len(table)), description="experiment runs, baseline included")
aisci.record("num_finished_runs", int(len(finished)), description="runs that finished and recorded the metric")'''),
    ("Figure: the primary metric per run", '''def save_figure(fig, name, caption):
    fig.savefig(f"figures/{name}.png", dpi=150, bbox_inches="tight")
    display({"application/vnd.aisci.figure+json": {"path": f"analysis/figures/{name}.png", "name": name,
                                                   "caption": caption},
             "text/plain": f"[aisci figure] {name}: {caption}"}, raw=True)
    plt.show()

# one bar per node (an idea's tree has several), the baseline grey, the best run orange
fig, ax = plt.subplots(figsize=(6, 1.2 + 0.28 * len(finished)))
colors = ["#7f7f7f" if kind == "baseline" else "#ff7f0e" if best is not None and node == best.node else "#1f77b4"
          for node, kind in zip(finished.node, finished.kind)]
ax.barh(finished.node, finished[PRIMARY], color=colors)
ax.invert_yaxis()
ax.set_xlabel(METRIC_LABELS.get(PRIMARY, PRIMARY))
ax.tick_params(axis="y", labelsize=7)
ax.set_title(f"{METRIC_LABELS.get(PRIMARY, PRIMARY)} per run ({DIRECTION} is better)")
improved = best is not None and best.kind != "baseline"  # the caption says what the colours show
save_figure(fig, "primary_metric", f"{METRIC_LABELS.get(PRIMARY, PRIMARY)} of each run; the baseline in grey"
            + (", the best run in orange." if improved else "; no run beat it."))'''),
    ("Figure: training curves", '''curves = results.histories(study_dir)
if curves:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for node, history in curves.items():
        columns = [c for c in history.columns if c != "step"]
        column = next((c for c in columns if "val" in c and "acc" in c), None) or next(
            (c for c in columns if "val" in c), columns[0])
        ax.plot(history["step"], history[column], label=node)
    # the axis says what the template's metric description says ("accuracy on the test set"), not the column
    # name the contract requires ("val_acc"): the declared metric this column is the history of names it
    label = METRIC_LABELS.get(column) or next((text for name, text in METRIC_LABELS.items()
                                               if name.endswith("_" + column)), column.replace("_", " "))
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.legend(fontsize=7)
    save_figure(fig, "curves", f"{label} during training, one line per run.")'''),
]


def _notebook(ctx, primary: str, direction: str, observations: list[str], author: str):
    nb = build.notebook("Analysis", build.AISCI_AUTHOR, intro=(
        "Tables and figures from the recorded metrics of every experiment run. The code below is aisci's own; "
        "run it again after editing an experiment and the numbers follow."))
    nb.cells.append(build.parameters_cell({"study_dir": ctx.study.root_from(ctx.study.path("analysis")),
                                           "PRIMARY": primary,
                                           "DIRECTION": direction,
                                           "METRIC_LABELS": {name: m.prose(name) for name, m in
                                                             ctx.template.manifest.metrics.items()}}))
    for title, source in NOTEBOOK_CODE:
        nb.cells.append(build.markdown(f"## {title}", build.AISCI_AUTHOR))
        nb.cells.append(build.code(source))
    label = "the offline engine (computed from the table)" if author == OFFLINE_ENGINE else author
    nb.cells.append(build.markdown("## Observations\n\n_Written by " + label + "._\n\n" +
                                   "\n".join(f"- {o}" for o in observations), author))
    return nb
