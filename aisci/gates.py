"""Gates: where a person decides. Each gate has a policy in aisci.toml — `auto` (top-k by
score, or the person's own order once they reorder) or `stop` (the run stops until a decision
is recorded in decisions.jsonl).

Every decision is one line of decisions.jsonl: `{at, gate, action, items, ...}` plus, from
the review panels, `before`/`after`. This module is the one place that reads them back, so
the panels, `aisci approve`, `aisci status` and the phases agree on what a decision means:

| gate        | actions                              | read by                                   |
|-------------|--------------------------------------|-------------------------------------------|
| ideas       | approve, reject, reorder, edit       | selection, apply_idea_edits, ordered      |
| novelty     | approve (override), reject           | phases.novelty                            |
| experiments | approve (best node), rerun, branch   | approved_best_node, rerun_requests        |
| figures     | keep, drop, caption                  | figure_choices                            |
| paper       | edit, regenerate, lock, unlock,      | locked_sections, accepted_problems        |
|             | accept, unaccept (a problem id)      |                                           |
| review      | approve accept|reject                | final_decision                            |

For an item, the latest approve/reject (keep/drop, lock/unlock) naming it wins, so a
decision can be taken back by the opposite one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aisci.errors import GateStop

if TYPE_CHECKING:  # annotations only
    from aisci.search.node import Node

GATE_HELP = {
    "ideas": "open notebooks/01_ideation.ipynb (the ideas panel), or run `aisci approve {study} ideas 1 2` "
             "(ranks or names)",
    "novelty": "open notebooks/02_novelty.ipynb, or run `aisci approve {study} novelty NAME` to override a decision",
    "experiments": "open notebooks/03_experiments.ipynb (the node tree), or run `aisci approve {study} experiments NODE`",
    "review": "open notebooks/06_review.ipynb, or run `aisci approve {study} review accept|reject`",
}
# gates that only record choices (no run ever stops there, so no policy in aisci.toml)
CHOICE_GATES = {
    "figures": "open notebooks/04_analysis.ipynb, or run `aisci approve|reject {study} figures NAME` (keep / drop)",
    "paper": "open notebooks/05_writeup.ipynb, or run `aisci approve|reject {study} paper SECTION` (lock / unlock), "
             "`aisci approve {study} paper PROBLEM-ID --note REASON` (accept an open problem of the checks)",
}
ALL_GATES = (*GATE_HELP, *CHOICE_GATES)
IDEA_EDITABLE_FIELDS = ("title", "hypothesis", "abstract", "parameters")


# --- the functions the phases have always used --------------------------------------------
def human_choice(study, gate: str) -> list[str] | None:
    """The items a person approved at this gate (latest approval wins), in the person's
    order when they reordered; None when nobody approved anything yet."""
    approvals = [d for d in study.decisions(gate) if d["action"] == "approve"]
    if not approvals:
        return None
    return ordered(study, gate, list(approvals[-1]["items"]))


def rejected(study, gate: str) -> set[str]:
    """Items whose latest approve/reject is a reject."""
    return {item for item, verdict in item_verdicts(study, gate).items() if verdict == "reject"}


def selection(study, gate: str, candidates: list[str], scores: list[float], k: int) -> list[str]:
    """Which candidates pass the gate: a person's approval if recorded, else the policy."""
    chosen = human_choice(study, gate)
    excluded = rejected(study, gate)
    if chosen is not None:
        return [c for c in chosen if c in candidates and c not in excluded]
    if getattr(study.config.gates, gate) == "stop":
        raise stop(study, gate, candidates)
    return auto_selection(study, gate, candidates, scores, k)


def auto_selection(study, gate: str, candidates: list[str], scores: list[float], k: int) -> list[str]:
    """The `auto` policy: the top k by score — or by the person's order if they reordered —
    leaving out what they rejected."""
    by_score = sorted(candidates, key=lambda c: -scores[candidates.index(c)])
    return [c for c in ordered(study, gate, by_score) if c not in rejected(study, gate)][:k]


def stop(study, gate: str, items: Iterable[str] = ()) -> GateStop:
    """The error a run stops with at a `stop` gate: which gate, what waits, and how to decide."""
    return GateStop(gate, items, how=GATE_HELP[gate].format(study=study.root))


def waiting(study) -> list[str]:
    """Gates with policy `stop` that have no verdict yet (for `aisci status`)."""
    return [gate for gate in GATE_HELP if getattr(study.config.gates, gate) == "stop" and not decided(study, gate)]


def decisions_digest(study, gate: str) -> list[dict]:
    """The decisions of a gate, as an input of the phase after it (a new decision reruns it)."""
    return [{k: v for k, v in d.items() if k != "at"} for d in study.decisions(gate)]


# --- verdicts and order ------------------------------------------------------------------------
VERDICT_PAIRS = {"approve": "approve", "reject": "reject", "keep": "approve", "drop": "reject",
                 "lock": "approve", "unlock": "reject"}


def item_verdicts(study, gate: str) -> dict[str, str]:
    """item -> 'approve' | 'reject', the latest verdict naming it (keep/lock count as
    approve, drop/unlock as reject)."""
    verdicts: dict[str, str] = {}
    for decision in study.decisions(gate):
        verdict = VERDICT_PAIRS.get(decision["action"])
        if verdict:
            for item in decision.get("items", []):
                verdicts[item] = verdict
    return verdicts


def decided(study, gate: str) -> bool:
    """Whether a person has given any verdict at this gate (a reorder or an edit is not one)."""
    return any(d["action"] in VERDICT_PAIRS for d in study.decisions(gate))


def ordered(study, gate: str, items: list[str]) -> list[str]:
    """Items in the order of the latest `reorder` decision; items it does not name keep
    their relative order after those it does."""
    reorders = [d for d in study.decisions(gate) if d["action"] == "reorder"]
    if not reorders:
        return list(items)
    position = {name: index for index, name in enumerate(reorders[-1]["after"])}
    return sorted(items, key=lambda item: (position.get(item, len(position)), items.index(item)))


# --- ideas: edits ------------------------------------------------------------------------------
def idea_edits(study) -> dict[str, dict[str, Any]]:
    """idea name -> {field: latest edited value} from the ideas panel's `edit` decisions."""
    edits: dict[str, dict[str, Any]] = {}
    for decision in study.decisions("ideas"):
        if decision["action"] == "edit":
            for name in decision.get("items", []):
                edits.setdefault(name, {}).update(
                    {k: v for k, v in decision.get("after", {}).items() if k in IDEA_EDITABLE_FIELDS})
    return edits


def apply_idea_edits(study, ideas: list) -> list:
    """The ideas as a person edited them (pydantic Idea models; copies, the input is kept)."""
    edits = idea_edits(study)
    return [idea.model_copy(update=edits[idea.name]) if idea.name in edits else idea for idea in ideas]


# --- experiments -------------------------------------------------------------------------------
def approved_best_node(study, node_ids: Iterable[str]) -> str | None:
    """The node a person approved as best (latest approval naming an existing node, not
    rejected since), or None: then the best node is chosen by the primary metric."""
    existing = set(node_ids)
    verdicts = item_verdicts(study, "experiments")
    for decision in reversed(study.decisions("experiments")):
        if decision["action"] == "approve":
            for item in reversed(decision.get("items", [])):
                if item in existing and verdicts.get(item) == "approve":
                    return item
    return None


def rerun_requests(study, nodes: Iterable[Node]) -> list[str]:
    """Ids of nodes a person asked to rerun after the node last finished."""
    requested: dict[str, str] = {}
    for decision in study.decisions("experiments"):
        if decision["action"] == "rerun":
            for item in decision.get("items", []):
                requested[item] = decision["at"]
    return [node.id for node in nodes if node.id in requested and requested[node.id] >= (node.finished_at or "")]


# --- figures and paper -------------------------------------------------------------------------
def figure_choices(study, figures: list[dict]) -> list[dict]:
    """The analysis figures a person kept (all, unless dropped), with their edited captions."""
    verdicts = item_verdicts(study, "figures")
    captions = figure_captions(study)
    return [{**fig, "caption": captions.get(fig["name"], fig["caption"])} for fig in figures
            if verdicts.get(fig["name"]) != "reject"]


def figure_captions(study) -> dict[str, str]:
    """figure name -> the caption a person wrote last."""
    return {name: d["after"] for d in study.decisions("figures") if d["action"] == "caption"
            for name in d.get("items", [])}


def locked_sections(study) -> set[str]:
    """Paper sections a person locked: the writeup keeps them as they are on disk."""
    return {name for name, verdict in item_verdicts(study, "paper").items() if verdict == "approve"}


# --- review ------------------------------------------------------------------------------------
def accepted_problems(study) -> dict[str, str]:
    """Problem id -> the reason a person gave for accepting that open problem of the paper's
    checks (so the final paper.pdf may be built with it); the latest accept/unaccept wins."""
    accepted: dict[str, str] = {}
    for decision in study.decisions("paper"):
        for item in decision.get("items", []):
            if decision["action"] == "accept":
                accepted[item] = decision.get("note") or ""
            elif decision["action"] == "unaccept":
                accepted.pop(item, None)
    return accepted


def final_decision(study) -> str | None:
    """'accept' or 'reject', the person's final decision on the paper, or None."""
    for decision in reversed(study.decisions("review")):
        if decision["action"] == "approve":
            for item in decision.get("items", []):
                if item in ("accept", "reject"):
                    return item
    return None


def gate_help(gate: str, study) -> str:
    return {**GATE_HELP, **CHOICE_GATES}[gate].format(study=study)
