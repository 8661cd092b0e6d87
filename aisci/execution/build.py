"""Build artifact notebooks with nbformat. Every cell says who wrote it
(`metadata.aisci.author`: a model, the offline engine, aisci itself, or a person)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from aisci.constants import AISCI_AUTHOR, OFFLINE_ENGINE
from aisci.fsutil import atomic_write_text, sha256_of

OFFLINE_BANNER = (
    "> **Written by the aisci offline engine** — deterministic and model-free. "
    "No language model wrote this notebook; the experiments it runs and the numbers it reports are real."
)
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def author_label(author: str) -> str:
    return "the aisci offline engine (deterministic, model-free)" if author == OFFLINE_ENGINE else author


def notebook(title: str, author: str, intro: str = "") -> nbformat.NotebookNode:
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                                "aisci": {"author": author}})
    banner = OFFLINE_BANNER if author == OFFLINE_ENGINE else f"> Written by {author_label(author)} through aisci."
    nb.cells.append(markdown(f"# {title}\n\n{banner}" + (f"\n\n{intro}" if intro else ""), author))
    return nb


def markdown(text: str, author: str, **meta) -> nbformat.NotebookNode:
    return new_markdown_cell(text, metadata={"aisci": {"author": author, **meta}})


def code(source: str, author: str = AISCI_AUTHOR, tags: list[str] | None = None, **meta) -> nbformat.NotebookNode:
    metadata: dict = {"aisci": {"author": author, **meta}}
    if tags:
        metadata["tags"] = tags
    return new_code_cell(source, metadata=metadata)


def parameters_cell(values: dict, author: str = AISCI_AUTHOR) -> nbformat.NotebookNode:
    lines = [f"{name} = {value!r}" for name, value in values.items()]
    return code("\n".join(lines), author, tags=["parameters"])


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    atomic_write_text(Path(path), nbformat.writes(nb))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def code_hash(nb: nbformat.NotebookNode | Path) -> str:
    """Hash of the code a notebook runs (code cell sources only: outputs, metadata and
    markdown do not change what runs)."""
    if isinstance(nb, (str, Path)):
        nb = read(Path(nb))
    return sha256_of([c.source for c in nb.cells if c.cell_type == "code"])


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb
