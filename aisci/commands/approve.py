"""`aisci approve DIR GATE ITEM...` and `aisci reject DIR GATE ITEM...`: decide at a gate
from the command line; the decision goes to decisions.jsonl and the next run honours it."""

from __future__ import annotations

from aisci.errors import AisciError
from aisci.gates import GATE_HELP
from aisci.phases.ideation import load_ideas
from aisci.study import Study


def register(subparsers) -> None:
    for action in ("approve", "reject"):
        parser = subparsers.add_parser(action, help=f"{action} items at a gate (ideas: ranks or names)")
        parser.add_argument("study")
        parser.add_argument("gate", choices=list(GATE_HELP))
        parser.add_argument("items", nargs="+")
        parser.add_argument("--note", default="", help="why (kept with the decision)")
        parser.set_defaults(handler=handle, action=action)


def handle(args) -> int:
    study = Study.open(args.study)
    items = _resolve(study, args.gate, args.items)
    study.record_decision(args.gate, args.action, items=items, by="cli", note=args.note)
    print(f"{args.action}d at the {args.gate} gate: {', '.join(items)}; run `aisci run {args.study}` to continue")
    return 0


def _resolve(study: Study, gate: str, items: list[str]) -> list[str]:
    """For the ideas gate, ranks (as shown by the ideation notebook) become idea names."""
    if gate not in ("ideas", "novelty"):
        return items
    ranked = [i.name for i in sorted(load_ideas(study), key=lambda i: -i.score)]
    if not ranked:
        raise AisciError("no ideas yet: run `aisci run STUDY --until ideation` first")
    names = []
    for item in items:
        if item.isdigit():
            if not 1 <= int(item) <= len(ranked):
                raise AisciError(f"no idea ranked {item} (there are {len(ranked)})")
            names.append(ranked[int(item) - 1])
        elif item in ranked:
            names.append(item)
        else:
            raise AisciError(f"unknown idea {item!r} (ideas: {', '.join(ranked)})")
    return names
