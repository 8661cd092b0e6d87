"""`aisci status DIR`: each phase's state, tokens and cost so far, what waits for a human."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aisci.study import Study


def register(subparsers) -> None:
    parser = subparsers.add_parser("status", help="show each phase's state, tokens and cost, and open gates")
    parser.add_argument("study")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci import gates
    from aisci.artifacts import ExperimentSummary
    from aisci.llm.store import CallStore
    from aisci.runner import make_context, plan
    from aisci.study import Study

    study = Study.open(args.study)
    ctx = make_context(study)
    state = study.phase_state()
    print(f"study {study.root} — topic: {study.config.study.topic} — template: {ctx.template.name}")
    rows = plan(ctx)
    for name, _fp, current in rows:
        entry = state.get(name)
        label = "done" if current else ("out of date" if entry else "not run")
        when = f" (finished {entry['finished_at']})" if entry and current else ""
        print(f"  {name:<12} {label}{when}")
    print("  " + _sandbox_line(study.config.experiments))
    nodes = ExperimentSummary.load(study).nodes
    if nodes:
        counts: dict[str, int] = {}
        for node in nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        print("  experiment nodes: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for line in _outcomes(study, stale={name for name, _fp, current in rows if not current}):
        print("  " + line)
    store = CallStore(study.path("llm", "calls.sqlite"))
    live = store.totals("openai-compatible")
    offline = store.totals("offline")
    print(f"LLM: {live.calls} model calls, {live.tokens} tokens, ${live.cost_usd:.4f}; "
          f"{offline.calls} offline-engine tasks")
    decision = gates.final_decision(study)
    print(f"your decision on the paper: {decision or 'none yet'}")
    waiting = gates.waiting(study)
    if waiting:
        for gate in waiting:
            print(f"waiting for you: the {gate} gate — " + gates.GATE_HELP[gate].format(study=args.study))
    else:
        print("waiting for you: nothing")
    return 0


def _sandbox_line(section) -> str:
    if section.sandboxed:
        network = "network allowed" if section.allow_network else "no network"
        return f"sandbox: bubblewrap ({network}; generated code sees only its own folder and the template)"
    return f'sandbox: NONE (sandbox = "none": {section.sandbox_reason.strip() or "no reason given"})'


def _outcomes(study: Study, stale: set[str] = frozenset()) -> list[str]:
    """The study's results so far, each from the file that holds it: the best node, the
    paper's open check problems, the meta-review's verdict. A result whose phase is out of date
    (say, the review after the paper's sections were edited and `aisci paper` rebuilt it) says so."""
    from aisci.artifacts import ExperimentSummary
    from aisci.fsutil import read_json
    from aisci.writeup.pdf_state import pdf_state

    def dated(line: str, phase: str) -> str:
        return line + (f" — out of date: it predates the current {'paper' if phase != 'writeup' else 'sections'}; "
                       f"`aisci run {study.root}` redoes it" if phase in stale else "")

    lines = []
    summary = ExperimentSummary.load(study)
    best = summary.best_node
    if best is not None:
        primary = summary.primary_metric
        value = best.metrics.get(primary)
        shown = f" ({primary} = {value:.4g})" if isinstance(value, (int, float)) else ""
        lines.append(f"best node: {best.id}{shown}")
    state = pdf_state(study)
    if state:
        lines.append(dated(f"paper: {state} (paper/checks.json)", "writeup"))
    meta = read_json(study.path("reviews", "meta-review.json"))
    if meta:
        lines.append(dated(f"review: {meta.get('decision')}, Overall {meta.get('overall')} (reviews/meta-review.json)",
                           "review"))
    return lines
