"""The code that changed: the best run's notebook against the baseline's, as a unified diff
of cells (markdown and code, each headed by its cell id). The method section is written
from it, and the appendix prints it, so a reader sees the change the results come from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisci.execution import build
from aisci.search import compose
from aisci.search.cellplan import notebook_diff

if TYPE_CHECKING:  # annotations only
    from aisci.artifacts import ExperimentSummary

MAX_LINES = 400  # of the diff printed in the appendix (the notebooks hold the rest)


def best_run_diff(study, summary: ExperimentSummary) -> str:
    """'' when the best run is the baseline, missing, or changed parameters only."""
    best, base = summary.best_node, summary.node("baseline/node-0")
    if not best or not base or best is base or not best.notebook or not base.notebook:
        return ""
    try:
        ours, theirs = (compose.without_header(build.read(study.path(n.notebook))) for n in (best, base))
    except (OSError, ValueError):
        return ""
    code = lambda nb: [c for c in nb.cells if not compose.is_parameters_cell(c)]  # noqa: E731
    if [c.source for c in code(ours)] == [c.source for c in code(theirs)]:
        return ""  # parameters only: the setup section lists them
    return notebook_diff(theirs, ours, base.id, best.id)


def appendix_tex(best: str | None, diff: str) -> str:
    if not diff:
        return ""
    lines = diff.splitlines()
    shown = lines[:MAX_LINES] + ([f"... ({len(lines) - MAX_LINES} more lines in the notebooks)"]
                                 if len(lines) > MAX_LINES else [])
    shown = [line.replace("\\end{verbatim}", "\\end {verbatim}") for line in shown]
    best_tex = (best or "").replace("_", r"\_")
    return "\n".join([
        r"\section{Code changes of the best run}\label{sec:code_changes}",
        f"The cells of \\texttt{{{best_tex}}} that differ from the baseline's notebook, as a unified diff "
        "(lines starting with + were added, with - removed; each cell is headed by its id). Written by aisci "
        "from the executed notebooks.",
        r"{\scriptsize", r"\begin{verbatim}", *shown, r"\end{verbatim}", "}", ""])


def appendix_markdown(best: str | None, diff: str) -> str:
    if not diff:
        return ""
    return f"\n\n## Code changes of the best run\n\nThe cells of `{best}` that differ from the baseline's notebook:\n\n```diff\n{diff}```\n"
