"""Template-free mode: a language model writes the template itself — the manifest and a
parameterized baseline notebook — from a task statement, as in The AI Scientist v2.

What it writes is held to the template contract exactly like a shipped template: the static
checks, then one run of the baseline, which must finish and record every declared metric.
The problems go back to the model for a bounded number of rounds; only a valid template
becomes a study. The offline engine cannot do this (it only runs templates) and says so."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, Field

from aisci.config import BudgetSection, LLMSection
from aisci.errors import TemplateError
from aisci.fsutil import atomic_write_text
from aisci.llm import LLM
from aisci.llm.spec import parse_spec
from aisci.llm.store import CallStore
from aisci.llm.tasks import Task
from aisci.execution import build
from aisci.manifest import (
    MANIFEST,
    baseline_run_problems,
    load_template,
    template_problems,
)

ROUNDS = 3
ROLE = "experiments"
NEEDS_A_MODEL = ("template-free mode (--task) needs a language model to write the template; the offline engine only "
                 "runs existing templates. Pass --llm (e.g. --llm openai:gpt-4o-mini or --llm ollama:llama3.1), "
                 "or use --template NAME")


class MetricSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    direction: Literal["maximize", "minimize"]
    description: str


class ParameterSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    type: Literal["int", "float", "str", "bool"]
    default: Any
    choices: list[Any] = Field(default_factory=list, description="other values a search may try")
    description: str


class CellSpec(BaseModel):
    cell_type: Literal["markdown", "code"]
    source: str


class WrittenTemplate(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    title: str
    description: str = Field(description="the task in a paragraph: what is trained, on what, what is measured")
    primary_metric: str
    time_budget_s: int = Field(gt=0, le=3600, description="seconds the baseline may take")
    seeds: list[int] = Field(min_length=1)
    metrics: list[MetricSpec] = Field(min_length=1)
    parameters: list[ParameterSpec] = Field(min_length=1)
    cells: list[CellSpec] = Field(min_length=1, description="the notebook after its parameters cell")


def _offline_refuses(inputs: dict[str, Any]) -> WrittenTemplate:
    raise TemplateError(NEEDS_A_MODEL)


WRITE = Task("templatefree.write", ROLE, WrittenTemplate, _offline_refuses, temperature=0.2, max_tokens=8000)


def write_template(task: str, topic: str, llm_spec: str | None, workdir: Path,
                   say: Callable[[str], None] = print, rounds: int = ROUNDS, sandboxed: bool = True) -> tuple[Path, str]:
    """Have the model write a template in workdir/template until it passes the contract
    (static checks and one baseline run). Returns (template folder, author). The calls are
    kept in workdir/calls.sqlite (see `copy_calls`)."""
    settings = LLMSection(default=llm_spec or "offline")
    spec = parse_spec(settings.default, settings)
    if spec.is_offline:
        raise TemplateError(NEEDS_A_MODEL)
    llm = LLM(settings, BudgetSection(), CallStore(workdir / "calls.sqlite"))
    folder = workdir / "template"
    problems: list[str] = []
    previous: dict | None = None
    for number in range(1, rounds + 1):
        result = llm.run(WRITE, task_statement=task, topic=topic, problems=problems, previous=previous or {},
                         round=str(number), rounds=str(rounds))
        written = result.output
        _write(written, folder, task, result.author)
        problems = [_without(folder, p) for p in template_problems(folder)]
        if not problems:
            say(f"template-free: round {number}: the written template passes the static checks; running its baseline")
            run_problems, _ = baseline_run_problems(load_template(folder), workdir / f"baseline-run-{number}",
                                                    sandboxed=sandboxed)
            problems = [_without(folder, p) for p in run_problems]
        if not problems:
            say(f"template-free: {result.author} wrote template {written.name!r} (round {number}); it passed")
            return folder, result.author
        say(f"template-free: round {number}: {len(problems)} problem(s), e.g. {problems[0]}")
        previous = written.model_dump()
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise TemplateError(f"the model's template still breaks the contract after {rounds} rounds: {problems[0]}{more}")


def _write(written: WrittenTemplate, folder: Path, task: str, author: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": written.name, "title": written.title, "description": written.description,
        "notebook": "baseline.ipynb", "primary_metric": written.primary_metric,
        "time_budget_s": written.time_budget_s, "seeds": written.seeds,
        "metrics": {m.name: {"direction": m.direction, "description": m.description} for m in written.metrics},
        "parameters": {p.name: {"type": p.type, "default": p.default, "choices": p.choices,
                                "description": p.description} for p in written.parameters},
    }
    header = (f"# Template written by {author} from a task statement (template-free mode)\n"
              "# Validated like any template: `aisci templates validate` passed, and the baseline ran.\n")
    atomic_write_text(folder / MANIFEST, header + tomli_w.dumps(_toml_safe(manifest)))
    nb = build.notebook(written.title, author, intro=written.description)
    nb.cells.append(build.parameters_cell({p.name: p.default for p in written.parameters}, author))
    for cell in written.cells:
        nb.cells.append(build.code(cell.source, author) if cell.cell_type == "code" else build.markdown(cell.source, author))
    build.write(nb, folder / "baseline.ipynb")
    atomic_write_text(folder / "TASK.md", f"# The task this template was written for\n\n{task.strip()}\n\n"
                                          f"Written by {author} through aisci (template-free mode).\n")


def _toml_safe(value: Any) -> Any:
    """TOML has no null: drop None values (the contract check then names what is missing)."""
    if isinstance(value, dict):
        return {k: _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_safe(v) for v in value if v is not None]
    return value


def _without(folder: Path, problem: str) -> str:
    """A problem as the model should read it: file names, not this machine's paths."""
    return re.sub(re.escape(str(folder)) + r"/?", "", problem).lstrip(": ") or problem


def copy_calls(workdir: Path, study_store: Path) -> None:
    """Put the template-writing calls into the study's call store (tokens, cost, replay)."""
    source = workdir / "calls.sqlite"
    if not source.exists():
        return
    study_store.parent.mkdir(parents=True, exist_ok=True)
    CallStore(study_store)  # the schema
    with sqlite3.connect(source) as src, sqlite3.connect(study_store) as dst:
        columns = [row[1] for row in src.execute("PRAGMA table_info(calls)") if row[1] != "id"]
        names = ", ".join(columns)
        for row in src.execute(f"SELECT {names} FROM calls ORDER BY id"):
            dst.execute(f"INSERT OR IGNORE INTO calls ({names}) VALUES ({', '.join('?' * len(columns))})", row)
