"""`aisci approve DIR GATE ITEM...` and `aisci reject DIR GATE ITEM...`: decide at a gate
from the command line; the decision goes to decisions.jsonl and the next run honours it.
The review panels write the same decisions (see aisci.gates for what each one means)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aisci.errors import AisciError
from aisci.fsutil import read_json
from aisci.gates import ALL_GATES

if TYPE_CHECKING:
    from aisci.study import Study

# the verb a gate records for `approve` / `reject` (figures are kept or dropped, sections locked)
PROBLEM_ID = re.compile(r"P[0-9a-f]{8}")
ACTIONS = {"figures": ("keep", "drop"), "paper": ("lock", "unlock")}


def register(subparsers) -> None:
    for action in ("approve", "reject"):
        parser = subparsers.add_parser(
            action, help=f"{action} items at a gate (ideas: ranks or names; experiments: node ids; "
                         "review: accept|reject; figures: keep/drop; paper: lock/unlock a section)")
        parser.add_argument("study")
        parser.add_argument("gate", choices=list(ALL_GATES))
        parser.add_argument("items", nargs="+")
        parser.add_argument("--note", default="", help="why (kept with the decision)")
        parser.set_defaults(handler=handle, action=action)


def handle(args) -> int:
    from aisci.study import Study

    study = Study.open(args.study)
    if args.gate == "paper" and any(PROBLEM_ID.fullmatch(i) for i in args.items):
        return _decide_problems(study, args)
    items = _resolve(study, args.gate, args.items)
    approve, reject = ACTIONS.get(args.gate, ("approve", "reject"))
    action = approve if args.action == "approve" else reject
    study.record_decision(args.gate, action, items=items, by="cli", note=args.note)
    print(f"{'approved' if args.action == 'approve' else 'rejected'} at the {args.gate} gate: {', '.join(items)}; run `aisci run {args.study}` to continue")
    return 0


def _decide_problems(study: Study, args) -> int:
    """`approve STUDY paper PROBLEM-ID --note REASON` accepts an open problem of the paper's
    checks (the final paper.pdf may then carry it; the disclosure prints the reason);
    `reject` takes the acceptance back."""
    checks = read_json(study.path("paper", "checks.json")) or {}
    known = {f["id"] for f in checks.get("findings", []) if f.get("id") and not f.get("ok")}
    for item in args.items:
        if not PROBLEM_ID.fullmatch(item):
            raise AisciError(f"{item!r}: decide on problems and sections in separate commands")
        if item not in known:
            raise AisciError(f"unknown paper problem {item!r} (the open ones are listed by `aisci status "
                             f"{args.study}` and in paper/checks.json)")
    if args.action == "approve" and not args.note.strip():
        raise AisciError("accepting a problem needs a reason: add --note \"why the paper may carry it\"")
    action = "accept" if args.action == "approve" else "unaccept"
    study.record_decision("paper", action, items=list(args.items), by="cli", note=args.note.strip())
    print(f"{'accepted' if action == 'accept' else 'no longer accepted'} at the paper gate: {', '.join(args.items)}; "
          f"run `aisci paper {args.study}` to build the paper again")
    return 0


def _resolve(study: Study, gate: str, items: list[str]) -> list[str]:
    from aisci.widgets.data import figures, node_records, section_names

    if gate in ("ideas", "novelty"):
        return _idea_names(study, items)
    if gate == "review":
        return _known(items, ["accept", "reject"], "final decision", "")
    if gate == "experiments":
        return _known(items, [n.id for n in node_records(study)], "experiment node",
                      "run `aisci run STUDY --until experiments` first")
    if gate == "figures":
        return _known(items, [f["name"] for f in figures(study)], "figure", "run `aisci run STUDY --until analysis` first")
    return _known(items, section_names(study), "paper section", "run `aisci run STUDY --until writeup` first")


def _known(items: list[str], known: list[str], what: str, hint: str) -> list[str]:
    if not known:
        raise AisciError(f"no {what}s yet: {hint}")
    for item in items:
        if item not in known:
            raise AisciError(f"unknown {what} {item!r} (choose from: {', '.join(known)})")
    return items


def _idea_names(study: Study, items: list[str]) -> list[str]:
    """Ranks (as shown by the ideation notebook, best score first) become idea names."""
    from aisci.artifacts import Ideas

    ranked = [i.name for i in sorted(Ideas.load(study).ideas, key=lambda i: -i.score)]
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
