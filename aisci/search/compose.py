"""A node's notebook: its parent's notebook with the plan applied (the parameters cell
set, code cells replaced), a header cell saying what the node is and who wrote it, and no
outputs. Also what a person's edit changed, cell by cell, for a `human` node."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from aisci.constants import OFFLINE_ENGINE, PERSON
from aisci.fsutil import sha256_of
from aisci.execution import build
from aisci.manifest import parameters_cell_values
from aisci.search import cellplan

if TYPE_CHECKING:
    import nbformat

HEADER_ROLE = "node-header"
KIND_TITLES = {
    "baseline": "Baseline", "draft": "Draft", "debug": "Debug", "improve": "Improvement",
    "hyperparameter": "Hyperparameter run", "ablation": "Ablation", "replica": "Seed replica",
    "human": "Edited by a person",
}
KIND_MEANING = {
    "baseline": "the template's baseline, unchanged",
    "draft": "a first implementation of the idea, from the baseline",
    "debug": "a fix of a node that failed",
    "improve": "one change to the best working node",
    "hyperparameter": "one untried setting of the parameters, from the best node",
    "ablation": "the best node with one of its changes taken out",
    "replica": "the best node rerun with another seed",
    "human": "a person's edit of a node's notebook, added to the tree as its own node",
}


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def is_parameters_cell(cell) -> bool:
    return "parameters" in cell.get("metadata", {}).get("tags", [])


def cells_for_prompt(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Every cell but the node header, with the id a plan anchors to."""
    return cellplan.cells_for_prompt(without_header(nb))


def code_key(nb: nbformat.NotebookNode) -> str:
    """Hash of the code that is not the parameters cell: with the parameters, it names a
    configuration (the search never runs one twice)."""
    return sha256_of([c.source for c in code_cells(nb) if not is_parameters_cell(c)])


def config_key(code: str, parameters: dict[str, Any]) -> str:
    return sha256_of({"code": code, "parameters": parameters})


def without_header(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("aisci", {}).get("role") != HEADER_ROLE
                and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    return build.clear_outputs(nb)


def read_parameters(nb: nbformat.NotebookNode, space: dict[str, Any], fallback: dict[str, Any]) -> dict[str, Any]:
    """The declared parameters as the notebook's parameters cell sets them (a person may
    have edited it); a value that cannot be read keeps the fallback's."""
    from aisci.manifest import Parameter

    cell = next((c for c in nb.cells if c.cell_type == "code" and is_parameters_cell(c)), None)
    try:
        found = parameters_cell_values(cell.source) if cell is not None else {}
    except SyntaxError:
        found = {}
    values = dict(fallback)
    for name, spec in space.items():
        if name in found:
            try:
                values[name] = Parameter.model_validate(spec).coerce(found[name])
            except (TypeError, ValueError):
                pass
    return values


def set_parameters(source: str, parameters: dict[str, Any]) -> str:
    """Rewrite each `name = value` line of a parameters cell (other lines and comments
    stay); a parameter the cell does not set is appended."""
    lines = source.splitlines()
    for name, value in parameters.items():
        pattern = re.compile(rf"^(\s*){re.escape(name)}\s*(:[^=]*)?=(?!=).*$")
        for i, line in enumerate(lines):
            if pattern.match(line):
                lines[i] = f"{pattern.match(line).group(1)}{name} = {value!r}"
                break
        else:
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines)


def apply_plan(parent: nbformat.NotebookNode, parameters: dict[str, Any], changes: list | None,
               author: str) -> tuple[nbformat.NotebookNode, list[int]]:
    """The parent's notebook (header and outputs removed) with the parameters cell set to
    `parameters` and the plan's cell changes made (see aisci.search.cellplan); returns it
    and the positions of the code cells that are new or changed. Changed cells carry the
    plan's author."""
    nb = without_header(parent)
    nb, new_ids = cellplan.apply_changes(nb, list(changes or []), author)
    new_ids = set(new_ids)
    changed = []
    for index, cell in enumerate(code_cells(nb)):
        if is_parameters_cell(cell):
            source = set_parameters(cell.source, parameters)
            if source != cell.source:
                cell.source = source
                cell.metadata.setdefault("aisci", {})["author"] = author
                changed.append(index)
        elif cell.get("id") in new_ids:
            changed.append(index)
    return nb, changed


def header_cell(*, kind: str, node_id: str, parent: str | None, author: str, title: str, rationale: str,
                changes: dict[str, Any], edited_cells: list[int], extra: str = "") -> nbformat.NotebookNode:
    banner = build.OFFLINE_BANNER if author == OFFLINE_ENGINE else (
        "> **Edited by a person**; aisci added the edit to the tree as its own node." if author == PERSON else
        f"> Written by {build.author_label(author)} through aisci.")
    lines = [f"# {KIND_TITLES.get(kind, kind)}: {title}", "", banner, "",
             (f"**Node** `{node_id}` · **kind** `{kind}` ({KIND_MEANING.get(kind, '')}) · "
              f"**parent** `{parent or '—'}`")]
    if changes:
        lines += ["", "**Parameters changed from the parent:** " + ", ".join(f"`{k} = {v!r}`" for k, v in changes.items())]
    if edited_cells:
        lines += ["", "**Code cells changed from the parent:** " + ", ".join(str(i) for i in edited_cells)]
    if rationale:
        lines += ["", f"**Rationale.** {rationale}"]
    if extra:
        lines += ["", extra]
    return build.markdown("\n".join(lines), author, role=HEADER_ROLE)


def with_header(nb: nbformat.NotebookNode, header: nbformat.NotebookNode, author: str, node_id: str,
                kind: str) -> nbformat.NotebookNode:
    nb.cells.insert(0, header)
    nb.metadata.setdefault("aisci", {}).update({"author": author, "node": node_id, "kind": kind})
    nb.metadata.get("aisci", {}).pop("execution", None)
    return nb


def person_edits(edited: nbformat.NotebookNode, original: nbformat.NotebookNode) -> list[int]:
    """Mark the code cells a person changed or added (author `person`); return their
    indices among the code cells. Cells are matched by id, then by position."""
    before = {c.get("id"): c.source for c in code_cells(original) if c.get("id")}
    by_position = [c.source for c in code_cells(original)]
    changed = []
    for index, cell in enumerate(code_cells(edited)):
        old = before.get(cell.get("id")) if cell.get("id") in before else (
            by_position[index] if index < len(by_position) else None)
        if old != cell.source:
            cell.metadata.setdefault("aisci", {})["author"] = PERSON
            changed.append(index)
    return changed


def failing_cell(nb: nbformat.NotebookNode) -> str | None:
    """Source of the last code cell with an error output in an executed notebook."""
    for cell in reversed(code_cells(nb)):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return cell.source
    return None
