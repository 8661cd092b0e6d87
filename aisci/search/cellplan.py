"""Plans at cell level: insert, replace and delete code and markdown cells, anchored to the
stable cell ids of nbformat 4.5 (never to list positions, which every insert shifts).

`apply_changes` makes the child notebook; `static_problems` checks it before anything runs
(the parameters cell kept, every record of the parent still recorded, the code parses);
`notebook_diff` is the change from the parent, stored in node.json and shown in the
experiments panel and the paper."""

from __future__ import annotations

import ast
import copy
import difflib
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from aisci.fsutil import sha256_of

if TYPE_CHECKING:  # nbformat loads only where a plan is applied: `aisci status` plans phases without it
    import nbformat

Action = Literal["replace", "insert_after", "insert_before", "delete"]
# aisci.record("name", ...) or aisci.record(name="name", ...): the names a notebook records literally
_RECORD = re.compile(r"""aisci\.record\(\s*(?:name\s*=\s*)?[rRuU]?(["'])([^"'{}\\]+)\1""")
_RECORD_ANY = re.compile(r"aisci\.record\(")


class CellChange(BaseModel):
    action: Action = Field(description="replace, insert_after or insert_before the anchor cell, or delete it")
    cell_id: str = Field(description="the id of an existing cell of the parent notebook (the anchor)")
    cell_type: Literal["code", "markdown"] = Field(default="code", description="of the new cell (replace, insert)")
    source: str = Field(default="", description="the new cell's complete source (replace, insert); empty for delete")


def is_parameters_cell(cell) -> bool:
    return cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])


def cells_for_prompt(nb: nbformat.NotebookNode) -> list[dict]:
    """Every cell as a model sees it: id, type, whether it is the parameters cell, source."""
    return [{"id": c.get("id", ""), "type": c.cell_type, "parameters_cell": is_parameters_cell(c), "source": c.source}
            for c in nb.cells]


def code_outline(nb: nbformat.NotebookNode, lines: int = 4) -> list[dict]:
    """The template's code in brief, for ideation: each code cell's id, the heading of the
    markdown above it, and its first lines."""
    outline, heading = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = next((ln.lstrip("# ").strip() for ln in cell.source.splitlines() if ln.startswith("#")), heading)
        elif cell.cell_type == "code":
            head = [ln for ln in cell.source.splitlines() if ln.strip()][:lines]
            outline.append({"id": cell.get("id", ""), "section": heading, "parameters_cell": is_parameters_cell(cell),
                            "begins": "\n".join(head), "lines": len(cell.source.splitlines())})
    return outline


def anchor_problems(nb: nbformat.NotebookNode, changes: list[CellChange]) -> list[str]:
    """Anchors that do not exist, a cell changed twice, or the parameters cell touched."""
    by_id = {c.get("id"): c for c in nb.cells}
    problems, touched = [], set()
    for change in changes:
        cell = by_id.get(change.cell_id)
        if cell is None:
            problems.append(f"cells: no cell has id {change.cell_id!r} (ids: {', '.join(map(str, by_id))})")
            continue
        if change.action in ("replace", "delete"):
            if is_parameters_cell(cell):
                problems.append(f"cells: {change.cell_id} is the parameters cell: keep it (set values through "
                                f"`parameters`; insert new code after it)")
            if change.cell_id in touched:
                problems.append(f"cells: {change.cell_id} is replaced or deleted twice")
            touched.add(change.cell_id)
        if change.action != "delete" and not change.source.strip():
            problems.append(f"cells: the {change.action} at {change.cell_id} has no source")
    return problems


def apply_changes(nb: nbformat.NotebookNode, changes: list[CellChange], author: str) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook with the changes made (anchors checked first), and the ids of the cells
    that are new or replaced. A new cell gets an id derived from its anchor and source, so
    the same plan always makes the same notebook."""
    nb = copy.deepcopy(nb)
    changed: list[str] = []
    for change in changes:
        index = next((i for i, c in enumerate(nb.cells) if c.get("id") == change.cell_id), None)
        if index is None:
            continue
        if change.action == "delete":
            del nb.cells[index]
            continue
        old = nb.cells[index]
        if change.action == "replace" and old.cell_type == change.cell_type and old.source == change.source:
            continue  # replaced by itself: no change
        cell = _new_cell(change, author, taken={c.get("id") for c in nb.cells})
        if change.action == "replace":
            if nb.cells[index].cell_type == change.cell_type:
                cell["id"] = change.cell_id  # a replaced cell keeps its id: its history stays readable
            nb.cells[index] = cell
        else:
            nb.cells.insert(index + (change.action == "insert_after"), cell)
        changed.append(cell["id"])
    return nb, changed


def _new_cell(change: CellChange, author: str, taken: set) -> nbformat.NotebookNode:
    import nbformat

    make = nbformat.v4.new_code_cell if change.cell_type == "code" else nbformat.v4.new_markdown_cell
    cell = make(change.source)
    digest = sha256_of([change.action, change.cell_id, change.source])
    cell_id, n = f"aisci-{digest[:8]}", 0
    while cell_id in taken:
        n += 1
        cell_id = f"aisci-{digest[:8]}-{n}"
    cell["id"] = cell_id
    cell.metadata["aisci"] = {"author": author}
    return cell


def static_problems(parent: nbformat.NotebookNode, child: nbformat.NotebookNode, declared: list[str]) -> list[str]:
    """What would make the child fail or lose a record, found before it runs."""
    problems = []
    if not any(is_parameters_cell(c) for c in child.cells):
        problems.append("the parameters cell is gone: keep it")
    for cell in child.cells:
        if cell.cell_type == "code":
            error = syntax_error(cell.source)
            if error:
                problems.append(f"cell {cell.get('id')}: the code does not parse ({error})")
    kept, had = recorded_names(child), recorded_names(parent)
    # a declared metric the parent records through a computed name cannot be checked by reading
    required = had | (set(declared) if _records_dynamically(parent) == 0 else set())
    missing = sorted(required - kept)
    if missing:
        problems.append(f"records: {', '.join(missing)} must still be recorded with aisci.record (the parent "
                        f"records {'them' if len(missing) > 1 else 'it'}; the analysis and the review read them)")
    if _records_dynamically(child) < _records_dynamically(parent):
        problems.append("records: an aisci.record call whose name is computed was removed; keep it")
    return problems


def recorded_names(nb: nbformat.NotebookNode) -> set[str]:
    return {m.group(2) for c in nb.cells if c.cell_type == "code" for m in _RECORD.finditer(c.source)}


def _records_dynamically(nb: nbformat.NotebookNode) -> int:
    """aisci.record calls whose name is not a literal (a loop over metrics, an f-string)."""
    return sum(len(_RECORD_ANY.findall(c.source)) - len(_RECORD.findall(c.source))
               for c in nb.cells if c.cell_type == "code")


def syntax_error(source: str) -> str | None:
    """Python's complaint about a code cell, IPython magics and shell lines left out."""
    lines = [("pass" if ln.lstrip().startswith(("%", "!")) else ln) for ln in source.splitlines()]
    try:
        ast.parse("\n".join(lines))
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    return None


def notebook_diff(parent: nbformat.NotebookNode, child: nbformat.NotebookNode, parent_name: str,
                  child_name: str) -> str:
    """A unified diff of the cells (markdown and code, each headed by its id and type)."""
    return "".join(difflib.unified_diff(_as_lines(parent), _as_lines(child), fromfile=parent_name,
                                        tofile=child_name, n=2))


def _as_lines(nb: nbformat.NotebookNode) -> list[str]:
    out = []
    for cell in nb.cells:
        if cell.cell_type not in ("code", "markdown"):
            continue
        out.append(f"# %% [{cell.cell_type}] {cell.get('id', '')}\n")
        out += [line + "\n" for line in cell.source.splitlines()]
    return out
