"""The search a real model gets: The AI Scientist v2's shape, sized to the template.

AIS2 runs 3 drafts per idea, debugs up to depth 3, grows each idea's tree to 12-20 nodes,
replicates the best node over seeds, and reviews the paper 5 times with reflection before an
area chair decides. `aisci init --llm MODEL` writes these numbers into aisci.toml (with a
comment that says so); the offline engine keeps the small defaults of aisci.config, since
its parameter moves run out long before 20 nodes."""

from __future__ import annotations

from aisci.config import StudyConfig

DRAFTS = 3
DEBUG_DEPTH = 3
SEEDS = 3
REVIEWS = 5
REVIEW_REFLECTIONS = 5  # The AI Scientist's reviewer reflects 5 times (AIS2's 6/7/6 paper: the same reviewer)


def nodes_per_idea(time_budget_s: int) -> int:
    """20 nodes for a template that runs in a minute or two, down to 12 for a slow one: an
    idea's tree then costs about the same wall time whatever the template."""
    if time_budget_s <= 120:
        return 20
    if time_budget_s <= 600:
        return 16
    return 12


def apply_model_defaults(config: StudyConfig, time_budget_s: int) -> str:
    """Set the AIS2-shaped search and review; return the comment aisci.toml carries."""
    nodes = nodes_per_idea(time_budget_s)
    search = config.search
    search.num_drafts, search.max_debug_depth, search.max_nodes, search.num_seeds = DRAFTS, DEBUG_DEPTH, nodes, SEEDS
    # run time per idea: every node at twice the template's budget, the replicas included
    search.time_budget_s = float(max(search.time_budget_s, 2 * time_budget_s * (nodes + SEEDS)))
    config.review.num_reviews, config.review.num_reflections = REVIEWS, REVIEW_REFLECTIONS
    return (f"[search] and [review] follow The AI Scientist v2's shape for a real model: {DRAFTS} drafts, debug depth "
            f"{DEBUG_DEPTH}, {nodes} nodes per idea (the template runs in {time_budget_s} s), {SEEDS} seed replicas of "
            f"the best node, {REVIEWS} reviews with {REVIEW_REFLECTIONS} reflections each and the area chair's "
            f"meta-review. Lower them for a quick, cheap trial; [budget] max_usd / max_tokens stop a run cleanly.")
