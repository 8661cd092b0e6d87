"""A node of the experiment tree: `experiments/<idea>/node-N/` holding `experiment.ipynb`
(executed), `node.json` (this record) and `.pristine.ipynb` (aisci's own copy: the planned
notebook before the run, the executed one after; a person's edit of experiment.ipynb is
moved into a new `human` node and this copy put back, so every node keeps what it ran).

node.json is written atomically before a node runs (status `running`) and after; a node a
kill left `running` is run again, a finished one never is."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aisci.fsutil import atomic_write_json, read_json



class NodeKind(StrEnum):
    """How a node came about (a StrEnum: it compares equal to its value in node.json)."""

    BASELINE = "baseline"
    DRAFT = "draft"
    DEBUG = "debug"
    IMPROVE = "improve"
    HYPERPARAMETER = "hyperparameter"
    ABLATION = "ablation"
    REPLICA = "replica"
    HUMAN = "human"


class NodeStatus(StrEnum):
    RUNNING = "running"  # planned, or cut short by a kill: runs (again) on the next run
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    DIED = "died"
    INVALID = "invalid"  # a plan that never became valid, never run


KINDS = tuple(NodeKind)
FAILED = (NodeStatus.FAILED, NodeStatus.TIMED_OUT, NodeStatus.DIED,
          NodeStatus.INVALID)  # invalid: a failed node whose plan never validated (never ran)
FINISHED = (NodeStatus.DONE, *FAILED)
# kinds whose result is a candidate for an idea's best node (an ablation removes a part of
# the best node and a replica repeats it: neither is a new solution)
CANDIDATE_KINDS = ("baseline", "draft", "debug", "improve", "hyperparameter", "human")
NOTEBOOK = "experiment.ipynb"
PRISTINE = ".pristine.ipynb"
NODE_FILE = "node.json"
_FOLDER = re.compile(r"^node-(\d+)$")


class TaskUse(BaseModel):
    """The LLM task that wrote a node, and what it cost (replayed calls cost nothing again)."""

    name: str
    author: str
    call_id: int | None = None
    rounds: int = 1  # validation rounds (a plan with problems is sent back to the model)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    replayed: bool = False


class Node(BaseModel):
    # assignments are validated: `node.status = "done"` stores NodeStatus.DONE
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    id: str  # "<idea>/node-N"
    idea: str
    kind: NodeKind
    parent: str | None = None
    status: NodeStatus = NodeStatus.RUNNING
    stage: str | None = None  # staged mode: implementation | tuning | research | ablation
    author: str = ""
    rationale: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    changes: dict[str, Any] = Field(default_factory=dict)  # parameters that differ from the parent's
    edited_cells: list[int] = Field(default_factory=list)  # code cells (by position) changed from the parent
    diff: str = ""  # the cells changed from the parent, as a unified diff (markdown and code, headed by cell id)
    seed: int | None = None  # replicas
    ablation: str | None = None  # ablations: what was taken out
    follows_human: bool = False  # made because a person's node had no child yet
    edited_from: str | None = None  # human nodes: the node whose notebook a person edited
    metrics: dict[str, Any] = Field(default_factory=dict)
    records: list[dict] = Field(default_factory=list)
    failure: str | None = None
    failed_cell_source: str | None = None
    traceback_tail: str | None = None
    notes: list[str] = Field(default_factory=list)  # what the run reported besides its result (sandbox limits ...)
    code_hash: str = ""  # hash of every code cell (what a person's edit changes)
    code_key: str = ""  # hash of the code cells other than the parameters cell (with the parameters: a configuration)
    notebook: str | None = None  # relative to the study
    task: TaskUse | None = None
    replicas: dict[str, Any] | None = None  # on a replicated node: the seeds' aggregate
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    ran_on: str | None = None  # the machine and process (or Dask worker) that ran it

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def metric(self, name: str) -> float | None:
        value = self.metrics.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return None
        return float(value)

    def summary_row(self) -> dict:
        return self.model_dump(mode="json", exclude={"records"})


class IdeaTree:
    """The nodes of one idea (or of the baseline), read from `experiments/<idea>/`."""

    def __init__(self, experiments: Path, idea: str, nodes: list[Node]):
        self.experiments = Path(experiments)
        self.idea = idea
        self.nodes = nodes

    @classmethod
    def load(cls, experiments: Path, idea: str) -> IdeaTree:
        folder = Path(experiments) / idea
        found = []
        for path in sorted(folder.glob(f"node-*/{NODE_FILE}"), key=lambda p: _number(p.parent.name)):
            data = read_json(path, default=None)
            if isinstance(data, dict) and data.get("id") == f"{idea}/{path.parent.name}":
                found.append(Node.model_validate(data))
        return cls(experiments, idea, found)

    # --- reading -----------------------------------------------------------------------
    def get(self, node_id: str | None) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def children(self, node_id: str) -> list[Node]:
        return [n for n in self.nodes if n.parent == node_id]

    def of_kind(self, *kinds: str) -> list[Node]:
        return [n for n in self.nodes if n.kind in kinds]

    def debug_chain(self, node: Node) -> int:
        """Debug nodes in a row ending at node (0 when node is not a debug node)."""
        length = 0
        while node is not None and node.kind == "debug":
            length += 1
            node = self.get(node.parent)
        return length

    def folder(self, node_id: str) -> Path:
        return self.experiments / node_id

    def notebook_path(self, node_id: str) -> Path:
        return self.folder(node_id) / NOTEBOOK

    def pristine_path(self, node_id: str) -> Path:
        return self.folder(node_id) / PRISTINE

    # --- writing -----------------------------------------------------------------------
    def new_id(self) -> str:
        """The next free node id. A folder a kill left without node.json is reused."""
        taken = [_number(n.name) for n in self.nodes]
        return f"{self.idea}/node-{max(taken, default=-1) + 1}"

    def add(self, node: Node) -> Node:
        self.nodes.append(node)
        self.save(node)
        return node

    def save(self, node: Node) -> None:
        atomic_write_json(self.folder(node.id) / NODE_FILE, node.model_dump(mode="json"))


def best_node(nodes: Iterable[Node], primary: str, direction: str, kinds: tuple[str, ...] = CANDIDATE_KINDS) -> Node | None:
    """The finished node with the best value of the primary metric in its declared
    direction; the earlier node wins a tie (so the choice never flips between runs)."""
    best = None
    for node in nodes:
        value = node.metric(primary) if node.status == "done" and node.kind in kinds else None
        if value is None:
            continue
        if best is None or (value > best.metric(primary) if direction == "maximize" else value < best.metric(primary)):
            best = node
    return best


def _number(name: str) -> int:
    match = _FOLDER.match(name)
    return int(match.group(1)) if match else -1
