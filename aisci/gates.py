"""Gates: where a person decides. Each gate has a policy in aisci.toml — `auto` (e.g. top-k
by score) or `stop` (the run stops until a decision is recorded in decisions.jsonl)."""

from __future__ import annotations

from aisci.errors import GateStop

GATE_HELP = {
    "ideas": "open ideas/ideation.ipynb, or run `aisci approve {study} ideas 1 2` (ranks or names)",
    "novelty": "open ideas/novelty.ipynb, or run `aisci approve {study} novelty NAME` to override a decision",
    "experiments": "open the experiment notebooks, or run `aisci approve {study} experiments NODE`",
    "review": "open reviews/review.ipynb, or run `aisci approve {study} review accept|reject`",
}


def human_choice(study, gate: str) -> list[str] | None:
    """The items a person approved at this gate (latest approval wins), or None."""
    approvals = [d for d in study.decisions(gate) if d["action"] == "approve"]
    return list(approvals[-1]["items"]) if approvals else None


def rejected(study, gate: str) -> set[str]:
    return {item for d in study.decisions(gate) if d["action"] == "reject" for item in d["items"]}


def selection(study, gate: str, candidates: list[str], scores: list[float], k: int) -> list[str]:
    """Which candidates pass the gate: a person's approval if recorded, else the policy."""
    chosen = human_choice(study, gate)
    excluded = rejected(study, gate)
    if chosen is not None:
        return [c for c in chosen if c in candidates and c not in excluded]
    if getattr(study.config.gates, gate) == "stop":
        raise GateStop(f"the {gate} gate waits for a decision: " + GATE_HELP[gate].format(study=study.root))
    ranked = sorted((c for c in candidates if c not in excluded), key=lambda c: -scores[candidates.index(c)])
    return ranked[:k]


def waiting(study) -> list[str]:
    """Gates with policy `stop` that have no decision yet (for `aisci status`)."""
    return [gate for gate in GATE_HELP if getattr(study.config.gates, gate) == "stop" and not study.decisions(gate)]


def decisions_digest(study, gate: str) -> list[dict]:
    """The decisions of a gate, as an input of the phase after it (a new decision reruns it)."""
    return [{k: v for k, v in d.items() if k != "at"} for d in study.decisions(gate)]
