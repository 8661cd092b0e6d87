"""The finished paper in the notebook: paper.md with its figures, and a link to the PDF
that JupyterLab opens in its PDF viewer."""

from __future__ import annotations

import os
import re
from pathlib import Path

import ipywidgets as widgets
from IPython.display import Markdown

from aisci.study import Study
from aisci.widgets.data import open_study


def paper_markdown(study: Study, relative_to: Path | None = None) -> str:
    """paper.md with its image and PDF paths made relative to the notebook's folder."""
    here = Path(relative_to or os.getcwd())
    paper = study.path("paper")
    text = (paper / "paper.md").read_text(encoding="utf-8")
    rel = lambda target: os.path.relpath(paper / target, here).replace(os.sep, "/")
    text = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: f"![{m[1]}]({rel(m[2])})", text)
    pdf = paper / "paper.pdf"
    link = (f"**[Open the PDF]({rel('paper.pdf')})** (`{study.relative(pdf)}`)" if pdf.exists() else
            "_No PDF: LaTeX is not installed here; the LaTeX source is in `paper/main.tex`._")
    return f"{link}\n\n---\n\n{text}"


class PaperView(widgets.Output):
    def __init__(self, study: Study | str | Path):
        super().__init__()
        self.study = open_study(study)
        self.add_class("aisci-paper-view")
        if self.study.path("paper", "paper.md").exists():
            self.append_display_data(Markdown(paper_markdown(self.study)))
        else:
            self.append_display_data(Markdown("No paper yet: run the writeup phase (05_writeup.ipynb)."))
