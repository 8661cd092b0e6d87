"""`aisci paper DIR`: compile the study's paper again (after editing paper/sections)."""

from __future__ import annotations

import shutil

from aisci.errors import AisciError


def register(subparsers) -> None:
    parser = subparsers.add_parser("paper", help="compile paper/main.tex to paper/paper.pdf")
    parser.add_argument("study")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.paper.compile import compile_pdf
    from aisci.study import Study

    study = Study.open(args.study)
    paper = study.path("paper")
    if not (paper / "main.tex").exists():
        raise AisciError(f"{paper / 'main.tex'} does not exist yet: run `aisci run {args.study} --until writeup`")
    result = compile_pdf(paper, timeout_s=study.config.paper.compile_timeout_s)
    if not result.ok or result.pdf is None:
        raise AisciError(f"LaTeX failed: {(result.errors or ['see ' + str(result.log)])[0]}")
    shutil.copyfile(result.pdf, paper / "paper.pdf")
    print(f"built {paper / 'paper.pdf'}")
    return 0
