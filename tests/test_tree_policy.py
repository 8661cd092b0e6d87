"""The search policy and the offline engine's moves, on trees built in memory: no notebook
runs here, so every rule is checked in milliseconds."""

from __future__ import annotations

import pytest

from aisci.config import SearchSection
from aisci.search import space
from aisci.search.node import IdeaTree, Node, best_node
from aisci.search.plans import (
    NothingToTry,
    _offline_ablation,
    _offline_debug,
    _offline_draft,
    _offline_hyperparameter,
    _offline_improve,
)
from aisci.search.policy import Goal, Step, next_steps

GOAL = Goal("loss", "minimize", (0, 1, 2))
SPACE = {
    "lr": {"type": "float", "default": 0.1, "choices": [0.003, 0.01, 0.1, 0.3], "description": ""},
    "steps": {"type": "int", "default": 20, "choices": [10, 20, 40], "description": ""},
    "act": {"type": "str", "default": "relu", "choices": ["relu", "gelu", "tanh"], "description": ""},
    "seed": {"type": "int", "default": 0, "choices": [0, 1, 2], "description": ""},
    "task": {"type": "str", "default": "add", "choices": ["add", "mul"], "description": "", "tunable": False},
}
DEFAULTS = {"lr": 0.1, "steps": 20, "act": "relu", "seed": 0, "task": "add"}


def tree_of(tmp_path, *nodes: Node) -> IdeaTree:
    return IdeaTree(tmp_path, "idea", list(nodes))


def node(n: int, kind: str, parent: str | None = "baseline/node-0", status: str = "done", loss: float | None = 1.0,
         **extra) -> Node:
    metrics = {"loss": loss} if loss is not None else {}
    return Node(id=f"idea/node-{n}", idea="idea", kind=kind, parent=parent, status=status, metrics=metrics,
                duration_s=extra.pop("duration_s", 1.0), **extra)


def search(**values) -> SearchSection:
    return SearchSection(**values)


# --- best node ---------------------------------------------------------------------------------
def test_best_node_follows_the_declared_direction():
    nodes = [node(0, "draft", loss=0.5), node(1, "improve", loss=0.2), node(2, "improve", loss=0.9)]
    assert best_node(nodes, "loss", "minimize").id == "idea/node-1"
    assert best_node(nodes, "loss", "maximize").id == "idea/node-2"


def test_best_node_ignores_failures_ablations_replicas_and_missing_values():
    nodes = [node(0, "draft", loss=0.5), node(1, "improve", status="failed", loss=0.1),
             node(2, "ablation", loss=0.01), node(3, "replica", loss=0.01), node(4, "improve", loss=None),
             node(5, "improve", loss=float("nan"))]
    assert best_node(nodes, "loss", "minimize").id == "idea/node-0"


def test_a_tie_keeps_the_earlier_node():
    nodes = [node(0, "draft", loss=0.5), node(1, "improve", loss=0.5)]
    assert best_node(nodes, "loss", "minimize").id == "idea/node-0"


# --- plain mode --------------------------------------------------------------------------------
def test_drafts_come_first_all_in_one_round(tmp_path):
    steps = next_steps(tree_of(tmp_path), search(num_drafts=3, max_nodes=10), GOAL, set())
    assert steps == [Step("draft", None)] * 3


def test_drafts_are_capped_by_max_nodes(tmp_path):
    assert len(next_steps(tree_of(tmp_path), search(num_drafts=3, max_nodes=2), GOAL, set())) == 2


def test_then_the_best_working_node_is_improved(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5), node(1, "improve", "idea/node-0", loss=0.3))
    assert next_steps(tree, search(max_nodes=5), GOAL, set()) == [Step("improve", "idea/node-1")]


def test_a_failed_leaf_is_debugged_with_probability_one_and_never_with_zero(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5), node(1, "improve", "idea/node-0", status="failed", loss=None))
    assert next_steps(tree, search(max_nodes=5, debug_probability=1.0), GOAL, set()) == [Step("debug", "idea/node-1")]
    assert next_steps(tree, search(max_nodes=5, debug_probability=0.0), GOAL, set()) == [Step("improve", "idea/node-0")]


def test_the_debug_draw_is_deterministic_given_the_seed(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5), node(1, "improve", "idea/node-0", status="failed", loss=None))
    draws = {seed: next_steps(tree, search(max_nodes=5, debug_probability=0.5, seed=seed), GOAL, set())[0].kind
             for seed in range(20)}
    assert set(draws.values()) == {"debug", "improve"}  # the seed matters ...
    again = {seed: next_steps(tree, search(max_nodes=5, debug_probability=0.5, seed=seed), GOAL, set())[0].kind
             for seed in range(20)}
    assert draws == again  # ... and the same seed draws the same


def test_debug_depth_is_bounded(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", status="failed", loss=None),
                   node(1, "debug", "idea/node-0", status="failed", loss=None),
                   node(2, "debug", "idea/node-1", status="failed", loss=None))
    assert next_steps(tree, search(max_nodes=9, max_debug_depth=3), GOAL, set()) == [Step("debug", "idea/node-2")]
    assert next_steps(tree, search(max_nodes=9, max_debug_depth=2), GOAL, set()) == []


def test_max_nodes_and_the_time_budget_end_the_search(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5, duration_s=30.0), node(1, "improve", "idea/node-0", loss=0.3))
    assert next_steps(tree, search(max_nodes=2), GOAL, set()) == []
    assert next_steps(tree, search(max_nodes=9, time_budget_s=30), GOAL, set()) == []
    assert next_steps(tree, search(max_nodes=9, time_budget_s=60), GOAL, set()) == [Step("improve", "idea/node-1")]


def test_an_exhausted_move_is_not_proposed_again(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5))
    assert next_steps(tree, search(max_nodes=5), GOAL, {"improve:idea/node-0"}) == []


def test_a_running_node_waits_for_its_run(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", status="running", loss=None))
    assert next_steps(tree, search(max_nodes=5), GOAL, set()) == []


def test_replicas_of_the_best_node_when_the_search_is_over(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5), node(1, "improve", "idea/node-0", loss=0.3))
    steps = next_steps(tree, search(max_nodes=2, num_seeds=2), GOAL, set())
    assert steps == [Step("replica", "idea/node-1", seed=0), Step("replica", "idea/node-1", seed=1)]
    tree.nodes += [node(2, "replica", "idea/node-1", seed=0), node(3, "replica", "idea/node-1", seed=1)]
    assert next_steps(tree, search(max_nodes=2, num_seeds=2), GOAL, set()) == []
    assert next_steps(tree, search(max_nodes=2, num_seeds=2), Goal("loss", "minimize", ()), set()) == []


# --- human nodes ---------------------------------------------------------------------------------
def test_a_human_node_gets_an_improvement_even_when_the_budget_is_spent(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5), node(1, "improve", "idea/node-0", loss=0.3),
                   node(2, "human", "idea/node-0", loss=0.9, edited_from="idea/node-0"))
    assert next_steps(tree, search(max_nodes=2), GOAL, set()) == [Step("improve", "idea/node-2", follows_human=True)]
    tree.nodes.append(node(3, "improve", "idea/node-2", loss=0.8, follows_human=True))
    assert next_steps(tree, search(max_nodes=2), GOAL, set()) == []


def test_a_failed_human_node_gets_a_debug_node(tmp_path):
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5), node(1, "human", "idea/node-0", status="failed", loss=None))
    assert next_steps(tree, search(max_nodes=1), GOAL, set()) == [Step("debug", "idea/node-1", follows_human=True)]


# --- staged mode ---------------------------------------------------------------------------------
def test_staged_mode_walks_the_four_stages_from_the_best_node(tmp_path):
    settings = search(staged=True, max_nodes=20, nodes_per_stage=1)
    tree = tree_of(tmp_path)
    assert next_steps(tree, settings, GOAL, set()) == [Step("draft", None, "implementation")]
    tree.nodes.append(node(0, "draft", loss=0.5, stage="implementation"))
    assert next_steps(tree, settings, GOAL, set()) == [Step("hyperparameter", "idea/node-0", "tuning")]
    tree.nodes.append(node(1, "hyperparameter", "idea/node-0", loss=0.4, stage="tuning"))
    assert next_steps(tree, settings, GOAL, set()) == [Step("improve", "idea/node-1", "research")]
    tree.nodes.append(node(2, "improve", "idea/node-1", loss=0.45, stage="research"))
    assert next_steps(tree, settings, GOAL, set()) == [Step("ablation", "idea/node-1", "ablation")]
    tree.nodes.append(node(3, "ablation", "idea/node-1", loss=0.6, stage="ablation", ablation="without_lr"))
    assert next_steps(tree, settings, GOAL, set()) == []


def test_staged_mode_debugs_until_something_works(tmp_path):
    settings = search(staged=True, max_nodes=20)
    tree = tree_of(tmp_path, node(0, "draft", status="failed", loss=None, stage="implementation"))
    assert next_steps(tree, settings, GOAL, set()) == [Step("debug", "idea/node-0", "implementation")]


def test_staged_mode_skips_an_exhausted_stage(tmp_path):
    settings = search(staged=True, max_nodes=20, nodes_per_stage=1)
    tree = tree_of(tmp_path, node(0, "draft", loss=0.5, stage="implementation"))
    assert next_steps(tree, settings, GOAL, {"hyperparameter:idea/node-0"}) == [Step("improve", "idea/node-0", "research")]


# --- the offline engine's moves ------------------------------------------------------------------
def inputs(parent_params: dict, idea: dict | None = None, **extra) -> dict:
    return {"parameter_space": SPACE, "idea": {"name": "idea", "title": "t", "hypothesis": "h",
                                               "parameters": idea or {"lr": 0.3}},
            "parent": {"id": "idea/node-0", "kind": "draft", "parameters": parent_params, "metrics": {"loss": 0.5},
                       "cells": []},
            "template": {"primary_metric": "loss"}, "tried": [parent_params], "frozen": ["seed"], **extra}


def test_neighbour_moves_are_numeric_and_never_raise_a_compute_setting():
    moves = list(space.neighbour_moves(SPACE, DEFAULTS, frozen=["seed"]))
    assert moves == [("lr", 0.01), ("lr", 0.3), ("steps", 10)]  # steps 40 would cost more; act has no neighbour
    assert ("steps", 20) in space.neighbour_moves(SPACE, {**DEFAULTS, "steps": 10}, frozen=[])  # back up to the default


def test_a_parameter_that_defines_the_task_is_never_moved():
    assert all(name != "task" for name, _ in space.choice_moves(SPACE, DEFAULTS, frozen=[]))


def test_offline_draft_sets_the_idea_then_varies_it():
    first = _offline_draft(inputs(DEFAULTS, tried=[]))
    assert first.parameters == {"lr": 0.3} and "offline engine" in first.rationale
    second = _offline_draft(inputs(DEFAULTS, tried=[{**DEFAULTS, "lr": 0.3}]))
    assert second.parameters == {"lr": 0.3, "steps": 10}


def test_offline_improve_is_a_coordinate_step_to_an_untried_setting():
    parent = {**DEFAULTS, "lr": 0.3}  # the idea's lr = 0.3 is the largest declared value: it cannot go further
    plan = _offline_improve(inputs(parent))
    assert plan.parameters == {"steps": 10} and "coordinate search" in plan.rationale
    with pytest.raises(NothingToTry):  # act is a category (no neighbour); lr is the idea's; seed is frozen
        _offline_improve(inputs(parent, tried=[parent, {**parent, "steps": 10}]))


def test_offline_improve_first_takes_the_ideas_change_further():
    parent = {**DEFAULTS, "lr": 0.01}  # the idea lowers lr from 0.1 to 0.01: further is 0.003
    plan = _offline_improve(inputs(parent, idea={"lr": 0.01}))
    assert plan.parameters == {"lr": 0.003} and "further" in plan.rationale
    tried = [parent, {**parent, "lr": 0.003}]  # nothing declared between 0.01 and the default 0.1: another factor
    assert _offline_improve(inputs(parent, idea={"lr": 0.01}, tried=tried)).parameters == {"steps": 10}


def test_then_values_between_the_ideas_and_the_baselines():
    lr = {"type": "float", "default": 0.1, "choices": [0.001, 0.003, 0.01, 0.03], "description": ""}
    current = {**DEFAULTS, "lr": 0.003}
    moves = list(space.extension_moves({**SPACE, "lr": lr}, current, {"lr": 0.003}, frozen=[]))
    assert moves == [("lr", 0.001), ("lr", 0.01), ("lr", 0.03)]  # further, then nearest first


def test_offline_hyperparameter_takes_the_next_untried_choice():
    parent = {**DEFAULTS, "lr": 0.3, "act": "gelu"}
    tried = [parent, {**parent, "steps": 10}, {**parent, "act": "relu"}]
    assert _offline_hyperparameter(inputs(parent, tried=tried)).parameters == {"act": "tanh"}


def test_offline_ablation_reverts_each_change_of_the_idea_once():
    parent = {**DEFAULTS, "lr": 0.3}
    plan = _offline_ablation(inputs(parent, tried_ablations=[]))
    assert plan.ablation == "without_lr" and plan.parameters == {"lr": 0.1}
    with pytest.raises(NothingToTry):
        _offline_ablation(inputs(parent, tried_ablations=["without_lr"]))


def test_offline_debug_reverts_to_what_ran_before_and_says_so():
    failed = {"id": "idea/node-1", "parameters": {**DEFAULTS, "steps": 10}, "failure": "ValueError: x",
              "cells": [{"id": "p", "type": "code", "parameters_cell": True, "source": "a = 1"},
                        {"id": "fit", "type": "code", "parameters_cell": False, "source": "broken("},
                        {"id": "aisci-added", "type": "markdown", "parameters_cell": False, "source": "new"}]}
    before = {"id": "idea/node-0", "parameters": DEFAULTS,
              "cells": [{"id": "p", "type": "code", "parameters_cell": True, "source": "a = 2"},
                        {"id": "fit", "type": "code", "parameters_cell": False, "source": "fit()"},
                        {"id": "plot", "type": "code", "parameters_cell": False, "source": "plot()"}]}
    plan = _offline_debug({"parent": failed, "before_failure": before})
    assert plan.parameters == {"steps": 20}
    # changed cells get their old source, an added cell goes, a deleted one comes back in its place
    assert [(e.action, e.cell_id, e.source) for e in plan.cells] == [
        ("replace", "fit", "fit()"), ("delete", "aisci-added", ""), ("insert_after", "fit", "plot()")]
    assert "cannot read the error" in plan.rationale and "reverts" in plan.rationale
    with pytest.raises(NothingToTry):
        _offline_debug({"parent": {**failed, "parameters": DEFAULTS, "cells": before["cells"]},
                        "before_failure": before})
