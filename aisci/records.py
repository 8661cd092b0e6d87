"""Records: the numbers an experiment notebook reports, carried as a display output.

Inside a notebook, ``aisci.record("val_acc", 0.97)`` displays a bundle with its own MIME
type; aisci reads the bundles back from the executed notebook, so every number the paper
states can name the notebook and the cell that produced it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel

RECORD_MIME = "application/vnd.aisci.record.v1+json"


class Record(BaseModel):
    name: str
    value: float | int | str
    unit: str | None = None
    description: str | None = None
    notebook: str | None = None  # path of the executed notebook, relative to the study
    cell_index: int | None = None
    cell_id: str | None = None


def record(name: str, value: Any, *, unit: str | None = None, description: str | None = None) -> None:
    """Report a number from a notebook. Call it in a cell of an experiment notebook."""
    from IPython.display import display

    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ValueError(f"record name must be letters, digits and underscores, got {name!r}")
    value = _plain_number(value)
    payload = {"name": name, "value": value, "unit": unit, "description": description}
    display({RECORD_MIME: payload, "text/plain": f"[aisci record] {name} = {value}"}, raw=True)


def _plain_number(value: Any) -> float | int | str:
    if hasattr(value, "item"):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, str)):
        return value
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return value


def read_records(notebook: Path | nbformat.NotebookNode, label: str | None = None) -> list[Record]:
    """All records in an executed notebook, in cell order; a later record of a name wins."""
    if isinstance(notebook, (str, Path)):
        import nbformat  # here, not at the top: `import aisci` in every kernel would pay ~2 s for it

        label = label or str(notebook)
        notebook = nbformat.read(str(notebook), as_version=4)
    found: dict[str, Record] = {}
    for index, cell, payload in display_payloads(notebook, RECORD_MIME):
        found[payload["name"]] = Record(**payload, notebook=label, cell_index=index, cell_id=cell.get("id"))
    return list(found.values())


def display_payloads(notebook, mime: str):
    """(cell index, cell, payload) for every display output of this MIME type, in cell order:
    how aisci's notebooks hand structured results (records, figures, checks) back."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result"):
                payload = output.get("data", {}).get(mime)
                if payload:
                    yield index, cell, payload


def records_by_name(records: list[Record]) -> dict[str, Record]:
    return {r.name: r for r in records}
