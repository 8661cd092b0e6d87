"""Writeup: the finished notebooks become a paper whose every number and citation is checked.

1. values.tex (one macro per record), references.bib (template, study library, attribution
   table: never invented) and the analysis figures (kept, captioned, deduplicated).
2. Sections, each a file in paper/sections/ and each its own call (writeup.method,
   writeup.experimental_setup, writeup.results, ..., writeup.abstract, writeup.title: the order
   of tasks.DRAFT_ORDER), given the facts its prompt names and the sections written before it.
   The offline engine fills fixed templates with the measured records instead. A section a
   person edited (or locked) is kept and disclosed as theirs, and the sections after it read it.
3. Checks of each section as soon as it is drafted (numbers, experiment claims, citation keys,
   attributions, value macros, references, figures, chktex), and of the whole paper at the end;
   a model-written section with problems is rewritten by writeup.fix for at most
   `[paper] fix_rounds` rounds; an invented citation key left after that is removed; the rest
   is reported in paper/checks.json.
4. main.tex (aisci's article or a venue's style), compiled with a time limit; a LaTeX error
   located in a model-written section goes back to writeup.fix, again for bounded rounds.
   Without TeX: the .tex tree, a clear message, paper.md and paper.html.
5. The disclosure appendix, paper.md (the review reads it up to APPENDIX_MARK) and the
   executed paper.ipynb.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aisci import gates
from aisci.artifacts import Analysis, ExperimentSummary, Ideas, Paper
from aisci.fsutil import sha256_of
from aisci.paper.sections import SECTIONS

__all__ = ["APPENDIX_MARK", "CONFIG", "CONSUMES", "PRODUCES", "SECTIONS", "inputs", "run"]

CONSUMES = (Ideas, ExperimentSummary, Analysis)
PRODUCES = (Paper,)
# the disclosure states the sandbox; the text counts the ideas that passed the gates
CONFIG = ("study.topic", "paper", "experiments.timeout_s", "experiments.sandbox", "experiments.sandbox_reason",
          "experiments.allow_network", "gates.ideas", "gates.novelty", "ideation.select")
APPENDIX_MARK = Paper.APPENDIX_MARK  # reviewers read the paper above it


def inputs(ctx) -> Any:
    """Besides the upstream digest: the section files (a person's edit reruns the writeup and
    is kept), the study library, the venue style folder, and the paper and figures gates."""
    sections = ctx.study.path("paper", "sections")
    on_disk = ({p.name: sha256_of(p.read_bytes()) for p in sorted(sections.glob("*.tex"))}
               if sections.exists() else {})
    library = ctx.study.path("literature", "library.bib")
    style_files = {}
    if ctx.config.paper.style_dir:
        folder = Path(ctx.config.paper.style_dir).expanduser()
        folder = folder if folder.is_absolute() else ctx.study.root / folder
        if folder.is_dir():
            style_files = {p.name: sha256_of(p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()}
    return {"sections_on_disk": on_disk,
            "library": sha256_of(library.read_bytes()) if library.exists() else None,
            "template_bib": (sha256_of(ctx.template.references_bib.read_bytes())
                             if ctx.template.references_bib.exists() else None),
            "style": style_files,
            "paper_gate": gates.decisions_digest(ctx.study, "paper"),
            "figures_gate": gates.decisions_digest(ctx.study, "figures")}


def run(ctx) -> None:
    # the writeup's machinery (checks, LaTeX, disclosure) loads here: `aisci status` and a no-op
    # run import this module for its declarations only
    from aisci.writeup import drafting, facts, fixing, publishing, typesetting
    from aisci.writeup.workspace import Workspace

    workspace = Workspace(ctx, facts.gather(ctx))
    drafting.draft(workspace)
    fixing.revise(workspace)
    typesetting.build(workspace)
    publishing.publish(workspace)
