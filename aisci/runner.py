"""Run a study's phases in order, resumably and exactly.

Each phase module declares what it reads and writes, next to its code:

    CONSUMES = (Ideas, NoveltyDecisions)     artifacts of earlier phases (aisci.artifacts)
    PRODUCES = (ExperimentSummary,)          the artifacts it writes: its outputs
    CONFIG = ("experiments", "search", ...)  the aisci.toml sections or dotted keys it reads
    RUNS_WITH = ("experiments.workers", ...) keys among those that say how it runs, not what it
                                             computes (optional): left out of the fingerprint
    def inputs(ctx): ...                     anything else it reads (gate decisions, edited files)

A phase's fingerprint covers only those: its name, the aisci version, its config keys, the
model answering its role, the bytes of the files it consumes and its own inputs. A phase
whose fingerprint matches its last finished run, with its outputs on disk as they were, is
not redone. So a phase that reruns but writes byte-identical outputs does not make the
phases after it rerun; a change to `[review] num_reviews` reruns the review alone; and a
rerun of a finished study executes nothing and calls no model.

The runner tells subscribers what happens through hooks (aisci.hooks): the CLI progress
view, the widgets, the magics all listen there. Every run also records them in the study's
event log (aisci.events, `.aisci/events.jsonl`), which the JupyterLab sidebar and the notebook
panels follow.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aisci import events
from aisci.version import __version__
from aisci.errors import GateStop
from aisci.fsutil import file_digest, sha256_of
from aisci.hooks import Hooks, PhaseEvent
from aisci.llm import LLM
from aisci.phases import PHASES, check_phase
from aisci.phases.context import PhaseContext
from aisci.study import Study, now_iso

LLM_KEYS = ("llm.temperature",)  # read by every phase that asks a model (a task's default temperature)


@dataclass
class RunReport:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    live_calls: int = 0


def make_context(study: Study, llm_override: str | None = None, say: Callable[[str], None] | None = None,
                 hooks: Hooks | None = None) -> PhaseContext:
    """The context phases run in. Messages go to `hooks.on_message`, plus `say` if given;
    with neither, they are printed."""
    hooks = Hooks().extend(hooks)
    if say is not None:
        hooks.subscribe(on_message=say)
    elif not hooks.has("on_message"):
        hooks.subscribe(on_message=print)
    ctx = PhaseContext(study=study, llm=LLM.for_study(study, llm_override), template=study.template(), hooks=hooks)
    ctx.llm.warn = ctx.warn  # the model's one-time warnings join the run's notes
    return ctx


# --- what each phase declares -------------------------------------------------------------------
def outputs(name: str) -> tuple[str, ...]:
    """The files a phase leaves: those of the artifacts it produces."""
    return tuple(path for artifact in PHASES[name].PRODUCES for path in artifact.FILES)


def producer(artifact) -> str:
    return next(name for name, module in PHASES.items() if artifact in module.PRODUCES)


def config_view(config, keys: Iterable[str], leave_out: Iterable[str] = ()) -> dict:
    """The values of the given sections or dotted keys of aisci.toml, without the dotted keys
    of `leave_out`."""
    dumped = config.model_dump(mode="json")
    for key in leave_out:
        *parents, last = key.split(".")
        table = dumped
        for part in parents:
            table = table.get(part) if isinstance(table, dict) else None
        if isinstance(table, dict):
            table.pop(last, None)
    view = {}
    for key in keys:
        value = dumped
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        view[key] = value
    return view


def fingerprint(ctx: PhaseContext, name: str) -> str:
    module = PHASES[name]
    spec = ctx.llm.spec_for(name)
    consumed = {path: file_digest(ctx.study.path(path)) for artifact in module.CONSUMES for path in artifact.FILES}
    return sha256_of({"phase": name, "aisci": __version__,
                      "config": config_view(ctx.config, (*module.CONFIG, *LLM_KEYS), getattr(module, "RUNS_WITH", ())),
                      "model": {"provider": spec.provider, "model": spec.model, "base_url": spec.base_url},
                      "consumes": consumed, "inputs": module.inputs(ctx)})


def output_digest(ctx: PhaseContext, name: str) -> str | None:
    digests = {path: file_digest(ctx.study.path(path)) for path in outputs(name)}
    return None if None in digests.values() else sha256_of(digests)


def is_current(ctx: PhaseContext, name: str, fp: str) -> bool:
    entry = ctx.study.phase_state().get(name, {})
    return entry.get("fingerprint") == fp and output_digest(ctx, name) == entry.get("output_digest")


def phases_through(until: str | None) -> list[str]:
    """The phases a run up to `until` looks at, in order (all of them for None)."""
    names = list(PHASES)
    return names if until is None else names[: names.index(check_phase(until)) + 1]


def plan(ctx: PhaseContext) -> list[tuple[str, str, bool]]:
    """(phase, fingerprint, up to date?) for each phase, without running anything. A phase
    that consumes what an out-of-date phase produces is out of date too (it may change)."""
    rows, stale = [], set()
    for name in PHASES:
        fp = fingerprint(ctx, name)
        current = is_current(ctx, name, fp) and not any(producer(a) in stale for a in PHASES[name].CONSUMES)
        rows.append((name, fp, current))
        if not current:
            stale.add(name)
    return rows


# --- running ----------------------------------------------------------------------------------------
def sandbox_none_note(section) -> str:
    reason = section.sandbox_reason.strip() or "no reason given in aisci.toml"
    return (f'[experiments] sandbox = "none": generated and hand-written code runs without a sandbox, with your '
            f"rights ({reason}); the paper discloses it")


def run_study(study: Study, *, llm_override: str | None = None, until: str | None = None,
              redo: Iterable[str] = (), hooks: Hooks | None = None,
              say: Callable[[str], None] | None = None, progress: bool = False) -> RunReport:
    """Run the phases in order, skipping those that are up to date. `redo` names phases to
    run again anyway (after an aisci upgrade, say); what follows a redone phase reruns when
    the redone phase's outputs changed. A gate that stops the run raises GateStop after
    telling `hooks.on_gate`. `progress` adds the study-level progress view (aisci.progress) to the hooks."""
    if progress:
        from aisci.progress_views import view

        hooks = view(study).extend(hooks)
    redo = {check_phase(name) for name in redo}
    names = phases_through(until)
    report = RunReport()
    with study.lock():
        ctx = make_context(study, llm_override, say=say, hooks=hooks)
        ctx.hooks = events.recorder(study.state_dir).extend(ctx.hooks)  # recorded before anyone else is told
        with events.run_span(study.state_dir, names):
            _run_phases(ctx, names, redo, report)
    return report


def _run_phases(ctx: PhaseContext, names: list[str], redo: set[str], report: RunReport) -> None:
    if not ctx.study.config.experiments.sandboxed:
        ctx.warn(sandbox_none_note(ctx.study.config.experiments))
    for index, name in enumerate(names):
        fp = fingerprint(ctx, name)
        event = PhaseEvent(name, index, len(names), up_to_date=name not in redo and is_current(ctx, name, fp))
        ctx.hooks.on_phase_start(event)
        if event.up_to_date:
            report.skipped.append(name)
            ctx.hooks.on_phase_end(event)
            continue
        _run_phase(ctx, name, event)
        report.ran.append(name)
    report.notes = ctx.notes
    report.live_calls = ctx.llm.live_calls


def _run_phase(ctx: PhaseContext, name: str, event: PhaseEvent) -> None:
    ctx.study.clear_phase_state(name)
    started, clock = now_iso(), time.monotonic()
    try:
        PHASES[name].run(ctx)
    except GateStop as stop:
        ctx.hooks.on_gate(stop)
        raise
    except BaseException as error:
        ctx.hooks.on_phase_error(event, error)
        raise
    # taken after the run: the phase's own inputs describe the state its outputs now match
    # (the nodes it wrote, the papers it added to the library)
    duration = round(time.monotonic() - clock, 2)
    ctx.study.save_phase_state(name, {"fingerprint": fingerprint(ctx, name), "output_digest": output_digest(ctx, name),
                                      "started_at": started, "finished_at": now_iso(), "duration_s": duration})
    ctx.hooks.on_phase_end(dataclasses.replace(event, ran=True, duration_s=duration))
