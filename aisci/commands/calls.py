"""`aisci calls DIR [ID] [--task NAME]`: the study's LLM calls from the call store.

Without ID, one line per call (id, task, model, tokens, cost, latency); with ID, that
call whole — the messages sent and the answer — so a call id in a node.json, a review or
the disclosure appendix leads to exactly what the model was asked and said."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from typing import TYPE_CHECKING

from aisci.errors import AisciError

if TYPE_CHECKING:
    from aisci.llm.store import CallRecord


def register(subparsers) -> None:
    parser = subparsers.add_parser("calls", help="list the study's LLM calls, or show one whole")
    parser.add_argument("study")
    parser.add_argument("id", nargs="?", type=int, help="a call id (from node.json, a review, or the list)")
    parser.add_argument("--task", help="only calls of this task (e.g. experiments.improve)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.llm.store import CallStore
    from aisci.study import Study

    study = Study.open(args.study)
    path = study.path("llm", "calls.sqlite")
    if not path.exists():
        print(f"no LLM calls yet: run `aisci run {args.study}`")
        return 0
    store = CallStore(path)
    if args.id is not None:
        call = store.get(args.id)
        if call is None:
            raise AisciError(f"no call with id {args.id} in {path} (`aisci calls {args.study}` lists them)")
        print(_whole(call))
        return 0
    calls = store.calls(args.task)
    if not calls:
        print(f"no calls of task {args.task!r}" if args.task else "no LLM calls yet")
        return 0
    print(f"{'id':>5}  {'task':<28} {'model':<22} {'tokens':>8} {'cost $':>8} {'latency':>8}")
    for call in calls:
        tokens = call.prompt_tokens + call.completion_tokens
        print(f"{call.id:>5}  {call.task:<28} {call.model:<22} {tokens:>8} {call.cost_usd:>8.4f} {call.latency_s:>7.2f}s")
    return 0


def _whole(call: CallRecord) -> str:
    when = datetime.fromtimestamp(call.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"call {call.id}: task {call.task}, model {call.model} ({call.engine}), {when}",
             f"tokens {call.prompt_tokens} in + {call.completion_tokens} out, ${call.cost_usd:.4f}, "
             f"{call.latency_s:.2f} s, {call.attempts} attempt(s)", ""]
    if "messages" in call.request:
        for message in call.request["messages"]:
            lines += [f"--- {message['role']} ---", message["content"], ""]
    else:  # the offline engine: its inputs, no prompt
        lines += ["--- inputs (offline engine: no prompt, no model) ---",
                  json.dumps(call.request.get("inputs"), indent=2, default=str)[:20000], ""]
    lines += ["--- answer ---", _pretty(call.response)]
    return "\n".join(lines)


def _pretty(response: str) -> str:
    try:
        return json.dumps(json.loads(response), indent=2, ensure_ascii=False)
    except ValueError:
        return response
