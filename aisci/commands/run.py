"""`aisci run DIR [--llm SPEC] [--until PHASE]`: run (or resume) a study."""

from __future__ import annotations

import os

from aisci.constants import PHASE_NAMES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run the study's phases in order; resumes where it stopped",
        description="Models: offline (default; deterministic, model-free), openai:MODEL[@URL], ollama:MODEL, "
                    "vllm:MODEL@URL, endpoint:NAME ([llm.endpoints.NAME] in aisci.toml).")
    parser.add_argument("study")
    parser.add_argument("--llm", help="model for every role, overriding aisci.toml")
    parser.add_argument("--until", choices=PHASE_NAMES, help="stop after this phase")
    parser.add_argument("--cache", choices=["live", "replay", "off"],
                        help="call store mode: live (replay hits, call on misses), replay (a miss is an error), off")
    parser.add_argument("--redo", action="append", default=[], choices=PHASE_NAMES, metavar="PHASE",
                        help="run this phase again even if it is up to date (repeatable); what follows reruns "
                             "when its outputs change. Finished experiment nodes are never re-executed")
    parser.add_argument("--quiet", action="store_true", help="no progress view")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.llm.spec import parse_spec
    from aisci.runner import run_study
    from aisci.study import Study
    from aisci.writeup.pdf_state import pdf_state

    study = Study.open(args.study)
    if args.llm:
        parse_spec(args.llm, study.config.llm)
    if args.cache:
        study.config.llm.cache = args.cache
    hooks = None
    if not args.quiet and not os.environ.get("AISCI_NO_PROGRESS"):
        from aisci.progress import TerminalProgress

        hooks = TerminalProgress(study).hooks()
    report = run_study(study, llm_override=args.llm, until=args.until, redo=args.redo, hooks=hooks)
    for note in report.notes:
        print(f"note: {note}")
    done = "nothing to do: every phase is up to date" if not report.ran else f"ran: {', '.join(report.ran)}"
    print(f"{done}. Live LLM calls this run: {report.live_calls}.")
    state = pdf_state(study)
    if state and "writeup" in report.ran + report.skipped:
        print(f"paper: {state}" + (f"; reviews: {study.path('reviews')}" if "review" in report.ran + report.skipped else ""))
    return 0
