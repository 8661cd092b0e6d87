"""`aisci tree DIR [--idea NAME]`: the experiment tree of each idea, read from the node
folders (so it shows a search that is still running): kind, status, primary metric, and
the best node of each idea marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisci.errors import AisciError

if TYPE_CHECKING:
    from aisci.search.node import IdeaTree, Node

STATUS_MARK = {"done": "ok", "running": "..", "failed": "FAILED", "timed_out": "TIMED OUT", "died": "DIED",
               "invalid": "NOT RUN"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("tree", help="print the experiment tree of each idea")
    parser.add_argument("study")
    parser.add_argument("--idea", help="only this idea's tree")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.search.node import IdeaTree, best_node
    from aisci.study import Study

    study = Study.open(args.study)
    manifest = study.template().manifest
    primary, direction = manifest.primary_metric, manifest.metrics[manifest.primary_metric].direction
    folder = study.path("experiments")
    ideas = sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("node-*/node.json"))) \
        if folder.exists() else []
    ideas = sorted(ideas, key=lambda name: (name != "baseline", name))
    if args.idea:
        if args.idea not in ideas:
            raise AisciError(f"no experiment tree for idea {args.idea!r} (trees: {', '.join(ideas) or 'none yet'})")
        ideas = [args.idea]
    if not ideas:
        print(f"no experiment nodes yet: run `aisci run {args.study}`")
        return 0
    print(f"primary metric: {primary} ({direction}); * marks the best node of each idea")
    for idea in ideas:
        tree = IdeaTree.load(folder, idea)
        top = best_node(tree.nodes, primary, direction)
        print(f"\n{idea}  ({len(tree.nodes)} node{'s' if len(tree.nodes) != 1 else ''}"
              f"{f', best {top.name}' if top else ', none finished with the metric'})")
        for prefix, node in _ordered(tree):
            print(_line(prefix, node, primary, top))
    return 0


def _ordered(tree: IdeaTree) -> list[tuple[str, Node]]:
    """Depth-first, with box-drawing prefixes; a node whose parent is in another tree (a
    draft's parent is the baseline) is a root."""
    ids = {n.id for n in tree.nodes}
    children: dict[str | None, list[Node]] = {}
    for node in tree.nodes:
        children.setdefault(node.parent if node.parent in ids else None, []).append(node)
    lines: list[tuple[str, Node]] = []

    def walk(parent: str | None, indent: str) -> None:
        kids = children.get(parent, [])
        for i, node in enumerate(kids):
            last = i == len(kids) - 1
            lines.append((indent + ("└─ " if last else "├─ "), node))
            walk(node.id, indent + ("   " if last else "│  "))

    walk(None, "  ")
    return lines


def _line(prefix: str, node: Node, primary: str, top: Node | None) -> str:
    value = node.metric(primary)
    parts = [node.name, node.kind, STATUS_MARK.get(node.status, node.status)]
    parts.append(f"{primary}={value:.4g}" if value is not None else "")
    extra = []
    if node.parent and "/" in node.parent and node.parent.split("/")[0] != node.idea:
        extra.append(f"from {node.parent}")
    if node.stage:
        extra.append(f"stage {node.stage}")
    if node.seed is not None and node.kind == "replica":
        extra.append(f"seed {node.seed}")
    if node.ablation:
        extra.append(f"without {node.ablation.removeprefix('without_')}")
    if node.changes and node.kind not in ("replica", "baseline"):
        extra.append(", ".join(f"{k}={v!r}" for k, v in node.changes.items()))
    if node.failure and node.status != "done":
        extra.append(node.failure[:80])
    if node.replicas:
        m = node.replicas["metrics"].get(primary)
        if m and isinstance(m.get("mean"), (int, float)):
            se = m.get("se")
            extra.append(f"{node.replicas['num_seeds']} seeds: {m['mean']:.4g} ± "
                         f"{se:.2g}" if isinstance(se, (int, float)) else f"{m['mean']:.4g}")
    star = " *" if top is not None and node.id == top.id else ""
    name = prefix + parts[0]
    return f"{name:<22} {parts[1]:<14} {parts[2]:<9} {parts[3]:<22}{star}" + (f"  ({'; '.join(extra)})" if extra else "")
