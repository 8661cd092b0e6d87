"""What the review panels show, read from the study folder. No widgets here: `aisci approve`
validates its items with the same readers, and tests call them directly."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from pydantic import ValidationError

from aisci.artifacts import Analysis, ExperimentSummary, Paper
from aisci.fsutil import read_json
from aisci.execution import build
from aisci.search.node import NODE_FILE, NOTEBOOK, Node
from aisci.study import Study


def open_study(study: Study | str | Path) -> Study:
    return study if isinstance(study, Study) else Study.open(Path(study))


# --- ideas -----------------------------------------------------------------------------------
def novelty_decisions(study: Study) -> dict[str, dict]:
    return read_json(study.path("ideas", "novelty.json"), default={})


# --- experiments ---------------------------------------------------------------------------
def node_records(study: Study) -> list[Node]:
    """Every experiment node: each node.json under experiments/ (the tree search writes one
    per node), falling back to summary.json's rows. Sorted by id."""
    nodes: dict[str, Node] = {}
    for path in sorted(study.path("experiments").rglob(NODE_FILE)):
        data = read_json(path, default=None)
        if isinstance(data, dict) and "id" in data:
            data.setdefault("notebook", study.relative(path.parent / NOTEBOOK))
            try:
                node = Node.model_validate(data)
            except ValidationError:  # a node.json broken by hand: its summary row, if any, stands in
                continue
            nodes[node.id] = node
    for node in ExperimentSummary.load(study).nodes:
        nodes.setdefault(node.id, node)
    roots: dict[str, str] = {}  # a parent may be named by its idea ("baseline"): that idea's first node
    for key in sorted(nodes, key=_natural):
        roots.setdefault(nodes[key].idea, key)
    for node in nodes.values():
        if node.parent and node.parent not in nodes:
            node.parent = roots.get(node.parent, node.parent)
    return [nodes[key] for key in sorted(nodes, key=_natural)]


def _natural(node_id: str) -> list:
    return [int(part) if part.isdigit() else part for part in node_id.replace("-", "/").split("/")]


def best_by_metric(study: Study) -> str | None:
    summary = ExperimentSummary.load(study)
    return summary.best_by_metric or summary.best  # "best" honours a person's approval


def node_tree(nodes: list[Node]) -> list[tuple[int, Node]]:
    """(depth, node) in tree order: each root (a node whose parent is missing), then its
    children depth-first. The baseline is the root of every idea's draft."""
    ids = {n.id for n in nodes}
    children: dict[str | None, list[Node]] = {}
    for node in nodes:
        parent = node.parent if node.parent in ids else None
        children.setdefault(parent, []).append(node)
    ordered: list[tuple[int, Node]] = []

    def walk(parent: str | None, depth: int) -> None:
        for child in children.get(parent, []):
            ordered.append((depth, child))
            walk(child.id, depth + 1)

    walk(None, 0)
    return ordered


def code_cells(study: Study, node: Node) -> list[str]:
    path = study.path(node.notebook) if node.notebook else None
    if path is None or not path.exists():
        return []
    try:
        return [cell.source for cell in build.read(path).cells if cell.cell_type == "code"]
    except Exception:  # noqa: BLE001 — a notebook broken by hand: nothing to diff
        return []


def code_diff(study: Study, node: Node, parent: Node | None) -> str:
    """A unified diff of the node's cells against its parent's (empty: no change): the one
    stored in node.json when the plan was made (markdown cells and cell ids included), else
    one computed from the code cells."""
    if parent is None:
        return ""
    if node.diff:
        return node.diff

    def lines(n: Node) -> list[str]:
        out = []
        for index, source in enumerate(code_cells(study, n)):
            out.append(f"# --- code cell {index + 1}\n")
            out.extend(line + "\n" for line in source.splitlines())
        return out

    return "".join(difflib.unified_diff(lines(parent), lines(node), fromfile=parent.id, tofile=node.id))


# --- analysis and paper ----------------------------------------------------------------------
def figures(study: Study) -> list[dict]:
    return Analysis.load(study).figures


def section_names(study: Study) -> list[str]:
    folder = study.path("paper", "sections")
    return [name for name in Paper.SECTIONS if (folder / f"{name}.tex").exists()]


def findings(study: Study, where: tuple[str, ...] = ("reviews", "paper")) -> list[dict]:
    """Checker findings about the paper: the review phase's grounded checks (reviews/) and
    the writeup's own checks (paper/). Each is {check, ok, detail, [section], [skipped]}."""
    found = []
    for path in (study.path(folder, "checks.json") for folder in where):
        data = read_json(path, default=[])
        if isinstance(data, dict):
            data = data.get("findings", [])
        found += [f for f in data if isinstance(f, dict) and "ok" in f]
    return found


def findings_for_section(name: str, found: list[dict]) -> list[dict]:
    """Findings about one section: those naming it, or whose detail names its .tex file."""
    return [f for f in found if f.get("section") == name or f"sections/{name}.tex" in str(f.get("detail", ""))]


# --- review ------------------------------------------------------------------------------------
def reviews(study: Study) -> list[dict]:
    paths = sorted(study.path("reviews").glob("review-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def meta_review(study: Study) -> dict | None:
    return read_json(study.path("reviews", "meta-review.json"), default=None)
