"""`aisci paper DIR`: check the paper and build its PDF again (after editing paper/sections).

It runs the writeup phase itself, the one check path every PDF goes through: the sections as
they are on disk are checked, checks.json, paper.md, the disclosure and the status are
refreshed, and the PDF is `paper.pdf` only when no integrity problem is open (else
`paper-draft.pdf`, marked as a draft on every page)."""

from __future__ import annotations

from aisci.errors import AisciError, TexMissing

LISTED = 8


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "paper", help="check the sections and build the PDF again (paper.pdf when no problem is open, "
                      "else paper-draft.pdf)")
    parser.add_argument("study")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.fsutil import read_json
    from aisci.paper.compile import INSTALL_HINT, tex_available
    from aisci.study import Study
    from aisci.writeup.rebuild import check_and_build

    study = Study.open(args.study)
    if not study.path("paper", "main.tex").exists():
        raise AisciError(f"{study.path('paper', 'main.tex')} does not exist yet: run "
                         f"`aisci run {args.study} --until writeup`")
    if study.config.paper.compile and not tex_available():
        raise TexMissing(f"no LaTeX found, so no PDF can be built ({INSTALL_HINT})")
    state, notes = check_and_build(study)
    for note in notes:
        print(f"note: {note}")
    checks = read_json(study.path("paper", "checks.json"), default={}) or {}
    problems = [f for f in checks.get("findings", []) if not f.get("ok") and f.get("severity", "error") == "error"
                and f.get("status") != "accepted"]
    for finding in problems[:LISTED]:
        print(f"  open [{finding['id']}] {finding.get('section') or 'paper'}, {finding['check']}: {finding['detail']}")
    if len(problems) > LISTED:
        print(f"  ... and {len(problems) - LISTED} more in paper/checks.json")
    print(f"paper: {state}")
    if problems:
        print(f"fix the sections and run `aisci paper {args.study}` again, or accept a problem with a reason: "
              f"`aisci approve {args.study} paper ID --note REASON`")
        return 1
    return 0
