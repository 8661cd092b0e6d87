"""The paper without TeX: paper.md (what the review reads, and what a notebook shows) and
paper.html (a page any browser opens), both with the numbers filled in, references
numbered, citations as [Author, year] and a reference list."""

from __future__ import annotations

import html
import re

from aisci.literature.model import Reference
from aisci.paper import latex
from aisci.paper.figures import Figure
from aisci.paper.sections import HEADINGS, SECTIONS

NUMBERED = [s for s in SECTIONS if s not in ("title", "abstract")]


def labels(figures: list[Figure]) -> dict[str, str]:
    """label -> how the text refers to it, numbered as LaTeX numbers them in main.tex."""
    found = {f"sec:{name}": f"Section {index}" for index, name in enumerate(NUMBERED, start=1)}
    found["tab:results"] = "Table 1"
    found.update({fig.label: f"Figure {index}" for index, fig in enumerate(figures, start=1)})
    return found


def citation_texts(bib: dict[str, Reference]) -> dict[str, str]:
    return {key: ref.short_citation().replace(" (", ", ").rstrip(")") for key, ref in bib.items()}


def reference_list(keys: list[str], bib: dict[str, Reference]) -> str:
    lines = []
    for key in keys:
        ref = bib.get(key)
        if ref is None:
            continue
        authors = ", ".join(ref.authors[:6]) + (" et al." if len(ref.authors) > 6 else "")
        venue = f" *{ref.venue}*." if ref.venue else ""
        lines.append(f"- {authors or ref.key} ({ref.year or 'n.d.'}). {ref.title}.{venue}")
    return "\n".join(lines)


def paper_markdown(*, title: str, note: str, bodies: dict[str, str], values: dict[str, str], table_tex: str,
                   figures: list[Figure], bib: dict[str, Reference], cited: list[str], appendix_mark: str,
                   appendix: str, outcome: str = "") -> str:
    """Everything above `appendix_mark` depends only on the sections, records and figures
    (the review reads it and must replay); the appendix below it may change run to run."""
    refs, cites = labels(figures), citation_texts(bib)
    md = lambda tex: latex.to_markdown(tex, values, refs, cites)
    parts = [f"# {md(title)}\n", f"_{note}_\n"]
    for name in SECTIONS[1:]:
        heading = HEADINGS[name]
        number = f"{NUMBERED.index(name) + 1} " if name in NUMBERED else ""
        lead = f"{outcome}\n" if name == "results" and outcome else ""  # aisci's own account comes first
        parts.append(f"## {number}{heading}\n\n{lead}{md(bodies.get(name, ''))}\n")
        if name == "results":
            parts.append(latex.table_to_markdown(table_tex, values))
            parts += [f"![{fig.caption}]({fig.path})\n\nFigure {index}: {fig.caption}\n"
                      for index, fig in enumerate(figures, start=1)]
    listed = reference_list(cited, bib)
    if listed:
        parts.append(f"## References\n\n{listed}\n")
    parts.append(f"{appendix_mark}\n\n{appendix}")
    return "\n".join(parts).rstrip() + "\n"


def paper_html(markdown_text: str, title: str) -> str | None:
    """paper.md as a standalone HTML page (None when mistune, nbconvert's Markdown reader,
    is not installed)."""
    try:
        import mistune
    except ImportError:
        return None
    body = mistune.html(re.sub(r"<!--.*?-->", "", markdown_text, flags=re.DOTALL))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>\n"
            f"<style>{_CSS}</style></head>\n<body><main>\n{body}</main></body></html>\n")


_CSS = ("body{font-family:Georgia,'Times New Roman',serif;line-height:1.55;color:#222;background:#fff}"
        "main{max-width:46em;margin:2em auto;padding:0 1em}h1{font-size:1.7em;text-align:center}"
        "h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}img{max-width:100%}"
        "table{border-collapse:collapse;margin:1em auto}td,th{border-bottom:1px solid #ccc;padding:.2em .6em}"
        "code{font-size:.9em;background:#f4f4f4;padding:0 .2em}")
