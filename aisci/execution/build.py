"""Build artifact notebooks with nbformat. Every cell says who wrote it
(`metadata.aisci.author`: a model, the offline engine, aisci itself, or a person)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.constants import AISCI_AUTHOR, OFFLINE_ENGINE
from aisci.fsutil import atomic_write_text, sha256_of

if TYPE_CHECKING:  # nbformat is imported where a notebook is built or read whole: `aisci status` stays fast
    import nbformat

OFFLINE_BANNER = (
    "> **Written by the aisci offline engine** — deterministic and model-free. "
    "No language model wrote this notebook; the experiments it runs and the numbers it reports are real."
)
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def author_label(author: str) -> str:
    return "the aisci offline engine (deterministic, model-free)" if author == OFFLINE_ENGINE else author


def notebook(title: str, author: str, intro: str = "") -> nbformat.NotebookNode:
    from nbformat.v4 import new_notebook

    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                                "aisci": {"author": author}})
    banner = OFFLINE_BANNER if author == OFFLINE_ENGINE else f"> Written by {author_label(author)} through aisci."
    nb.cells.append(markdown(f"# {title}\n\n{banner}" + (f"\n\n{intro}" if intro else ""), author))
    return nb


def markdown(text: str, author: str, **meta) -> nbformat.NotebookNode:
    from nbformat.v4 import new_markdown_cell

    return new_markdown_cell(text, metadata={"aisci": {"author": author, **meta}})


def code(source: str, author: str = AISCI_AUTHOR, tags: list[str] | None = None, **meta) -> nbformat.NotebookNode:
    metadata: dict = {"aisci": {"author": author, **meta}}
    if tags:
        metadata["tags"] = tags
    from nbformat.v4 import new_code_cell

    return new_code_cell(source, metadata=metadata)


def parameters_cell(values: dict, author: str = AISCI_AUTHOR) -> nbformat.NotebookNode:
    lines = [f"{name} = {value!r}" for name, value in values.items()]
    return code("\n".join(lines), author, tags=["parameters"])


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    import nbformat

    nbformat.validate(nb)
    atomic_write_text(Path(path), nbformat.writes(nb))


def read(path: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(str(path), as_version=4)


def code_hash(nb: nbformat.NotebookNode | Path) -> str:
    """Hash of the code a notebook runs (code cell sources only: outputs, metadata and
    markdown do not change what runs). A path is read with `peek`: phase fingerprints hash
    notebooks on every `aisci status`, which must not wait for nbformat."""
    if isinstance(nb, (str, Path)):
        nb = peek(Path(nb))
    return sha256_of([c.source for c in nb.cells if c.cell_type == "code"])


class PeekedNode(dict):
    """Part of a notebook read by `peek`: a dict whose keys read as attributes too, like
    nbformat's NotebookNode (`nb.cells`, `cell.source`)."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def peek(path: Path) -> PeekedNode:
    """A version 4 notebook read as plain JSON, for looking only (hashing code, checking a
    template): cell sources joined as nbformat joins them, nothing validated or converted,
    and no nbformat import (which costs seconds). Raises ValueError for a file that is not
    a v4 notebook; use `read` for a notebook to change or run."""
    data = json.loads(Path(path).read_text(encoding="utf-8"), object_hook=PeekedNode)
    if not isinstance(data, dict) or data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
        raise ValueError(f"{path}: not a version 4 notebook")
    for cell in data["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise ValueError(f"{path}: a cell without a cell_type")
        cell.setdefault("metadata", PeekedNode())
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell.setdefault("source", "")
    return data


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb
