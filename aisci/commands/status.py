"""`aisci status DIR`: each phase's state, tokens and cost so far, what waits for a human."""

from __future__ import annotations

from aisci import gates
from aisci.llm.store import CallStore
from aisci.phases import experiments
from aisci.runner import make_context, plan
from aisci.study import Study


def register(subparsers) -> None:
    parser = subparsers.add_parser("status", help="show each phase's state, tokens and cost, and open gates")
    parser.add_argument("study")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    study = Study.open(args.study)
    ctx = make_context(study)
    state = study.phase_state()
    print(f"study {study.root} — topic: {study.config.study.topic} — template: {ctx.template.name}")
    for name, _fp, current in plan(ctx):
        entry = state.get(name)
        label = "done" if current else ("out of date" if entry else "not run")
        when = f" (finished {entry['finished_at']})" if entry and current else ""
        print(f"  {name:<12} {label}{when}")
    nodes = experiments.summary(study)["nodes"]
    if nodes:
        counts: dict[str, int] = {}
        for node in nodes:
            counts[node["status"]] = counts.get(node["status"], 0) + 1
        print("  experiment nodes: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
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
