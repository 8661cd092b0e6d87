"""The Python API the phase notebooks (and the `%aisci` magics) call. It is a thin layer on
`aisci.runner`, the code `aisci run` uses, so a study stepped through in JupyterLab and one
run from the command line take the same path and leave the same files:

    from aisci import api
    api.init("my-study", template="grokking", topic="How weight decay shapes grokking")
    api.run_phase("my-study", "ideation")   # runs what is out of date up to this phase
    api.run("my-study")                     # the rest

A run tells whoever watches it what happens through hooks (aisci.hooks): pass
`hooks=Hooks(on_node_end=...)` to follow the phases, the experiment nodes and the gates.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aisci import gates
from aisci.constants import check_phase
from aisci.errors import GateStop, StudyError
from aisci.hooks import Hooks
from aisci.runner import run_study
from aisci.study import Study


@dataclass
class Outcome:
    """What a run did, and where it stopped if a gate waits for a person."""

    study: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    live_calls: int = 0
    stopped_at: str | None = None  # the gate that waits for a decision
    waiting_items: list[str] = field(default_factory=list)  # what waits there (ideas, nodes), where known
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.stopped_at is None

    def __str__(self) -> str:
        lines = [f"ran: {', '.join(self.ran)}" if self.ran else "nothing to do: every phase asked for is up to date",
                 f"live LLM calls: {self.live_calls}"]
        lines += [f"note: {n}" for n in self.notes]
        if self.stopped_at:
            lines.append(f"stopped at the {self.stopped_at} gate: {self.message}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        text = "\n".join(f"- {line}" for line in str(self).splitlines())
        if self.stopped_at:
            text += (f"\n\n**The {self.stopped_at} gate waits for you.** Decide in the panel below, "
                     "then run this notebook (or the next phase's) again.")
        return text


def init(study_dir: str | Path, template: str = "grokking", topic: str = "", llm: str | None = None,
         sandbox: str | None = None, sandbox_reason: str = "") -> Study:
    """Create the study folder, or open it when it already is one (so a notebook can be run
    again without losing the study). `sandbox="none"` (with its reason) writes a study that
    runs generated code without a sandbox, e.g. in a disposable container; it is disclosed."""
    root = Path(study_dir)
    if (root / ".aisci" / "study.json").exists():
        return Study.open(root)
    if not topic:
        raise StudyError(f"{root} is not a study yet: give a topic to create it")
    return Study.create(root, template, topic, llm, sandbox=sandbox, sandbox_reason=sandbox_reason)


def run(study_dir: str | Path, until: str | None = None, *, llm: str | None = None, progress: bool | None = None,
        hooks: Hooks | None = None, on_phase: Callable[[str], None] | None = None) -> Outcome:
    """Run (or resume) the study up to `until` (default: every phase). A phase whose inputs
    did not change is skipped. `hooks` are told what happens (aisci.hooks); `on_phase(name)`
    is a shorthand for a callback after each phase, run or skipped (e.g. to refresh a cost
    meter). `progress` shows the study-level progress view (default: unless AISCI_NO_PROGRESS is
    set). A `stop` gate ends the run cleanly: the outcome says which gate waits."""
    study = Study.open(Path(study_dir))
    if until is not None:
        check_phase(until)
    if progress is None:
        progress = not os.environ.get("AISCI_NO_PROGRESS")
    subscribers = Hooks()
    if progress:
        from aisci.progress_views import view

        subscribers.extend(view(study))
    subscribers.extend(hooks)
    if on_phase is not None:
        subscribers.subscribe(on_phase_end=lambda event: on_phase(event.phase))
    outcome = Outcome(study=study.root)
    # what ran is known phase by phase, so a run a gate stops still says what it did
    subscribers.subscribe(on_phase_end=lambda event: (outcome.ran if event.ran else outcome.skipped).append(event.phase))
    try:
        report = run_study(study, llm_override=llm, until=until, hooks=subscribers)
        outcome.notes, outcome.live_calls = report.notes, report.live_calls
    except GateStop as stop:
        outcome.stopped_at, outcome.waiting_items, outcome.message = stop.gate, stop.items, str(stop)
    return outcome


def run_phase(study_dir: str | Path, phase: str, **kwargs) -> Outcome:
    """Bring the study up to date through `phase` (earlier phases first, if they are not)."""
    return run(study_dir, until=check_phase(phase), **kwargs)


def status(study_dir: str | Path) -> dict:
    """Each phase's state, the gates waiting for a person, and the LLM totals."""
    from aisci.runner import make_context, plan
    from aisci.widgets.cost import cost_text

    study = Study.open(Path(study_dir))
    state = study.phase_state()
    phases = {}
    for name, _fingerprint, current in plan(make_context(study, say=lambda _message: None)):
        phases[name] = "done" if current else ("out of date" if name in state else "not run")
    return {"study": str(study.root), "topic": study.config.study.topic, "phases": phases,
            "waiting": gates.waiting(study), "final_decision": gates.final_decision(study), "llm": cost_text(study)}


# --- many studies, and runs as jobs (what `aisci list` and the JupyterLab extension use) -----
def list_studies(root: str | Path = ".") -> list[dict]:
    """Every study under `root` (each folder with an aisci.toml) at a glance: see aisci.studies.card."""
    from aisci import studies

    root = Path(root).resolve()
    if not root.is_dir():
        raise StudyError(f"{root}: no such folder")
    return [studies.card(path, root) for path in studies.find(root)]


def event_sources(root: str | Path = ".") -> dict[str, Path]:
    """Every study under `root` (its path relative to root) -> the folder of its event log."""
    from aisci import studies

    root = Path(root).resolve()
    if not root.is_dir():
        raise StudyError(f"{root}: no such folder")
    return {os.path.relpath(path, root): path / ".aisci" for path in studies.find(root)}


def study_events(root: str | Path, cursor: dict[str, int] | None = None,
                 sources: dict[str, Path] | None = None) -> dict:
    """What happened in the studies under `root` (or in `sources`, from event_sources) since `cursor`
    (study -> the last seq seen): the events (aisci.events) and the cursor to ask with next. Without
    a cursor: none, and the cursor of now."""
    from aisci import events

    sources = event_sources(root) if sources is None else sources
    if cursor is None:
        return {"events": [], "cursor": {name: events.last_seq(folder) for name, folder in sources.items()}}
    found, after = events.collect(sources, cursor)
    return {"events": found, "cursor": after}


def study_card(study_dir: str | Path, root: str | Path | None = None) -> dict:
    """One study's phases, cost, best node, paper, review and run (as `list_studies` shows it)."""
    from aisci import studies

    Study.open(Path(study_dir))  # a one-line error for a folder that is not a study
    return studies.card(Path(study_dir), Path(root) if root else None)


def experiment_tree(study_dir: str | Path) -> dict:
    from aisci import studies

    return studies.tree(Study.open(Path(study_dir)))


def decisions(study_dir: str | Path) -> dict:
    """Every decision taken so far, and the gates waiting for one with their items."""
    from aisci import studies

    study = Study.open(Path(study_dir))
    return {"decisions": study.decisions(), "waiting": studies.gate_items(study)}


def decide(study_dir: str | Path, gate: str, verdict: str, items: list[str], note: str = "", by: str = "api") -> dict:
    """Approve or reject items at a gate: the same decisions.jsonl entry `aisci approve` writes."""
    from aisci.commands.approve import ACTIONS, _resolve

    study = Study.open(Path(study_dir))
    if gate not in gates.ALL_GATES:
        raise StudyError(f"unknown gate {gate!r} (gates: {', '.join(gates.ALL_GATES)})")
    if verdict not in ("approve", "reject"):
        raise StudyError(f"unknown verdict {verdict!r} (approve or reject)")
    if not items:
        raise StudyError("name at least one item to decide on")
    approve, reject = ACTIONS.get(gate, ("approve", "reject"))
    return study.record_decision(gate, approve if verdict == "approve" else reject,
                                 items=_resolve(study, gate, [str(i) for i in items]), by=by, note=note)


def start_run(study_dir: str | Path, until: str | None = None) -> dict:
    """Start `aisci run` on the study as a job in its own process group (see aisci.jobs)."""
    from aisci import jobs

    return jobs.start(Study.open(Path(study_dir)), until)


def stop_run(study_dir: str | Path) -> dict:
    from aisci import jobs

    return jobs.stop(Study.open(Path(study_dir)))


def run_log(study_dir: str | Path, offset: int = 0) -> dict:
    from aisci import jobs

    return jobs.log_since(Study.open(Path(study_dir)), offset)


def new_study(study_dir: str | Path, template: str, topic: str, llm: str | None = None,
              gate_policy: str | None = None) -> Study:
    """What `aisci init` does (the study, its library seeded with the template's references),
    with every gate's policy set to `gate_policy` (auto or stop) when given."""
    from aisci.commands.init import _seed_library
    from aisci.config import dump_config
    from aisci.fsutil import atomic_write_text
    from aisci.llm.spec import parse_spec

    if gate_policy not in (None, "auto", "stop"):
        raise StudyError(f"unknown gate policy {gate_policy!r} (auto or stop)")
    if llm:
        parse_spec(llm)
    if not topic.strip():
        raise StudyError("give the study a topic")
    study = Study.create(Path(study_dir), template, topic.strip(), llm)
    _seed_library(study)
    if gate_policy:
        for gate in gates.GATE_HELP:
            setattr(study.config.gates, gate, gate_policy)
        atomic_write_text(study.path("aisci.toml"), dump_config(study.config))
    return study


def model_requirements(spec: str) -> dict:
    """Which environment variable a model spec reads its key from, and whether it is set. Never
    the value."""
    from aisci.llm.spec import parse_spec

    model = parse_spec(spec)
    variable = model.api_key_env
    return {"spec": spec, "provider": model.provider, "model": model.label, "env": variable,
            "set": bool(variable and os.environ.get(variable))}


def templates() -> list[str]:
    from aisci.manifest import available_templates

    return list(available_templates())
