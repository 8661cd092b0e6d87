"""Experiments: the template's baseline, then a tree search per idea that passed the gates.

Each node is `experiments/<idea>/node-N/experiment.ipynb` (executed by papermill in its
own folder) + `node.json` (see aisci.search.node). Each round, every idea's next nodes are
planned (an LLM task or the offline engine writes each notebook), then submitted to the
executor as node slots (`[experiments] workers`) free up, so a parallel executor runs them side
by side and a node starts, as its hook and started_at say, when it gets a worker. The best node of an idea is the one with the best value of the template's primary
metric in its declared direction; no model is asked.

Resume: the tree on disk is the search's state. A finished node is never executed again; a
node a kill left `running` is. A person's edit of a finished node's notebook becomes a new
`human` node (the original node keeps what it ran), which runs and gets a follow-up."""

from __future__ import annotations

import sqlite3
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from aisci import gates
from aisci.artifacts import ExperimentSummary, Ideas, NoveltyDecisions, novel_ideas
from aisci.errors import AisciError, LLMOutputError
from aisci.executors import NodeJob, make_executor, node_slots, sandbox_settings, thread_env
from aisci.fsutil import atomic_write_bytes
from aisci.execution import bubblewrap, build
from aisci.records import read_records
from aisci.search import cellplan, compose
from aisci.search.node import NOTEBOOK, IdeaTree, Node, NodeStatus, TaskUse, best_node
from aisci.search.plans import TASKS, NothingToTry, plan_problems
from aisci.search.policy import Goal, Step, next_steps
from aisci.search.replicas import aggregate_notebook
from aisci.search.turns import Turns
from aisci.study import now_iso

CONSUMES = (Ideas, NoveltyDecisions)
PRODUCES = (ExperimentSummary,)
CONFIG = ("experiments", "search", "ideation.select", "gates")
# how many nodes run at once, where, and on how many threads: the same nodes and metrics either
# way, so a change reruns nothing (a node already run is not run again on the new settings)
RUNS_WITH = ("experiments.workers", "experiments.executor", "experiments.dask_scheduler", "experiments.threads")
BASELINE = "baseline"
BASELINE_NODE = f"{BASELINE}/node-0"
PLAN_ROUNDS = 3  # a plan with problems goes back to the model twice before the node is given up


def inputs(ctx) -> Any:
    """Besides the upstream digest: the gates' decisions and the code of every node notebook
    on disk, so a person's edit to a notebook makes this phase run again."""
    hashes = {}
    for path in sorted(ctx.study.path("experiments").glob(f"*/*/{NOTEBOOK}")):
        try:
            hashes[ctx.study.relative(path)] = build.code_hash(path)
        except Exception:  # noqa: BLE001 - a notebook broken by hand (or cut short by a kill): the phase looks at it
            hashes[ctx.study.relative(path)] = "unreadable"
    return {"novelty_gate": gates.decisions_digest(ctx.study, "novelty"),
            "experiments_gate": gates.decisions_digest(ctx.study, "experiments"), "notebooks": hashes}


def run(ctx) -> None:
    search = TreeSearch(ctx)
    search.run()
    search.write_summary()


class TreeSearch:
    def __init__(self, ctx):
        self.ctx = ctx
        self.study = ctx.study
        self.template = ctx.template
        self.manifest = ctx.template.manifest
        self.settings = ctx.config.search
        self.experiments = self.study.path("experiments")
        self.space = {name: p.model_dump(mode="json") for name, p in self.manifest.parameters.items()}
        primary, metric = self.template.primary()
        seeds = tuple(self.manifest.seeds) if self.manifest.has_seed_parameter else ()
        self.goal = Goal(primary, metric.direction, seeds)
        self.ideas = {idea.name: idea for idea in novel_ideas(self.study)}
        self.trees = {name: IdeaTree.load(self.experiments, name) for name in [BASELINE, *self.ideas]}
        self.exhausted: dict[str, set[str]] = {name: set() for name in self.trees}
        self.overrides = {k: self._coerce(k, v) for k, v in ctx.config.experiments.overrides.items()}

    # --- the search ----------------------------------------------------------------------------
    def run(self) -> None:
        for tree in self.trees.values():
            self._adopt_edits(tree)
        self._honour_rerun_requests()
        if not self.trees[BASELINE].get(BASELINE_NODE):
            self._plan_baseline()
        if self.settings.num_seeds >= 2 and not self.manifest.has_seed_parameter:
            self.ctx.warn(f"[search] num_seeds = {self.settings.num_seeds} but template {self.manifest.name} has no "
                          f"parameter {self.manifest.seed_parameter!r} to set a seed: no replicas")
        section = self.ctx.config.experiments
        if section.sandboxed:  # fail closed before any node is planned to run
            bubblewrap.require(section.allow_network)
        executor = make_executor(self.ctx.config, shared_folder=self.study.root)
        turns = Turns([BASELINE, *self.ideas], planned={BASELINE: 1})  # the baseline node is its first round
        pending: dict[Future, tuple[IdeaTree, Node]] = {}
        try:
            while True:
                planned = self._plan_turns(turns)
                self._submit(executor, pending)
                if not pending:
                    if turns.over:
                        break
                    if not planned:  # cannot happen (turns.py): fail loudly rather than spin
                        raise RuntimeError("the experiment search stalled: no node runs and no tree may plan")
                    continue
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in [f for f in pending if f in done]:  # in the order they were submitted
                    self._finish(*pending.pop(future), future)
        finally:
            executor.close()
        for name in self.ideas:
            self._aggregate_replicas(self.trees[name])

    # --- planning a node -----------------------------------------------------------------------
    def _plan_baseline(self) -> None:
        tree = self.trees[BASELINE]
        nb = build.clear_outputs(self.template.baseline())
        author = f"template:{self.manifest.name}"
        for cell in nb.cells:
            cell.metadata.setdefault("aisci", {}).setdefault("author", author)
        parameters = {**self.template.defaults(), **self.overrides}
        nb, _ = compose.apply_plan(nb, parameters, [], author)
        header = compose.header_cell(
            kind="baseline", node_id=BASELINE_NODE, parent=None, author=author, title=self.manifest.title,
            rationale="The template's baseline with its parameters at their defaults"
                      + (", and the study's overrides." if self.overrides else "."),
            changes=dict(self.overrides), edited_cells=[])
        nb = compose.with_header(nb, header, author, BASELINE_NODE, "baseline")
        node = Node(id=BASELINE_NODE, idea=BASELINE, kind="baseline", author=author, parameters=parameters,
                    changes=dict(self.overrides), created_at=now_iso())
        self._write_new(tree, node, nb)

    def _plan(self, tree: IdeaTree, step: Step) -> None:
        """Plan one node: ask the node's task (validated; problems go back to it), compose
        the notebook, write it and node.json (status `running`). An impossible move marks
        itself exhausted instead."""
        if step.kind == "replica":
            return self._plan_replica(tree, step)
        idea = self.ideas[tree.idea]
        parent = self._node(step.parent or BASELINE_NODE)
        parent_nb = self._notebook_of(parent)
        task = TASKS[step.kind]
        inputs = self._task_inputs(tree, step, parent, parent_nb)
        problems: list[str] = []
        uses: list = []
        composed = plan = None
        for _ in range(PLAN_ROUNDS):
            try:
                result = self.ctx.llm.run(task, **inputs, problems=problems)
            except NothingToTry as exc:
                self.exhausted[tree.idea].add(step.kind if step.kind == "draft" else f"{step.kind}:{parent.id}")
                self.ctx.say(f"{tree.idea}: no {step.kind} node from {parent.id} ({exc})")
                return None
            except LLMOutputError as exc:  # no usable answer at all: the node fails, the search goes on
                problems = [str(exc)]
                break
            uses.append(result)
            plan = result.output
            problems = plan_problems(step.kind, plan, self.space, compose.without_header(parent_nb),
                                     inputs.get("tried_ablations", []))
            if not problems:  # checked statically before anything runs: a failing check goes back to the model
                composed = self._compose(tree, step, parent, parent_nb, plan, result.author)
                problems = (cellplan.static_problems(compose.without_header(parent_nb), composed[3],
                                                     list(self.manifest.metrics))
                            or self._duplicate(tree, step, composed))
            if not problems:
                break
        node_id = tree.new_id()
        common = {"id": node_id, "idea": tree.idea, "kind": step.kind, "parent": parent.id, "stage": step.stage,
                  "author": uses[-1].author if uses else f"model:{self.ctx.llm.spec_for(task.role).model}",
                  "rationale": plan.rationale if plan else "", "follows_human": step.follows_human,
                  "task": self._task_use(task.name, uses) if uses else None, "created_at": now_iso()}
        if problems:
            self._write_invalid(tree, Node(**common, parameters=parent.parameters, failure=(
                f"the plan was still invalid after {len(uses)} rounds: {'; '.join(problems)}"[:600])), parent_nb)
            return None
        parameters, changes, edited, nb = composed
        node = Node(**common, parameters=parameters, changes=changes, edited_cells=edited,
                    ablation=getattr(plan, "ablation", None),
                    diff=cellplan.notebook_diff(compose.without_header(parent_nb), nb, parent.id, node_id))
        header = compose.header_cell(kind=step.kind, node_id=node_id, parent=parent.id, author=node.author,
                                     title=idea.title, rationale=plan.rationale, changes=changes,
                                     edited_cells=edited, extra=self._kind_note(step, idea))
        self._write_new(tree, node, compose.with_header(nb, header, node.author, node_id, step.kind))
        return None

    def _compose(self, tree, step, parent: Node, parent_nb, plan, author):
        parameters = dict(parent.parameters)
        parameters.update({k: self._coerce(k, v) for k, v in plan.parameters.items()})
        parameters.update(self.overrides)
        nb, edited = compose.apply_plan(parent_nb, parameters, plan.cells, author)
        edited = [i for i in edited if i not in self._parameters_index(nb)]
        changes = {k: v for k, v in parameters.items() if parent.parameters.get(k) != v}
        return parameters, changes, edited, nb

    def _duplicate(self, tree: IdeaTree, step: Step, composed) -> list[str]:
        parameters, changes, edited, nb = composed
        if step.kind in ("debug", "ablation"):
            if not changes and not edited:
                return ["the plan changes nothing: change a parameter or a code cell"]
            return []
        key = compose.config_key(compose.code_key(nb), parameters)
        same = next((n for n in tree.nodes if n.status != "invalid"
                     and compose.config_key(n.code_key, n.parameters) == key), None)
        if same is not None:
            return [f"this exact configuration (parameters and code) already ran as {same.id}; propose another"]
        return []

    def _plan_replica(self, tree: IdeaTree, step: Step) -> None:
        parent = self._node(step.parent)
        parameters = {**parent.parameters, self.manifest.seed_parameter: step.seed, **self.overrides}
        author = build.AISCI_AUTHOR
        nb, _ = compose.apply_plan(self._notebook_of(parent), parameters, [], author)
        node_id = tree.new_id()
        changes = {k: v for k, v in parameters.items() if parent.parameters.get(k) != v}
        node = Node(id=node_id, idea=tree.idea, kind="replica", parent=parent.id, stage=step.stage, author=author,
                    parameters=parameters, changes=changes, seed=step.seed, created_at=now_iso(),
                    rationale=f"{parent.id} rerun with {self.manifest.seed_parameter} = {step.seed}, everything else "
                              f"unchanged (one of {self.settings.num_seeds} seed replicas).")
        header = compose.header_cell(kind="replica", node_id=node_id, parent=parent.id, author=author,
                                     title=self.ideas[tree.idea].title, rationale=node.rationale, changes=changes,
                                     edited_cells=[])
        self._write_new(tree, node, compose.with_header(nb, header, author, node_id, "replica"))

    def _write_new(self, tree: IdeaTree, node: Node, nb, status: str = "running") -> None:
        """The notebook and aisci's copy first, node.json last: a kill in between leaves a
        folder without node.json, which the next run reuses."""
        folder = tree.folder(node.id)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat_text = build.clear_outputs(nb)
        build.write(nbformat_text, tree.pristine_path(node.id))
        build.write(nbformat_text, tree.notebook_path(node.id))
        node.notebook = self.study.relative(tree.notebook_path(node.id))
        node.code_hash = build.code_hash(nb)
        node.code_key = compose.code_key(nb)
        node.status = status
        tree.add(node)

    def _write_invalid(self, tree: IdeaTree, node: Node, parent_nb) -> None:
        """A plan that never became valid: a failed node (status `invalid`) with its reason and
        its parent's notebook, unchanged and not run, so every reader finds a whole record and
        a debug round can start from it."""
        header = compose.header_cell(
            kind=node.kind, node_id=node.id, parent=node.parent, author=node.author, title=self.ideas[tree.idea].title,
            rationale=node.rationale, changes={}, edited_cells=[],
            extra=f"**Not run.** {node.failure}. The code below is the parent's, unchanged.")
        nb = compose.apply_plan(parent_nb, node.parameters, [], node.author)[0]
        self._write_new(tree, node, compose.with_header(nb, header, node.author, node.id, node.kind), status="invalid")
        self.ctx.warn(f"{node.id}: not run — {node.failure}")

    def _task_inputs(self, tree: IdeaTree, step: Step, parent: Node, parent_nb) -> dict[str, Any]:
        idea = self.ideas[tree.idea]
        parent_code = compose.code_key(parent_nb)
        # settings tried anywhere in the study on the same code, so two ideas' searches never run
        # one setting twice (two doses of weight decay can both step to the same value)
        tried = [n.parameters for t in self.trees.values() for n in t.nodes
                 if n.status != "invalid" and n.code_key == parent_code]
        inputs: dict[str, Any] = {
            "template": {"title": self.manifest.title, "description": self.manifest.description,
                         "primary_metric": self.goal.primary, "direction": self.goal.direction,
                         "metrics": {k: m.direction for k, m in self.manifest.metrics.items()}},
            "parameter_space": self.space,
            "idea": {"name": idea.name, "title": idea.title, "hypothesis": idea.hypothesis,
                     "parameters": {k: v for k, v in idea.parameters.items() if k in self.space},
                     "method_change": getattr(idea, "method_change", ""),
                     "cells_touched": list(getattr(idea, "cells_touched", []))},
            "parent": self._describe(parent, parent_nb),
            "tried": tried,
            # never moved by the offline engine: the seed (replicas set it), the study's overrides, and
            # parameters that define the task
            "frozen": sorted({self.manifest.seed_parameter, *self.overrides,
                              *(k for k, p in self.manifest.parameters.items() if not p.tunable)}),
        }
        if step.kind == "draft":
            inputs["draft_number"] = len(tree.of_kind("draft")) + 1
        elif step.kind == "improve":
            base = self.trees[BASELINE].get(BASELINE_NODE)
            inputs["baseline_metrics"] = base.metrics if base else {}
        elif step.kind == "ablation":
            inputs["tried_ablations"] = [n.ablation for n in tree.of_kind("ablation") if n.ablation]
            # what the best node changed in the code: an ablation of a method change takes it out
            base = self._node(BASELINE_NODE)
            inputs["code_changes"] = cellplan.notebook_diff(
                compose.without_header(self._notebook_of(base)), compose.without_header(parent_nb), base.id,
                parent.id) or "(none: the best node changed parameters only)"
        elif step.kind == "debug":
            before = self._node(parent.parent or BASELINE_NODE)
            inputs["before_failure"] = self._describe(before, self._notebook_of(before), with_failure=False)
        return inputs

    def _describe(self, node: Node, nb, with_failure: bool = True) -> dict[str, Any]:
        described = {"id": node.id, "kind": node.kind, "parameters": node.parameters, "metrics": node.metrics,
                     "cells": compose.cells_for_prompt(nb)}
        if with_failure and node.failed:
            described.update({"failure": node.failure, "failed_cell_source": node.failed_cell_source,
                              "traceback_tail": node.traceback_tail})
        return described

    def _kind_note(self, step: Step, idea) -> str:
        notes = []
        if step.stage:
            notes.append(f"**Stage** {step.stage} (staged search: implementation → tuning → research → ablation).")
        if step.follows_human:
            notes.append("Made because a person's node had no follow-up yet.")
        return " ".join(notes)

    # --- running the nodes --------------------------------------------------------------------------
    def _plan_turns(self, turns: Turns) -> bool:
        """Let every tree whose nodes are finished plan its next round, when it is its turn
        (aisci/search/turns.py: the same choices whatever order the nodes finished in).
        Whether any tree planned."""
        planned, any_planned = True, False
        while planned:
            planned = False
            for name in turns.order:
                tree = self.trees[name]
                if any(n.status == "running" for n in tree.nodes) or not turns.may_plan(name):
                    continue
                steps = [] if name == BASELINE else next_steps(tree, self.settings, self.goal, self.exhausted[name])
                for step in steps:
                    self._plan(tree, step)
                turns.record(name, finished=not steps)
                planned = any_planned = True
        return any_planned

    def _submit(self, executor, pending: dict[Future, tuple[IdeaTree, Node]]) -> None:
        """Submit planned nodes not yet submitted, as many as there are free node slots: a node is
        said to start (its hook, its started_at) when it gets a worker, not while it would wait in
        the executor's queue (a serial executor has finished a node by the time submit returns: it
        is recorded at once, before the next one starts)."""
        sandbox = sandbox_settings(self.ctx.config, read_only=(self.ctx.template.root,), hidden=(self.study.root,))
        slots = node_slots(self.ctx.config.experiments)
        submitted = {node.id for _, node in pending.values()}
        for tree in self.trees.values():
            for node in [n for n in tree.nodes if n.status == "running" and n.id not in submitted]:
                if len(pending) >= slots:
                    return  # the rest go when a running node finishes
                path = tree.notebook_path(node.id)
                # from aisci's copy, without outputs: a run cut short by a kill leaves a partial notebook
                build.write(build.clear_outputs(build.read(tree.pristine_path(node.id))), path)
                node.started_at = now_iso()
                tree.save(node)
                self.ctx.say(f"running {node.id} ({node.kind})")
                self.ctx.hooks.on_node_start(node)
                job = NodeJob(notebook=path, cwd=path.parent, timeout_s=self.ctx.config.experiments.timeout_s,
                              sandbox=sandbox, pass_env=tuple(self.manifest.environment),
                              env_extra=thread_env(self.ctx.config))  # the kernel's log stays in the node folder
                future = executor.submit(job)
                if future.done():
                    self._finish(tree, node, future)
                else:
                    pending[future] = (tree, node)

    def _finish(self, tree: IdeaTree, node: Node, future: Future) -> None:
        from aisci.execution.execute import ExecutionResult

        try:
            result = future.result()
        except AisciError:
            raise  # the cluster cannot run nodes at all (a worker without the study folder): say so and stop
        except Exception as exc:  # noqa: BLE001 - the executor lost the job (a worker died): the node died with it
            result = ExecutionResult("died", 0.0, f"the executor lost the run: {type(exc).__name__}: {exc}"[:300])
        path = tree.notebook_path(node.id)
        executed = build.read(path) if _readable(path) else None
        records = read_records(executed, label=node.notebook) if executed is not None else []
        node.metrics = {r.name: r.value for r in records}
        node.records = [r.model_dump() for r in records]
        node.status, node.failure = ("done", None) if result.ok else (result.status, result.reason)
        if result.ok and node.metric(self.goal.primary) is None:
            node.status = "failed"
            node.failure = (f"the notebook did not record the primary metric {self.goal.primary} as a number"
                            + (f" (recorded {node.metrics[self.goal.primary]!r})" if self.goal.primary in node.metrics else ""))
        node.traceback_tail = result.traceback_tail or None
        node.notes = list(getattr(result, "notes", []) or [])
        node.failed_cell_source = compose.failing_cell(executed) if executed is not None and not result.ok else None
        node.finished_at = now_iso()
        node.duration_s = round(result.duration_s, 2)
        node.ran_on = result.ran_on or None
        if executed is not None:
            node.code_hash = build.code_hash(executed)
            atomic_write_bytes(tree.pristine_path(node.id), path.read_bytes())
        tree.save(node)
        self.study.log_execution({"notebook": node.notebook, "label": node.id, "started_at": node.started_at,
                                  "finished_at": node.finished_at, "runs_study_code": True, **result.as_dict()})
        metric = node.metric(self.goal.primary)
        self.ctx.say(f"{node.id} {node.status}" + (f": {self.goal.primary} = {metric:.4g}" if metric is not None
                                                   else f": {node.failure}" if node.failure else ""))
        self.ctx.hooks.on_node_end(node)

    # --- a person's hand ---------------------------------------------------------------------------
    def _adopt_edits(self, tree: IdeaTree) -> None:
        """A finished node whose notebook's code changed was edited by a person: move the
        edit into a new `human` node (child of the edited one) and put the original back."""
        for node in list(tree.nodes):
            if not node.finished:
                continue
            path, pristine = tree.notebook_path(node.id), tree.pristine_path(node.id)
            if not pristine.exists():  # made by an older aisci: take the notebook as it is now
                if _readable(path):
                    atomic_write_bytes(pristine, path.read_bytes())
                continue
            if not _readable(path):
                atomic_write_bytes(path, pristine.read_bytes())
                self.ctx.warn(f"{node.notebook} was missing or unreadable; restored the executed notebook")
                continue
            if build.code_hash(path) == node.code_hash:
                continue
            edited, original = build.read(path), build.read(pristine)
            changed = compose.person_edits(edited, original)
            nb = compose.without_header(edited)
            parameters = compose.read_parameters(nb, self.space, node.parameters)
            node_id = tree.new_id()
            changes = {k: v for k, v in parameters.items() if node.parameters.get(k) != v}
            title = self.ideas[tree.idea].title if tree.idea in self.ideas else self.manifest.title
            header = compose.header_cell(
                kind="human", node_id=node_id, parent=node.id, author=compose.PERSON, title=title,
                rationale=f"A person edited the notebook of {node.id}; aisci kept that node as it ran and added "
                          f"the edit here.", changes=changes, edited_cells=changed)
            human = Node(id=node_id, idea=tree.idea, kind="human", parent=node.id, stage=node.stage,
                         author=compose.PERSON, parameters=parameters, changes=changes, edited_cells=changed,
                         edited_from=node.id, rationale="edited by a person", created_at=now_iso())
            self._write_new(tree, human, compose.with_header(nb, header, compose.PERSON, node_id, "human"))
            atomic_write_bytes(path, pristine.read_bytes())
            self.ctx.say(f"{node.id}: edited by a person; the edit is now node {node_id} (kind human), "
                         f"{human.notebook}, and {node.notebook} is back as it ran")

    def _honour_rerun_requests(self) -> None:
        nodes = {n.id: (tree, n) for tree in self.trees.values() for n in tree.nodes
                 if n.finished and n.status != NodeStatus.INVALID}  # a plan never run has nothing to rerun
        for node_id in gates.rerun_requests(self.study, [n for _, n in nodes.values()]):
            tree, node = nodes[node_id]
            nb = build.clear_outputs(build.read(tree.pristine_path(node.id)))
            build.write(nb, tree.notebook_path(node.id))
            node.status = "running"
            tree.save(node)
            self.ctx.say(f"{node.id}: a rerun was requested")

    # --- replicas, the gate and the summary ------------------------------------------------------------
    def _aggregate_replicas(self, tree: IdeaTree) -> None:
        top = best_node(tree.nodes, self.goal.primary, self.goal.direction)
        if top is None:
            return
        replicas = [n for n in tree.children(top.id) if n.kind == "replica" and n.status == "done"]
        if len(replicas) < 2:
            return
        notebooks = [n.notebook for n in replicas]
        if top.replicas and top.replicas.get("notebooks") == notebooks:
            return  # already aggregated
        relative = f"experiments/{tree.idea}/replicas/{top.name}.ipynb"
        output = self.study.path(relative)
        output.parent.mkdir(parents=True, exist_ok=True)
        metrics = list(self.manifest.metrics)
        nb = aggregate_notebook(self.study.root_from(output.parent), top.id, notebooks, [n.seed for n in replicas],
                                metrics)
        self.ctx.execute_phase_notebook(nb, output, label=f"{top.id} replicas")
        found = {r.name: r.value for r in read_records(output, label=relative)}
        top.replicas = {
            "nodes": [n.id for n in replicas], "seeds": [n.seed for n in replicas], "notebooks": notebooks,
            "notebook": relative, "num_seeds": len(replicas),
            "metrics": {m: {"mean": found.get(f"{m}_mean"), "se": found.get(f"{m}_se")}
                        for m in metrics if f"{m}_mean" in found}}
        tree.save(top)

    def write_summary(self) -> None:
        nodes = [n for tree in self.trees.values() for n in tree.nodes]
        by_metric = best_node(nodes, self.goal.primary, self.goal.direction)
        approved = gates.approved_best_node(self.study, [n.id for n in nodes])
        per_idea = {name: getattr(best_node(self.trees[name].nodes, self.goal.primary, self.goal.direction), "id", None)
                    for name in self.ideas}
        replicas = {name: self.trees[name].get(node_id).replicas for name, node_id in per_idea.items()
                    if node_id and self.trees[name].get(node_id).replicas}
        ExperimentSummary(
            primary_metric=self.goal.primary, direction=self.goal.direction,
            best=approved or (by_metric.id if by_metric else None),
            best_by_metric=by_metric.id if by_metric else None, approved_best=approved,
            best_per_idea=per_idea, replicas=replicas, search=self.settings.model_dump(mode="json"),
            nodes=nodes).save(self.study)
        for name in self.ideas:
            if per_idea[name] is None:
                self.ctx.warn(f"no node of idea {name} finished with {self.goal.primary} (see experiments/{name}/*/node.json)")
        base = self.trees[BASELINE].get(BASELINE_NODE)
        if base is not None and base.status != "done":
            self.ctx.warn(f"the baseline did not finish: {base.failure}")
        if self.ctx.config.gates.experiments == "stop" and not gates.decided(self.study, "experiments"):
            raise gates.stop(self.study, "experiments", [n.id for n in nodes if n.status == "done"])

    # --- helpers -------------------------------------------------------------------------------------
    def _node(self, node_id: str) -> Node:
        idea = node_id.split("/", 1)[0]
        node = self.trees[idea].get(node_id) if idea in self.trees else None
        if node is None:
            node = IdeaTree.load(self.experiments, idea).get(node_id)
        if node is None:
            raise KeyError(node_id)
        return node

    def _notebook_of(self, node: Node):
        """The notebook a node ran, as aisci keeps it (a person's edit is elsewhere by now)."""
        tree = self.trees.get(node.idea) or IdeaTree.load(self.experiments, node.idea)
        for path in (tree.pristine_path(node.id), tree.notebook_path(node.id)):
            if _readable(path):
                return build.clear_outputs(build.read(path))
        return build.clear_outputs(self.template.baseline())

    def _parameters_index(self, nb) -> list[int]:
        return [i for i, c in enumerate(compose.code_cells(nb)) if compose.is_parameters_cell(c)]

    def _coerce(self, name: str, value: Any) -> Any:
        param = self.manifest.parameters.get(name)
        return param.coerce(value) if param is not None else value

    def _task_use(self, name: str, results: list) -> TaskUse:
        use = TaskUse(name=name, author=results[-1].author, call_id=results[-1].call_id, rounds=len(results),
                      replayed=all(r.replayed for r in results))
        store = Path(self.ctx.llm.store.path)
        ids = [r.call_id for r in results if r.call_id is not None]
        if ids and store.exists():
            with sqlite3.connect(store) as db:  # the call store's own accounting of those calls
                row = db.execute(f"SELECT COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0), "
                                 f"COALESCE(SUM(cost_usd),0) FROM calls WHERE id IN ({','.join('?' * len(ids))})",
                                 ids).fetchone()
            use.prompt_tokens, use.completion_tokens, use.cost_usd = int(row[0]), int(row[1]), float(row[2])
        return use


def _readable(path: Path) -> bool:
    try:
        build.code_hash(path)
        return True
    except Exception:  # noqa: BLE001 - missing, empty (a kill during a write by papermill) or not a notebook
        return False
