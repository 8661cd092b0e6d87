"""Run a study's phases in order, resumably.

Each phase has a fingerprint: its name, the aisci version, the configuration, the digests
of every earlier phase's outputs and its own extra inputs (gate decisions, edited
notebooks). A phase whose fingerprint matches its last finished run, with its outputs on
disk, is not redone: a rerun of a finished study executes nothing and calls no model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from tqdm.auto import tqdm

from aisci import __version__
from aisci.config import ROLES
from aisci.errors import StudyError
from aisci.fsutil import file_digest, sha256_of
from aisci.llm import LLM
from aisci.phases import PHASES
from aisci.phases.context import PhaseContext
from aisci.study import Study, now_iso


@dataclass
class RunReport:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    live_calls: int = 0


def make_context(study: Study, llm_override: str | None = None, say: Callable[[str], None] = print) -> PhaseContext:
    ctx = PhaseContext(study=study, llm=LLM.for_study(study, llm_override), template=study.template(), say=say)
    ctx.llm.warn = ctx.warn  # the model's one-time warnings join the run's notes
    return ctx


def fingerprint(ctx: PhaseContext, name: str, upstream_digest: str | None) -> str:
    config = ctx.config.model_dump(mode="json")
    config["llm"].pop("cache", None)  # how answers are fetched does not change them
    config.pop("budget", None)
    models = {role: ctx.llm.spec_for(role).model for role in ROLES}
    return sha256_of({"phase": name, "aisci": __version__, "config": config, "models": models,
                      "upstream": upstream_digest, "inputs": PHASES[name].inputs(ctx)})


def output_digest(ctx: PhaseContext, name: str) -> str | None:
    digests = {path: file_digest(ctx.study.path(path)) for path in PHASES[name].OUTPUTS}
    return None if None in digests.values() else sha256_of(digests)


def plan(ctx: PhaseContext) -> list[tuple[str, str, bool]]:
    """(phase, fingerprint, up to date?) for each phase, without running anything. A phase
    after an out-of-date one is out of date too (its upstream will change)."""
    state = ctx.study.phase_state()
    rows, upstream, stale = [], [], False
    for name in PHASES:
        fp = fingerprint(ctx, name, sha256_of(upstream))
        entry = state.get(name, {})
        current = not stale and entry.get("fingerprint") == fp and output_digest(ctx, name) == entry.get("output_digest")
        rows.append((name, fp, current))
        stale = stale or not current
        upstream.append(entry.get("output_digest"))
    return rows


def run_study(study: Study, *, llm_override: str | None = None, until: str | None = None,
              redo: Iterable[str] = (), say: Callable[[str], None] = print, progress: bool = True) -> RunReport:
    """Run the phases in order, skipping those whose fingerprint and outputs match their last
    finished run. `redo` names phases to run again anyway (after an aisci upgrade, say); what
    follows a redone phase reruns when the redone phase's outputs changed."""
    for name in [until, *redo]:
        if name is not None and name not in PHASES:
            raise StudyError(f"unknown phase {name!r} (phases: {', '.join(PHASES)})")
    redo = set(redo)
    report = RunReport()
    with study.lock():
        ctx = make_context(study, llm_override, say=lambda m: tqdm.write(m) if progress else say(m))
        upstream: list[str | None] = []  # output digests of every phase before this one
        names = list(PHASES)[: list(PHASES).index(until) + 1] if until else list(PHASES)
        bar = tqdm(names, desc="aisci", unit="phase", disable=not progress)
        for name in bar:
            bar.set_postfix_str(name)
            fp = fingerprint(ctx, name, sha256_of(upstream))
            entry = study.phase_state().get(name, {})
            if (name not in redo and entry.get("fingerprint") == fp
                    and output_digest(ctx, name) == entry.get("output_digest")):
                report.skipped.append(name)
                upstream.append(entry["output_digest"])
                continue
            study.clear_phase_state(name)
            started, clock = now_iso(), time.monotonic()
            PHASES[name].run(ctx)
            digest = output_digest(ctx, name)
            # the phase's own inputs describe the state its outputs now match (nodes it wrote, sections)
            fp = fingerprint(ctx, name, sha256_of(upstream))
            upstream.append(digest)
            study.save_phase_state(name, {"fingerprint": fp, "output_digest": digest, "started_at": started,
                                          "finished_at": now_iso(), "duration_s": round(time.monotonic() - clock, 2)})
            report.ran.append(name)
        bar.close()
        report.notes = ctx.notes
        report.live_calls = ctx.llm.live_calls
    return report
