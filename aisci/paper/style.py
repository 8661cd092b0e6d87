"""The paper's layout: aisci's venue-neutral article, or a venue's style folder the user
supplies (`[paper] style_dir`, e.g. the ICLR or NeurIPS kit). Its .sty / .cls / .bst files
are copied next to main.tex and used: a .cls becomes the document class, each .sty a
package (with `[paper] style_options`), a .bst the bibliography style."""

from __future__ import annotations

import shutil
import string
from dataclasses import dataclass, field
from pathlib import Path

from aisci.errors import ConfigError

ARTICLE = Path(__file__).with_name("article.tex")
STYLE_SUFFIXES = (".sty", ".cls", ".bst", ".bbx", ".cbx", ".def", ".clo", ".cfg")
# aisci's own look: used when no venue style is named
NEUTRAL_LAYOUT = r"""\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{microtype}
\usepackage[margin=1.1in]{geometry}
\usepackage[numbers,sort&compress]{natbib}"""


@dataclass
class Style:
    folder: Path | None = None
    packages: list[str] = field(default_factory=list)  # .sty stems
    document_class: str | None = None  # .cls stem
    bibliography_style: str | None = None  # .bst stem

    @property
    def files(self) -> list[Path]:
        if self.folder is None:
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_file() and p.suffix in STYLE_SUFFIXES)

    def describe(self) -> str:
        if self.folder is None:
            return "aisci's venue-neutral article layout"
        return f"the venue style in {self.folder} ({', '.join(p.name for p in self.files)})"


def load_style(style_dir: str, study_root: Path) -> Style:
    """The style a study names, checked up front: a missing folder, or one with no .sty or
    .cls in it, is a one-line configuration error."""
    if not style_dir:
        return Style()
    folder = Path(style_dir).expanduser()
    folder = folder if folder.is_absolute() else Path(study_root) / folder
    if not folder.is_dir():
        raise ConfigError(f"aisci.toml: paper.style_dir: {folder} is not a folder (give the folder holding the "
                          "venue's .sty / .cls files)")
    style = Style(folder=folder.resolve())
    classes = sorted(p.stem for p in style.files if p.suffix == ".cls")
    style.packages = sorted(p.stem for p in style.files if p.suffix == ".sty")
    if not classes and not style.packages:
        raise ConfigError(f"aisci.toml: paper.style_dir: {folder} holds no .sty or .cls file")
    if len(classes) > 1:
        raise ConfigError(f"aisci.toml: paper.style_dir: {folder} holds several document classes "
                          f"({', '.join(classes)}); keep one")
    style.document_class = classes[0] if classes else None
    bst = sorted(p.stem for p in style.files if p.suffix == ".bst")
    style.bibliography_style = bst[0] if bst else None
    return style


def install(style: Style, paper: Path) -> None:
    """Copy the venue's files next to main.tex (LaTeX finds them there)."""
    for path in style.files:
        shutil.copyfile(path, Path(paper) / path.name)


def main_tex(style: Style, *, title: str, title_note: str, author: str, options: str = "",
             preamble: str = "") -> str:
    if style.folder is None:
        document_class, layout = r"\documentclass[11pt]{article}", NEUTRAL_LAYOUT
    else:
        opts = f"[{options}]" if options else ""
        document_class = (rf"\documentclass{opts}{{{style.document_class}}}" if style.document_class else
                          r"\documentclass{article}")
        packages = [rf"\usepackage{opts if not style.document_class else ''}{{{p}}}" for p in style.packages]
        # a venue style usually loads natbib itself, with its own options; load it only if not
        layout = "\n".join(packages + [r"\makeatletter\@ifpackageloaded{natbib}{}{\usepackage{natbib}}\makeatother"])
    return string.Template(ARTICLE.read_text(encoding="utf-8")).substitute(
        document_class=document_class, layout=layout, preamble=preamble.strip(), title=title,
        title_note=title_note, author=author, bibliography_style=style.bibliography_style or "plainnat")
