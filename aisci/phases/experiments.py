"""Experiments: the baseline plus one node per idea that passed the gates. Each node is
`experiments/<idea>/<node>/experiment.ipynb` (executed by papermill in its own folder)
and `node.json` (parent, kind, status, metrics, timing, code hash).

A finished node is never re-executed unless its notebook's code changed: a person's edit
re-runs that notebook (and, through the phase digests, what lies downstream)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aisci.fsutil import atomic_write_json, read_json, sha256_of
from aisci.ideas import Idea
from aisci.llm.tasks import Task
from aisci.notebook import build
from aisci.phases import novelty
from aisci.records import read_records
from aisci.study import now_iso

OUTPUTS = ("experiments/summary.json",)
BASELINE = "baseline"


class NodePlan(BaseModel):
    parameters: dict[str, Any] = Field(default_factory=dict)
    rationale: str


def _offline_plan(inputs: dict[str, Any]) -> NodePlan:
    idea = inputs["idea"]
    return NodePlan(parameters=idea["parameters"], rationale=(
        "The offline engine sets exactly the parameters the idea names and keeps every other parameter at the "
        "baseline's value, so the run differs from the baseline in one factor."))


WRITE_NODE = Task("experiments.write_node", "experiments", NodePlan, _offline_plan, temperature=0.2, max_tokens=1500)


def inputs(ctx) -> Any:
    """Besides the upstream digest: the gates' decisions and the code of every node notebook
    on disk, so a person's edit to a notebook makes this phase run again."""
    hashes = {}
    for path in sorted(ctx.study.path("experiments").glob("*/*/experiment.ipynb")):
        try:
            hashes[ctx.study.relative(path)] = build.code_hash(path)
        except Exception:  # a notebook broken by hand: it will be rebuilt or reported
            hashes[ctx.study.relative(path)] = "unreadable"
    from aisci import gates
    return {"novelty_gate": gates.decisions_digest(ctx.study, "novelty"), "notebooks": hashes}


def run(ctx) -> list[str]:
    template = ctx.template
    defaults = {**template.defaults(), **ctx.config.experiments.overrides}
    nodes = [_run_node(ctx, BASELINE, None, defaults, None)]
    for idea in novelty.novel_ideas(ctx.study):
        nodes.append(_run_node(ctx, idea.name, idea, defaults, BASELINE))
    primary, metric = template.primary()
    done = [n for n in nodes if n["status"] == "done" and isinstance(n["metrics"].get(primary), (int, float))]
    best = None
    for node in done:
        if best is None or template.better(node["metrics"][primary], best["metrics"][primary]):
            best = node
    summary = {
        "primary_metric": primary, "direction": metric.direction, "best": best["id"] if best else None,
        "nodes": [{k: n[k] for k in ("id", "idea", "kind", "parent", "status", "metrics", "parameters",
                                      "code_hash", "notebook", "failure")} for n in nodes],
    }
    atomic_write_json(ctx.study.path("experiments", "summary.json"), summary)
    failed = [n["id"] for n in nodes if n["status"] != "done"]
    if failed:
        ctx.warn(f"experiment nodes that did not finish: {', '.join(failed)} (see their node.json)")
    return list(OUTPUTS)


def _run_node(ctx, idea_name: str, idea: Idea | None, defaults: dict, parent: str | None) -> dict:
    folder = ctx.study.path("experiments", idea_name, "node-0")
    notebook_path = folder / "experiment.ipynb"
    node_id = f"{idea_name}/node-0"
    nb, author, parameters = _plan_notebook(ctx, idea, defaults)
    plan_hash = build.code_hash(nb)
    node = read_json(folder / "node.json", default=None)
    if node and node.get("plan_hash") == plan_hash and notebook_path.exists():
        on_disk = build.code_hash(notebook_path)
        if node["status"] in ("done", "failed", "timed_out", "died") and on_disk == node["code_hash"]:
            return node  # finished (or failed for good): never re-executed
        if on_disk != node["code_hash"] and node["status"] != "running":
            ctx.say(f"{node_id}: the notebook was edited; re-executing it")
            return _execute_node(ctx, node, notebook_path, build.read(notebook_path), human_edited=True)
    node = {"id": node_id, "idea": idea_name, "kind": "baseline" if idea is None else "draft", "parent": parent,
            "author": author, "parameters": parameters, "plan_hash": plan_hash, "human_edited": False}
    return _execute_node(ctx, node, notebook_path, nb, human_edited=False)


def _plan_notebook(ctx, idea: Idea | None, defaults: dict):
    template = ctx.template
    nb = build.clear_outputs(template.baseline())
    author = f"template:{template.name}"
    for cell in nb.cells:
        cell.metadata.setdefault("aisci", {}).setdefault("author", author)
    parameters = dict(defaults)
    if idea is None:
        header = (f"# Baseline: {template.manifest.title}\n\n> The template's baseline, unchanged "
                  f"(parameters at their defaults{', with the study overrides' if ctx.config.experiments.overrides else ''}).")
    else:
        params_cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        result = ctx.llm.run(WRITE_NODE, template_description=template.manifest.description,
                             parameters={k: p.model_dump() for k, p in template.manifest.parameters.items()},
                             baseline_parameters=params_cell.source, idea=idea.model_dump(exclude={"rubric"}))
        author = result.author
        plan = result.output
        declared = template.manifest.parameters
        parameters.update({k: declared[k].coerce(v) for k, v in plan.parameters.items() if k in declared})
        parameters.update(ctx.config.experiments.overrides)
        banner = build.OFFLINE_BANNER if author == "offline-engine" else f"> Written by {author} through aisci."
        header = (f"# Experiment: {idea.title}\n\n{banner}\n\n**Idea** `{idea.name}`. **Hypothesis.** {idea.hypothesis}"
                  f"\n\n**Rationale.** {plan.rationale}")
    params_cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params_cell.source = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    params_cell.metadata["aisci"]["author"] = author
    nb.cells.insert(0, build.markdown(header, author))
    nb.metadata.setdefault("aisci", {})["author"] = author
    return nb, author, parameters


def _execute_node(ctx, node: dict, notebook_path, nb, human_edited: bool) -> dict:
    node.update({"status": "running", "started_at": now_iso(), "human_edited": human_edited or node.get("human_edited", False),
                 "notebook": ctx.study.relative(notebook_path), "code_hash": build.code_hash(nb), "failure": None})
    build.write(build.clear_outputs(nb), notebook_path)
    atomic_write_json(notebook_path.parent / "node.json", node)
    ctx.say(f"running {node['id']}")
    result = ctx.execute(notebook_path, notebook_path, cwd=notebook_path.parent,
                         timeout_s=ctx.config.experiments.timeout_s, label=node["id"])
    records = read_records(notebook_path, label=ctx.study.relative(notebook_path)) if notebook_path.exists() else []
    node["metrics"] = {r.name: r.value for r in records}
    node["records"] = [r.model_dump() for r in records]
    primary = ctx.template.manifest.primary_metric
    if result.ok and primary not in node["metrics"]:
        node["status"], node["failure"] = "failed", f"the notebook did not record the primary metric {primary}"
    else:
        node["status"] = "done" if result.ok else result.status
        node["failure"] = None if result.ok else result.reason
    node.update({"finished_at": now_iso(), "duration_s": round(result.duration_s, 2),
                 "traceback_tail": result.traceback_tail or None})
    atomic_write_json(notebook_path.parent / "node.json", node)
    return node


def summary(study) -> dict:
    return read_json(study.path("experiments", "summary.json"), default={"nodes": []})


def plan_digest(node: dict) -> str:
    return sha256_of({k: node.get(k) for k in ("id", "metrics", "status")})
