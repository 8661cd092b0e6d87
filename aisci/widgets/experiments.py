"""The experiments panel: the node tree per idea; for the selected node its metrics, its
failure reason, the diff of its code against its parent's, a link that opens its notebook;
approve it as the best node, ask for a rerun, or branch (edit its code here: the next run
turns the edited notebook into a `human` node, as an edit in JupyterLab does)."""

from __future__ import annotations

import os

import ipywidgets as widgets
from IPython.display import Markdown

from aisci import gates
from aisci.execution import build
from aisci.search.node import Node, NodeStatus
from aisci.widgets.base import REFRESHING_EVENTS, Panel, badge, button, esc
from aisci.widgets.data import best_by_metric, code_diff, node_records, node_tree

STATUS_KIND = {NodeStatus.DONE: "ok", NodeStatus.FAILED: "no", NodeStatus.TIMED_OUT: "no", NodeStatus.DIED: "no"}


class ExperimentsPanel(Panel):
    gate = "experiments"
    title = "Experiments — the node tree; approve the best node, rerun one, or branch from it"
    phases = ("experiments",)
    refreshing_events = REFRESHING_EVENTS | {"node_end"}  # the tree grows node by node

    def __init__(self, study, selected: str | None = None):
        self.selected = selected
        self.branching = False
        super().__init__(study)

    def nodes(self) -> dict[str, Node]:
        return {n.id: n for n in node_records(self.study)}

    # --- actions ---------------------------------------------------------------------------------
    def approve_best(self, node_id: str) -> dict:
        before = gates.approved_best_node(self.study, self.nodes()) or best_by_metric(self.study)
        return self.decide("approve", items=[node_id], before=before, after=node_id)

    def rerun(self, node_id: str) -> dict:
        node = self.nodes()[node_id]
        return self.decide("rerun", items=[node_id], before=node.status.value, after="rerun requested")

    def branch(self, node_id: str, cell_index: int, source: str) -> dict | None:
        """Write an edited code cell into the node's notebook, as a person editing it in
        JupyterLab would; the next run adds it to the tree as a `human` node."""
        node = self.nodes()[node_id]
        path = self.study.path(node.notebook)
        nb = build.read(path)
        cell = nb.cells[cell_index]
        if cell.source == source:
            self.say("the cell is unchanged: nothing to branch", error=True)
            return None
        before = cell.source
        cell.source = source
        cell.metadata.setdefault("aisci", {})["author"] = "person"
        build.write(nb, path)
        self.branching = False
        return self.decide("branch", items=[node_id], cell=cell_index, before=before, after=source)

    # --- view ------------------------------------------------------------------------------------
    def body(self) -> list[widgets.Widget]:
        nodes = self.nodes()
        if not nodes:
            return [widgets.HTML("No experiment nodes yet: run the experiments phase (03_experiments.ipynb).")]
        best = best_by_metric(self.study)
        approved = gates.approved_best_node(self.study, nodes)
        reruns = set(gates.rerun_requests(self.study, nodes.values()))
        primary = self.study.template().manifest.primary_metric
        options = []
        for depth, node in node_tree(list(nodes.values())):
            marks = (" ★ best by metric" if node.id == best else "") + \
                    (" ✔ approved as best" if node.id == approved else "") + \
                    (" ↻ rerun requested" if node.id in reruns else "")
            metric = f" · {primary}={_fmt(node.metrics[primary])}" if primary in node.metrics else ""
            indent = "\u00a0\u00a0\u00a0" * (depth - 1) + "└─\u00a0" if depth else ""  # <option> drops plain spaces
            options.append((f"{indent}{node.id} · {node.kind.value} · {node.status.value}{metric}{marks}", node.id))
        if self.selected not in nodes:
            self.selected = approved or best or options[0][1]
        self.tree = widgets.Select(options=options, value=self.selected, rows=min(12, len(options)),
                                   layout=widgets.Layout(width="98%"))
        self.tree.add_class("aisci-node-tree")
        self.tree.observe(self._on_select, names="value")
        self.details = widgets.VBox(self._details(nodes[self.selected], nodes))
        return [self.tree, self.details]

    def _on_select(self, change) -> None:
        self.selected = change["new"]
        self.branching = False
        self.details.children = self._details(self.nodes()[self.selected], self.nodes())

    def _details(self, node: Node, nodes: dict[str, Node]) -> list[widgets.Widget]:
        parent = nodes.get(node.parent) if node.parent else None
        metrics = "".join(f"<tr><td>{esc(k)}</td><td>{esc(_fmt(v))}</td></tr>" for k, v in node.metrics.items())
        text = (f"<b>{esc(node.id)}</b> {badge(node.kind.value)}"
                f"{badge(node.status.value, STATUS_KIND.get(node.status, 'neutral'))}"
                f"<br>parent: <code>{esc(node.parent or '—')}</code>"
                f"<table>{metrics or '<tr><td>no metrics recorded</td></tr>'}</table>")
        if node.failure:
            text += f"<p><b>Why it failed:</b> {esc(node.failure)}</p>"
        if node.traceback_tail:
            text += f"<details><summary>traceback</summary><pre>{esc(node.traceback_tail)}</pre></details>"
        diff = code_diff(self.study, node, parent)
        if parent is not None:
            text += (f"<details open><summary>code diff against {esc(parent.id)}</summary>"
                     f"<pre>{esc(diff) or 'no change in the code cells'}</pre></details>")
        link = widgets.Output()
        if node.notebook:
            relative = os.path.relpath(self.study.path(node.notebook), os.getcwd())
            link.append_display_data(Markdown(f"[Open the notebook]({relative.replace(os.sep, '/')}) "
                                              f"(`{node.notebook}`): edit it and rerun — the edit becomes a "
                                              f"`human` node"))
        node_id = node.id
        row = widgets.HBox([
            button("Approve as best", "aisci-approve-best", lambda: self.approve_best(node_id), style="success"),
            button("Rerun", "aisci-rerun", lambda: self.rerun(node_id)),
            button("Branch", "aisci-branch", self._toggle_branch, tooltip="edit this node's code into a new node")])
        parts = [widgets.HTML(text), link, row]
        if self.branching:
            parts.append(self._branch_editor(node))
        return parts

    def _toggle_branch(self) -> None:
        self.branching = not self.branching
        self.details.children = self._details(self.nodes()[self.selected], self.nodes())

    def _branch_editor(self, node: Node) -> widgets.Widget:
        nb = build.read(self.study.path(node.notebook))
        code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        default = next((i for i, c in code if "parameters" in c.metadata.get("tags", [])), code[0][0])
        choice = widgets.Dropdown(options=[(f"code cell {n + 1}" + (" (parameters)" if i == default else ""), i)
                                           for n, (i, c) in enumerate(code)], value=default, description="Cell")
        editor = widgets.Textarea(value=nb.cells[default].source, layout=widgets.Layout(width="98%", height="160px"))
        editor.add_class("aisci-branch-source")
        choice.observe(lambda change: setattr(editor, "value", nb.cells[change["new"]].source), names="value")
        save = button("Save as a new node", "aisci-save-branch",
                      lambda: self.branch(node.id, choice.value, editor.value), style="primary")
        return widgets.VBox([choice, editor, save])


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
