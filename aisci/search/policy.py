"""Which nodes an idea's tree grows next. A pure function of the tree on disk and the
[search] settings, so a resumed search makes the same choices (the debug-or-improve draw
is seeded by the study's seed, the idea and the tree's size, never by process history).

Plain mode (AIDE-like): `num_drafts` drafts; then, each round, debug a failed leaf (with
probability `debug_probability`, at most `max_debug_depth` debug nodes in a row) or improve
the best working node. Staged mode (The AI Scientist v2): implementation (drafts and their
debugging) -> tuning (hyperparameter nodes) -> research (improvements) -> ablations, each
stage starting from the best node so far. Either way at most `max_nodes` nodes per idea
and no new node past `time_budget_s` of node run time; then `num_seeds` replicas of the
best node. A node a person made (`human`) always gets one follow-up: an improvement when
it ran, a debug node when it failed; those do not count against the budgets."""

from __future__ import annotations

import random
from dataclasses import dataclass

from aisci.config import SearchSection
from aisci.fsutil import sha256_of
from aisci.search.node import IdeaTree, Node, best_node

STAGES = ("implementation", "tuning", "research", "ablation")
STAGE_KIND = {"tuning": "hyperparameter", "research": "improve", "ablation": "ablation"}


@dataclass(frozen=True)
class Step:
    kind: str
    parent: str | None  # None: from the template's baseline (a draft)
    stage: str | None = None
    follows_human: bool = False
    seed: int | None = None


@dataclass(frozen=True)
class Goal:
    primary: str
    direction: str
    seeds: tuple[int, ...] = ()  # the manifest's seeds; empty when the template has no seed parameter


def next_steps(tree: IdeaTree, search: SearchSection, goal: Goal, exhausted: set[str]) -> list[Step]:
    """The nodes to make in the next round (independent of each other, so they may run
    in parallel); empty when the idea's search is over. `exhausted` holds moves found
    impossible this run ("draft", "improve:<node id>", ...)."""
    if any(n.status == "running" for n in tree.nodes):
        return []
    steps = _follow_ups(tree, search, exhausted)
    searched = searched_nodes(tree)
    room = search.max_nodes - len(searched)
    if room > 0 and time_used(tree) < search.time_budget_s:
        plan = _staged if search.staged else _plain
        steps += plan(tree, searched, search, goal, exhausted, room)
    if not steps:
        steps = _replicas(tree, search, goal)
    return steps


def searched_nodes(tree: IdeaTree) -> list[Node]:
    """Nodes the search made (what max_nodes and the time budget count)."""
    return [n for n in tree.nodes if n.kind not in ("human", "replica") and not n.follows_human]


def time_used(tree: IdeaTree) -> float:
    return sum(n.duration_s or 0.0 for n in searched_nodes(tree))


def best(tree: IdeaTree, goal: Goal) -> Node | None:
    return best_node(tree.nodes, goal.primary, goal.direction)


def _draw(search: SearchSection, tree: IdeaTree) -> float:
    return random.Random(sha256_of([search.seed, tree.idea, len(tree.nodes)])).random()


def _debuggable(tree: IdeaTree, nodes: list[Node], search: SearchSection, exhausted: set[str]) -> list[Node]:
    return [n for n in nodes if n.failed and not tree.children(n.id)
            and tree.debug_chain(n) < search.max_debug_depth and f"debug:{n.id}" not in exhausted]


def _follow_ups(tree: IdeaTree, search: SearchSection, exhausted: set[str]) -> list[Step]:
    steps = []
    for node in tree.nodes:
        if not (node.kind == "human" or node.follows_human) or not node.finished or tree.children(node.id):
            continue
        if node.kind == "human" and node.status == "done" and f"improve:{node.id}" not in exhausted:
            steps.append(Step("improve", node.id, node.stage, follows_human=True))
        elif _debuggable(tree, [node], search, exhausted):
            steps.append(Step("debug", node.id, node.stage, follows_human=True))
    return steps


def _plain(tree, searched, search, goal, exhausted, room) -> list[Step]:
    drafts = [n for n in searched if n.kind == "draft"]
    if len(drafts) < search.num_drafts and "draft" not in exhausted:
        return [Step("draft", None)] * min(search.num_drafts - len(drafts), room)
    return _debug_or(tree, searched, search, goal, exhausted, "improve", None)


def _debug_or(tree, nodes, search, goal, exhausted, kind, stage) -> list[Step]:
    """Debug a failed leaf (always when nothing works yet, else with the configured
    probability), or make a `kind` node from the best node."""
    debuggable = _debuggable(tree, nodes, search, exhausted)
    top = best(tree, goal)
    if debuggable and search.debug_probability > 0 and (top is None or _draw(search, tree) < search.debug_probability):
        return [Step("debug", debuggable[-1].id, stage)]
    if top is not None and f"{kind}:{top.id}" not in exhausted:
        return [Step(kind, top.id, stage)]
    return []


def _staged(tree, searched, search, goal, exhausted, room) -> list[Step]:
    in_stage = {s: [n for n in searched if n.stage == s] for s in STAGES}
    drafts = [n for n in in_stage["implementation"] if n.kind == "draft"]
    if len(drafts) < search.num_drafts and "draft" not in exhausted:
        return [Step("draft", None, "implementation")] * min(search.num_drafts - len(drafts), room)
    if best(tree, goal) is None:  # nothing works yet: the implementation stage goes on, by debugging
        return _debug_or(tree, in_stage["implementation"], search, goal, exhausted, "debug", "implementation")
    for stage in ("tuning", "research"):
        kind = STAGE_KIND[stage]
        made = [n for n in in_stage[stage] if n.kind == kind]
        top = best(tree, goal)
        if len(made) >= search.nodes_per_stage or f"{kind}:{top.id}" in exhausted:
            continue
        return _debug_or(tree, in_stage[stage], search, goal, exhausted, kind, stage)
    top = best(tree, goal)
    made = [n for n in in_stage["ablation"] if n.kind == "ablation"]
    if len(made) < search.nodes_per_stage and f"ablation:{top.id}" not in exhausted:
        return [Step("ablation", top.id, "ablation")] * min(search.nodes_per_stage - len(made), room)
    return []


def _replicas(tree: IdeaTree, search: SearchSection, goal: Goal) -> list[Step]:
    top = best(tree, goal)
    if search.num_seeds < 2 or top is None or not goal.seeds:
        return []
    done = {n.seed for n in tree.children(top.id) if n.kind == "replica"}
    return [Step("replica", top.id, top.stage, seed=s) for s in goal.seeds[: search.num_seeds] if s not in done]
