"""The Python API the phase notebooks (and the `%aisci` magics) call. It is a thin layer on
`aisci.runner`, the code `aisci run` uses, so a study stepped through in JupyterLab and one
run from the command line take the same path and leave the same files:

    from aisci import api
    api.init("my-study", template="grokking", topic="How weight decay shapes grokking")
    api.run_phase("my-study", "ideation")   # runs what is out of date up to this phase
    api.run("my-study")                     # the rest
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aisci import gates
from aisci.errors import GateStop, StudyError
from aisci.phases import PHASES
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
        on_phase: Callable[[str], None] | None = None) -> Outcome:
    """Run (or resume) the study up to `until` (default: every phase). A phase whose inputs
    did not change is skipped. `on_phase(name)` is called after each phase (e.g. to refresh
    a cost meter). A `stop` gate ends the run cleanly: the outcome says which gate waits."""
    study = Study.open(Path(study_dir))
    if until is not None and until not in PHASES:
        raise StudyError(f"unknown phase {until!r} (phases: {', '.join(PHASES)})")
    if progress is None:
        progress = not os.environ.get("AISCI_NO_PROGRESS")
    outcome = Outcome(study=study.root)
    names = list(PHASES)[: list(PHASES).index(until) + 1] if until else list(PHASES)
    steps = names if on_phase else names[-1:]  # with a callback, one runner call per phase
    try:
        for name in steps:
            report = run_study(study, llm_override=llm, until=name, progress=progress)
            outcome.ran += [n for n in report.ran if n not in outcome.ran]
            outcome.skipped = [n for n in report.skipped if n not in outcome.ran]
            outcome.notes += [n for n in report.notes if n not in outcome.notes]
            outcome.live_calls += report.live_calls
            if on_phase:
                on_phase(name)
    except GateStop as stop:
        found = re.search(r"the (\w+) gate waits", str(stop))
        outcome.stopped_at = found[1] if found else next(iter(gates.waiting(study)), "?")
        outcome.message = str(stop)
    return outcome


def run_phase(study_dir: str | Path, phase: str, **kwargs) -> Outcome:
    """Bring the study up to date through `phase` (earlier phases first, if they are not)."""
    if phase not in PHASES:
        raise StudyError(f"unknown phase {phase!r} (phases: {', '.join(PHASES)})")
    return run(study_dir, until=phase, **kwargs)


def status(study_dir: str | Path) -> dict:
    """Each phase's state, the gates waiting for a person, and the LLM totals."""
    from aisci.runner import make_context, plan
    from aisci.widgets.cost import cost_text

    study = Study.open(Path(study_dir))
    state = study.phase_state()
    phases = {}
    for name, _fingerprint, current in plan(make_context(study, say=lambda _m: None)):
        phases[name] = "done" if current else ("out of date" if name in state else "not run")
    return {"study": str(study.root), "topic": study.config.study.topic, "phases": phases,
            "waiting": gates.waiting(study), "final_decision": gates.final_decision(study), "llm": cost_text(study)}
