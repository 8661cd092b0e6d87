"""Executed notebooks as text for the writeup's model tasks (markdown and code, outputs left
out, long cells trimmed), and the cells' authors for the disclosure."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat loads when a notebook is read
    import nbformat

MAX_CELL_CHARS = 1500
MAX_NOTEBOOK_CHARS = 9000


def read(path: Path) -> nbformat.NotebookNode | None:
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError):
        return None


def notebook_text(path: Path, *, leave_out: set[str] | None = None, max_chars: int = MAX_NOTEBOOK_CHARS) -> str:
    """The notebook's cells as text, each headed by its index and kind; cells whose source
    is in `leave_out` (e.g. the same as the baseline's) are skipped."""
    nb = read(path)
    if nb is None:
        return "(the notebook could not be read)"
    parts, used = [], 0
    for index, cell in enumerate(nb.cells):
        source = cell.source.strip()
        if not source or (leave_out and cell.source in leave_out):
            continue
        tags = cell.metadata.get("tags", [])
        kind = cell.cell_type + (", parameters" if "parameters" in tags else "")
        if len(source) > MAX_CELL_CHARS:
            lines = source[:MAX_CELL_CHARS].splitlines()[:-1]
            source = "\n".join(lines) + f"\n... ({len(cell.source.splitlines()) - len(lines)} more lines)"
        block = f"## cell {index} ({kind})\n{source}\n"
        if used + len(block) > max_chars:
            parts.append(f"... ({len(nb.cells) - index} more cells left out)")
            break
        parts.append(block)
        used += len(block)
    return "\n".join(parts) or "(no cells)"


def sources(path: Path) -> set[str]:
    nb = read(path)
    return {cell.source for cell in nb.cells} if nb is not None else set()


def outline(nb: nbformat.NotebookNode) -> list[str]:
    """Each markdown cell's heading and first sentence: the notebook's own account of its steps."""
    found = []
    for cell in nb.cells:
        lines = [line.strip() for line in cell.source.strip().splitlines()] if cell.cell_type == "markdown" else []
        if not lines or lines[0].startswith(">"):
            continue
        heading = lines[0].lstrip("#").strip()
        rest = " ".join(line for line in lines[1:] if line and not line.startswith(">"))
        sentence = rest.split(". ")[0].rstrip(".") if rest else ""
        found.append(f"{heading}: {sentence}." if sentence else heading)
    return found


def cell_authors(path: Path) -> Counter:
    """How many cells each author wrote (cell metadata aisci.author; "unknown" when absent).

    Papermill's injected-parameters cell is nobody's work and is left out; a node's header cell
    ("Edited by a person", "Written by ...") is aisci's own summary of the node, whoever the node's
    author is, so it counts as aisci's."""
    from aisci.execution.build import AISCI_AUTHOR
    from aisci.search.compose import HEADER_ROLE

    nb = read(path)
    if nb is None:
        return Counter()
    authors: Counter = Counter()
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        meta = cell.metadata.get("aisci", {})
        authors[AISCI_AUTHOR if meta.get("role") == HEADER_ROLE else meta.get("author", "unknown")] += 1
    return authors
