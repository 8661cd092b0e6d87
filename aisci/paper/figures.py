"""The paper's figures: those the analysis notebook saved (analysis/summary.json lists them
with captions), as kept and re-captioned by a person at the figures gate, without
duplicates (same file content), each copied into paper/figures/ with a caption and a label."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from aisci import gates
from aisci.fsutil import sha256_of
from aisci.paper import latex


@dataclass(frozen=True)
class Figure:
    name: str
    path: str  # relative to paper/
    caption: str
    source: str  # the analysis file it was copied from, relative to the study

    @property
    def label(self) -> str:
        return f"fig:{self.name}"


def select(study, listed: list[dict], paper: Path) -> tuple[list[Figure], list[str]]:
    """The figures for the paper, and a problem for each one left out or lacking a caption."""
    problems: list[str] = []
    chosen: list[Figure] = []
    seen: dict[str, str] = {}  # content hash -> figure name
    folder = Path(paper) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    for fig in gates.figure_choices(study, listed):
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", str(fig.get("name", ""))) or "figure"
        source = study.path(fig.get("path", ""))
        if not source.is_file():
            problems.append(f"figure {name}: {fig.get('path')} does not exist (left out)")
            continue
        digest = sha256_of(source.read_bytes())
        if digest in seen:
            problems.append(f"figure {name} is the same image as figure {seen[digest]} (left out)")
            continue
        if name in {f.name for f in chosen}:
            problems.append(f"figure {name}: a second figure of the same name (left out)")
            continue
        caption = " ".join(str(fig.get("caption") or "").split())
        if not caption:
            problems.append(f"figure {name} has no caption (the analysis notebook gave none)")
            caption = name.replace("_", " ")
        seen[digest] = name
        target = folder / f"{name}{source.suffix.lower()}"
        shutil.copyfile(source, target)
        chosen.append(Figure(name, f"figures/{target.name}", caption, study.relative(source)))
    kept = {Path(f.path).name for f in chosen}
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in kept:
            stale.unlink()  # a figure dropped since the last run
    return chosen, problems


def figures_tex(figures: list[Figure]) -> str:
    return "\n".join(latex.figure_block(f.path, f.name, f.caption) for f in figures)


def referenced(figure: Figure, text: str) -> bool:
    return re.search(r"\\(?:[cC]ref|autoref|ref)\{[^}]*" + re.escape(figure.label) + r"[,}]", text) is not None
