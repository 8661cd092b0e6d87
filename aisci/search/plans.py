"""The LLM tasks that write a node, one per kind, and their offline-engine counterparts.

A plan changes the parent's notebook in two ways: `parameters` (declared parameters, set in
the parameters cell) and `cells` (code and markdown cells inserted, replaced or deleted,
anchored to their nbformat cell ids: see aisci.search.cellplan). The offline engine only
moves parameters, within the declared choices, and says so (its debug reverts cells); it
raises `NothingToTry` when its move set is used up."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aisci.llm.tasks import Task
from aisci.search import space as moves
from aisci.search.cellplan import CellChange, anchor_problems


class NothingToTry(Exception):
    """The offline engine has no untried move of this kind from this node."""


class NodePlan(BaseModel):
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="declared parameters to set; omitted ones keep the parent's value")
    cells: list[CellChange] = Field(
        default_factory=list, description="cells to insert, replace or delete, anchored to the parent's cell ids; "
                                          "set parameters through `parameters`")
    rationale: str = Field(description="two or three sentences: what changes and why")


class AblationPlan(NodePlan):
    ablation: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$", description="snake_case name of what is taken out")


OFFLINE_NOTE = "The offline engine (deterministic, model-free) "


def _changed(parameters: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in parameters.items())


def _fixed(inputs: dict[str, Any]) -> list[str]:
    """Parameters the offline engine's tuning moves leave alone: the seed, the study's
    overrides, and the idea's own settings (what the study tests)."""
    return [*inputs["frozen"], *inputs["idea"]["parameters"]]


def _offline_draft(inputs: dict[str, Any]) -> NodePlan:
    idea, parent = inputs["idea"], inputs["parent"]
    setting = {**parent["parameters"], **idea["parameters"]}
    tried = {moves.setting_key(t) for t in inputs["tried"]}
    if moves.setting_key(setting) not in tried:
        return NodePlan(parameters=dict(idea["parameters"]), rationale=(
            OFFLINE_NOTE + f"sets exactly what the idea names ({_changed(idea['parameters']) or 'nothing'}) and keeps "
            "every other parameter at the baseline's value, so the run differs from the baseline in those factors."))
    move = moves.first_untried(moves.neighbour_moves(inputs["parameter_space"], setting, _fixed(inputs)),
                               setting, inputs["tried"])
    if move is None:
        raise NothingToTry("every neighbouring setting of the idea was tried")
    name, value = move
    return NodePlan(parameters={**idea["parameters"], name: value}, rationale=(
        OFFLINE_NOTE + f"drafts the idea ({_changed(idea['parameters'])}) with {name} = {value!r}, the next "
        f"untried neighbouring value (was {setting[name]!r}): the idea's own setting already ran in this study, "
        f"and no setting runs twice."))


def _offline_improve(inputs: dict[str, Any]) -> NodePlan:
    parent, space = inputs["parent"], inputs["parameter_space"]
    current = parent["parameters"]
    primary = inputs["template"]["primary_metric"]
    value_now = parent["metrics"].get(primary)
    shown = f"{value_now:.4g}" if isinstance(value_now, (int, float)) else "not recorded"
    further = moves.first_untried(moves.extension_moves(space, current, inputs["idea"]["parameters"], inputs["frozen"]),
                                  current, inputs["tried"])
    if further is not None:
        name, value = further
        default = space[name]["default"]
        how = ("one declared value further, to see whether more of the change helps more"
               if abs(value - default) > abs(current[name] - default) else
               "to a declared value between the idea's and the baseline's, to see how the effect grows with the change")
        return NodePlan(parameters={name: value}, rationale=(
            OFFLINE_NOTE + f"varies the idea's own change from {parent['id']} ({primary} = {shown}): {name} goes from "
            f"{current[name]!r} to {value!r} (the baseline has {default!r}), {how}. Nothing else changes."))
    move = moves.first_untried(moves.neighbour_moves(space, current, _fixed(inputs)), current, inputs["tried"])
    if move is None:
        raise NothingToTry(f"no untried neighbouring setting around {parent['id']}")
    name, value = move
    return NodePlan(parameters={name: value}, rationale=(
        OFFLINE_NOTE + f"takes one step of a coordinate search around {parent['id']} ({primary} = {shown}): {name} "
        f"goes from {current[name]!r} to the neighbouring declared value {value!r}. The idea's own settings stay as "
        f"they are, and no compute setting goes past the template's default."))


def _offline_hyperparameter(inputs: dict[str, Any]) -> NodePlan:
    parent = inputs["parent"]
    move = moves.first_untried(moves.choice_moves(inputs["parameter_space"], parent["parameters"], _fixed(inputs)),
                               parent["parameters"], inputs["tried"])
    if move is None:
        raise NothingToTry(f"every declared choice around {parent['id']} was tried")
    name, value = move
    return NodePlan(parameters={name: value}, rationale=(
        OFFLINE_NOTE + f"tunes one hyperparameter of {parent['id']}: {name} = {value!r} (was "
        f"{parent['parameters'][name]!r}), the next declared choice not yet tried on this idea; the idea's own "
        f"settings stay as they are."))


def _offline_ablation(inputs: dict[str, Any]) -> AblationPlan:
    parent = inputs["parent"]
    for name, parameter, default in moves.ablations(inputs["parameter_space"], parent["parameters"],
                                                   inputs["idea"]["parameters"]):
        if name not in inputs["tried_ablations"]:
            return AblationPlan(ablation=name, parameters={parameter: default}, rationale=(
                OFFLINE_NOTE + f"takes one of the idea's changes back: {parameter} returns to the baseline's "
                f"{default!r} (the best node {parent['id']} uses {parent['parameters'][parameter]!r}), all else "
                f"unchanged, to show what that change contributes."))
    raise NothingToTry(f"every change of the idea was ablated from {parent['id']}")


def _offline_debug(inputs: dict[str, Any]) -> NodePlan:
    """The offline engine cannot read a traceback: it goes back to what worked before the
    failed node (its parent's settings and code), and says so."""
    failed, before = inputs["parent"], inputs["before_failure"]
    changed_params = {k: v for k, v in before["parameters"].items() if failed["parameters"].get(k) != v}
    edits = _revert_cells(before["cells"], failed["cells"])
    if not changed_params and not edits:
        raise NothingToTry(f"{failed['id']} runs the same settings and code as {before['id']}: nothing to revert")
    what = ", ".join(filter(None, [_changed(changed_params), f"cells {', '.join(e.cell_id for e in edits)}"
                                   if edits else ""]))
    return NodePlan(parameters=changed_params, cells=edits, rationale=(
        OFFLINE_NOTE + f"cannot read the error of {failed['id']} ({failed['failure']}); it reverts to the settings "
        f"and code of {before['id']}, which ran, so the branch can go on ({what})."))


def _revert_cells(before: list[dict], failed: list[dict]) -> list[CellChange]:
    """Cell changes that take the failed notebook back to `before` (the parameters cell aside):
    changed cells get their old source, added cells go, removed cells come back after the
    cell that preceded them."""
    old = {c["id"]: c for c in before}
    now_ids = [c["id"] for c in failed]
    edits = [CellChange(action="replace", cell_id=c["id"], cell_type=old[c["id"]]["type"],
                        source=old[c["id"]]["source"])
             for c in failed if c["id"] in old and not c["parameters_cell"] and c["source"] != old[c["id"]]["source"]]
    edits += [CellChange(action="delete", cell_id=c["id"]) for c in failed if c["id"] not in old]
    for i, cell in enumerate(before):
        if cell["id"] not in now_ids:
            anchor = next((b["id"] for b in reversed(before[:i]) if b["id"] in now_ids), None)
            if anchor is not None:
                edits.append(CellChange(action="insert_after", cell_id=anchor, cell_type=cell["type"],
                                        source=cell["source"]))
    return edits


WRITE_NODE = Task("experiments.write_node", "experiments", NodePlan, _offline_draft, temperature=0.3, max_tokens=6000)
IMPROVE = Task("experiments.improve", "experiments", NodePlan, _offline_improve, temperature=0.3, max_tokens=6000)
DEBUG = Task("experiments.debug", "experiments", NodePlan, _offline_debug, temperature=0.2, max_tokens=6000)
HYPERPARAMETER = Task("experiments.hyperparameter", "experiments", NodePlan, _offline_hyperparameter,
                      temperature=0.3, max_tokens=2000)
ABLATION = Task("experiments.ablation", "experiments", AblationPlan, _offline_ablation, temperature=0.2,
                max_tokens=6000)
TASKS = {"draft": WRITE_NODE, "improve": IMPROVE, "debug": DEBUG, "hyperparameter": HYPERPARAMETER,
         "ablation": ABLATION}


def plan_problems(kind: str, plan: NodePlan, parameter_space: dict, parent_nb,
                  tried_ablations: list[str]) -> list[str]:
    """What is wrong with a plan before anything is written (sent back to the model)."""
    from aisci.manifest import Parameter

    problems = []
    for name, value in plan.parameters.items():
        spec = parameter_space.get(name)
        if spec is None:
            problems.append(f"parameters.{name}: not a declared parameter (declared: {', '.join(parameter_space)})")
            continue
        try:
            Parameter.model_validate(spec).coerce(value)
        except (TypeError, ValueError):
            problems.append(f"parameters.{name}: {value!r} is not of type {spec['type']}")
    problems += anchor_problems(parent_nb, plan.cells)
    if kind == "hyperparameter" and plan.cells:
        problems.append("cells: a hyperparameter node changes parameters only; leave `cells` empty")
    if kind == "ablation" and getattr(plan, "ablation", None) in tried_ablations:
        problems.append(f"ablation: {plan.ablation!r} was already run; take out something else "
                        f"(done: {', '.join(tried_ablations)})")
    return problems
