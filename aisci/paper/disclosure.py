"""The disclosure appendix: how the paper was made, gathered from the study folder itself —
who wrote each section (a model, the offline engine, a person), who wrote the cells of each
executed notebook (cell metadata `aisci.author`), the decisions a person took
(decisions.jsonl) and the nodes a person edited, the language-model calls with their
tokens and cost (llm/calls.sqlite), and the compute time of the notebooks
(.aisci/executions.jsonl). Rendered as LaTeX for the PDF and as Markdown for paper.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from aisci.constants import OFFLINE_ENGINE
from aisci.version import __version__
from aisci.artifacts import Analysis, ExperimentSummary
from aisci.llm.store import CallStore
from aisci.paper import latex
from aisci.paper.notebooks import cell_authors
from aisci.paper.sections import HEADINGS, PERSON
from aisci.search.node import NodeKind

MAX_DECISIONS_LISTED = 12


class SectionAuthor(BaseModel):
    name: str
    author: str  # who wrote the text now in the file: model:NAME, offline-engine or person
    based_on: str | None = None  # for a person's edit: whose draft they edited
    revisions: int = 0  # rewrites by the fix task after the checks / LaTeX errors
    locked: bool = False
    calls: list[int] = Field(default_factory=list)  # call-store ids of the calls that wrote it (`aisci calls`)


class NotebookAuthors(BaseModel):
    notebook: str
    cells: dict[str, int]
    edited_by_person: bool = False


class ModelUsage(BaseModel):
    model: str
    calls: int
    tokens: int
    cost_usd: float


class Problem(BaseModel):
    """An open problem of the writeup's checks, or one a person accepted at the paper gate."""

    id: str
    check: str
    section: str | None = None
    detail: str
    accepted: str | None = None  # the person's reason, when accepted


class Disclosure(BaseModel):
    version: str
    sections: list[SectionAuthor]
    notebooks: list[NotebookAuthors]
    decisions: list[dict]
    usage: list[ModelUsage]
    compute_experiments_s: float
    experiment_executions: int
    compute_all_s: float
    open_problems: int
    sandbox: str = "bubblewrap"  # [experiments] sandbox
    sandbox_reason: str = ""
    allow_network: bool = False
    unsandboxed_runs: int = 0  # executions of generated or hand-written code without a sandbox
    problems: list[Problem] = Field(default_factory=list)

    @property
    def unverified_numbers(self) -> int:
        return sum(p.check == "number" for p in self.problems)

    @property
    def model_free(self) -> bool:
        return all(u.model == OFFLINE_ENGINE for u in self.usage) and all(
            s.author in (OFFLINE_ENGINE, PERSON) for s in self.sections)


def gather(study, sections: list[SectionAuthor], problems: list[Problem]) -> Disclosure:
    # human_edited: a flag older studies wrote on a node a person changed
    edited = {n.notebook for n in ExperimentSummary.load(study).nodes
              if n.kind == NodeKind.HUMAN or getattr(n, "human_edited", False)}
    if Analysis.load(study).edited_by_person:
        edited.add("analysis/analysis.ipynb")
    notebooks = []
    for path in _study_notebooks(study):
        relative = study.relative(path)
        notebooks.append(NotebookAuthors(notebook=relative, cells=dict(sorted(cell_authors(path).items())),
                                         edited_by_person=relative in edited))
    usage: dict[str, list[float]] = {}
    for row in CallStore(study.path("llm", "calls.sqlite")).by_task():
        entry = usage.setdefault(row["model"], [0, 0, 0.0])
        entry[0] += row["calls"]
        entry[1] += (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0)
        entry[2] += row["cost_usd"] or 0.0
    executions = study.executions()
    experiments = [e for e in executions if str(e.get("notebook", "")).startswith("experiments/")]
    return Disclosure(
        version=__version__, sections=sections, notebooks=notebooks, decisions=study.decisions(),
        usage=[ModelUsage(model=m, calls=int(c), tokens=int(t), cost_usd=round(cost, 6))
               for m, (c, t, cost) in sorted(usage.items())],
        compute_experiments_s=round(sum(e.get("duration_s", 0) or 0 for e in experiments), 1),
        experiment_executions=len(experiments),
        compute_all_s=round(sum(e.get("duration_s", 0) or 0 for e in executions), 1),
        open_problems=sum(p.accepted is None for p in problems), problems=problems,
        sandbox=study.config.experiments.sandbox, sandbox_reason=study.config.experiments.sandbox_reason,
        allow_network=study.config.experiments.allow_network,
        unsandboxed_runs=sum(1 for e in executions if e.get("sandbox") == "none" and e.get("runs_study_code")))


def _study_notebooks(study) -> list[Path]:
    found = sorted(study.path("ideas").glob("*.ipynb"))
    found += sorted(study.path("experiments").glob("*/*/experiment.ipynb"))
    found += sorted(study.path("analysis").glob("*.ipynb"))
    return [p for p in found if p.is_file()]


# --- words ------------------------------------------------------------------------------------------
def who(author: str) -> str:
    if author == OFFLINE_ENGINE:
        return "aisci's offline engine (deterministic, model-free)"
    if author.startswith("model:"):
        return f"the language model {author.removeprefix('model:')}"
    if author == PERSON:
        return "a person"
    if author == "aisci":
        return "aisci's own code"
    if author.startswith("template:"):
        return f"the template {author.removeprefix('template:')} (its author)"
    return author


def section_line(s: SectionAuthor) -> str:
    if s.author == PERSON:
        text = f"edited by a person (from a draft by {who(s.based_on)})" if s.based_on else "written by a person"
    else:
        text = f"written by {who(s.author)}"
        if s.revisions:
            text += (f", revised {s.revisions} time{'s' if s.revisions > 1 else ''} by the same model to pass "
                     "aisci's checks")
        if s.calls and s.author.startswith("model:"):
            text += f" (call{'s' if len(s.calls) > 1 else ''} {', '.join(map(str, s.calls))} in the call store)"
    return text + ("; locked by a person" if s.locked else "")


def section_groups(sections: list[SectionAuthor]) -> list[str]:
    """"Abstract, Introduction: written by ..." — sections with the same story share a line."""
    groups: dict[str, list[str]] = {}
    for s in sections:
        groups.setdefault(section_line(s), []).append(HEADINGS[s.name])
    return [f"{', '.join(names)}: {line}." for line, names in groups.items()]


def notebook_line(n: NotebookAuthors) -> str:
    cells = Counter(n.cells)
    parts = [f"{count} cell{'s' if count > 1 else ''} by {who(author)}" for author, count in cells.most_common()]
    return ", ".join(parts) + ("; edited by a person and re-run" if n.edited_by_person else "")


def decision_line(d: dict) -> str:
    items = ", ".join(str(i) for i in d.get("items", [])) or "-"
    return f"{d.get('at', '?')}: gate {d.get('gate', '?')}, {d.get('action', '?')} {items}"


def _lead(d: Disclosure) -> str:
    text = f"This paper was produced by aisci {d.version} from the executed notebooks of its study. "
    if d.unverified_numbers:
        text += (f"{d.unverified_numbers} number{'s' if d.unverified_numbers != 1 else ''} in the text "
                 f"{'matches' if d.unverified_numbers == 1 else 'match'} no "
                 "record of what their sentence is about (listed under Checks); the others are typeset from records "
                 "of executed notebooks (values.tex names the notebook and cell)")
    else:
        text += ("Every number in the text is typeset from a record of an executed notebook (values.tex names the "
                 "notebook and cell) or is a setting of the study")
    text += (", and every citation key comes from the template's bibliography, the study's literature library or "
             "aisci's attribution table.")
    if d.model_free:
        text += " No language model was used: every text was written by aisci's offline engine or by a person."
    return text


def _usage_text(d: Disclosure) -> list[str]:
    calls = sum(u.calls for u in d.usage)
    tokens = sum(u.tokens for u in d.usage)
    cost = sum(u.cost_usd for u in d.usage)
    head = (f"Up to this writeup the study made {calls} task call{'s' if calls != 1 else ''}, using {tokens} "
            f"language-model tokens at a cost of ${cost:.2f} (the review comes after).")
    return [head] + [f"{who(u.model) if u.model != OFFLINE_ENGINE else 'the offline engine'}: {u.calls} "
                     f"call{'s' if u.calls != 1 else ''}, {u.tokens} tokens, ${u.cost_usd:.4f}" for u in d.usage]


def _compute_text(d: Disclosure) -> str:
    return (f"The experiment notebooks ran for {d.compute_experiments_s:.0f} seconds of wall time in "
            f"{d.experiment_executions} execution{'s' if d.experiment_executions != 1 else ''}; all notebooks of the "
            f"study, aisci's own included, ran for {d.compute_all_s:.0f} seconds.")


def _sandbox_text(d: Disclosure) -> str:
    if d.sandbox == "none":
        reason = f" The reason given: {d.sandbox_reason.strip()}" if d.sandbox_reason.strip() else " No reason was given."
        return (f'The study set sandbox = "none": {d.unsandboxed_runs} run{"s" if d.unsandboxed_runs != 1 else ""} of '
                "generated or hand-written code (experiment nodes, the analysis) executed without a sandbox, with "
                f"every right of the user who ran aisci.{reason}")
    network = "with the network allowed" if d.allow_network else "without network"
    text = ("Generated and hand-written code (experiment nodes, the analysis) ran inside bubblewrap: a read-only "
            "system, its own folder the only writable place, no view of the rest of the study, of the home folder "
            f"or of aisci's processes, {network}, under memory, CPU-time and process limits.")
    if d.unsandboxed_runs:
        text += f" {d.unsandboxed_runs} earlier run{'s' if d.unsandboxed_runs != 1 else ''} of such code had no sandbox."
    return text


def _decisions(d: Disclosure) -> tuple[str, list[str]]:
    if not d.decisions:
        return "No person took a decision at a gate: every gate followed its automatic policy.", []
    listed = [decision_line(x) for x in d.decisions[-MAX_DECISIONS_LISTED:]]
    more = len(d.decisions) - len(listed)
    head = f"{len(d.decisions)} decision{'s' if len(d.decisions) != 1 else ''} by a person (decisions.jsonl)"
    return head + (f", the last {len(listed)}:" if more else ":"), listed


def _problems_text(d: Disclosure) -> tuple[str, list[str]]:
    accepted = len(d.problems) - d.open_problems
    if not d.problems:
        return ("aisci's checks of numbers, experiment claims, the method against the code, citations and figures "
                "found no open problem."), []
    head = (f"aisci's checks left {d.open_problems} problem{'s' if d.open_problems != 1 else ''} open"
            + (f" and a person accepted {accepted}" if accepted else "") + " (paper/checks.json):")
    return head, [problem_line(p) for p in d.problems]


def problem_line(p: Problem) -> str:
    where = f"{HEADINGS.get(p.section, p.section)}" if p.section else "the paper"
    line = f"[{p.id}] {where}, {p.check}: {p.detail}"
    return line + (f" Accepted by a person at the paper gate: {p.accepted or '(no reason given)'}"
                   if p.accepted is not None else " (open)")


def to_latex(d: Disclosure) -> str:
    decisions_head, decisions = _decisions(d)
    problems_head, problems = _problems_text(d)
    usage = _usage_text(d)
    esc = latex.escape
    return "\n".join([
        r"\section{Disclosure: how this paper was made}\label{sec:disclosure}",
        esc(_lead(d)), "",
        r"\paragraph{Sections.}",
        latex.itemize([esc(line) for line in section_groups(d.sections)]),
        r"\paragraph{Notebooks and cells.}",
        latex.itemize([f"\\texttt{{{esc(n.notebook)}}}: {esc(notebook_line(n))}." for n in d.notebooks])
        or "No notebook was found.",
        r"\paragraph{Decisions by a person.}", esc(decisions_head),
        latex.itemize([esc(x) for x in decisions]),
        r"\paragraph{Language models, tokens and cost.}", esc(usage[0]),
        latex.itemize([esc(x) for x in usage[1:]]),
        r"\paragraph{Compute.}", esc(_compute_text(d)), "",
        r"\paragraph{Sandbox.}", esc(_sandbox_text(d)), "",
        r"\paragraph{Checks.}", esc(problems_head),
        latex.itemize([esc(x) for x in problems]), ""])


def to_markdown(d: Disclosure) -> str:
    decisions_head, decisions = _decisions(d)
    problems_head, problems = _problems_text(d)
    usage = _usage_text(d)
    bullets = lambda items: "\n".join(f"- {i}" for i in items)
    return "\n\n".join(part for part in [
        "## Disclosure: how this paper was made", _lead(d),
        "**Sections.**\n\n" + bullets(section_groups(d.sections)),
        "**Notebooks and cells.**\n\n" + bullets([f"`{n.notebook}`: {notebook_line(n)}." for n in d.notebooks]),
        "**Decisions by a person.** " + decisions_head + ("\n\n" + bullets(decisions) if decisions else ""),
        "**Language models, tokens and cost.** " + usage[0] + ("\n\n" + bullets(usage[1:]) if usage[1:] else ""),
        "**Compute.** " + _compute_text(d),
        "**Sandbox.** " + _sandbox_text(d),
        "**Checks.** " + problems_head + ("\n\n" + bullets(problems) if problems else "")] if part) + "\n"
