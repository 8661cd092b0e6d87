"""Every study under a folder, and what each one is doing, as plain JSON-ready dicts: what
`aisci list` prints and what the JupyterLab sidebar shows. Read-only: nothing here writes."""

from __future__ import annotations

import os
from pathlib import Path

from aisci import gates, jobs
from aisci.artifacts import ExperimentSummary, Ideas
from aisci.config import CONFIG_FILE
from aisci.errors import AisciError
from aisci.executors import node_slots
from aisci.fsutil import read_json
from aisci.llm.store import CallStore
from aisci.search.node import NodeStatus
from aisci.study import Study
from aisci.writeup.pdf_state import pdf_state

SKIPPED_FOLDERS = {"node_modules", "__pycache__", "site-packages", ".ipynb_checkpoints"}
MAX_DEPTH = 6  # studies nested deeper than this under the server root are not looked for
# a `stop` gate waits for a person once the file it decides about exists
GATE_INPUTS = {"ideas": "ideas/ideas.json", "novelty": "ideas/novelty.json", "experiments": "experiments/summary.json",
               "review": "reviews/meta-review.json"}
# the executed notebook a phase leaves (what clicking the phase opens)
PHASE_NOTEBOOKS = {"ideation": "ideas/ideation.ipynb", "novelty": "ideas/novelty.ipynb",
                   "experiments": "experiments/baseline/node-0/experiment.ipynb",
                   "analysis": "analysis/analysis.ipynb", "writeup": "paper/paper.ipynb",
                   "review": "reviews/review.ipynb"}


def find(root: Path, max_depth: int = MAX_DEPTH) -> list[Path]:
    """Every folder under `root` (itself included) that holds an aisci.toml, sorted. A study's
    own subfolders are not searched, nor hidden folders, nor symlinks that lead out of `root`."""
    root = Path(root).resolve()
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if (folder / CONFIG_FILE).is_file():
            found.append(folder)
            return
        if depth >= max_depth:
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIPPED_FOLDERS or not entry.is_dir():
                continue
            target = Path(entry.path).resolve()
            if target.is_relative_to(root):
                walk(target, depth + 1)

    walk(root, 0)
    return found


def card(study_dir: Path, root: Path | None = None) -> dict:
    """One study at a glance: phase states, cost against the budget, the best node, the paper's
    open problems, the review's verdict, the gates waiting, and the run in progress."""
    root = Path(root or study_dir).resolve()
    path = Path(study_dir).resolve()
    name = os.path.relpath(path, root)  # "." when the root itself is the study
    try:
        facts = _facts(path)
    except AisciError as exc:  # a broken study is listed with its problem, not left out
        return {"path": name, "name": path.name, "error": str(exc)}
    job = jobs.job_at(path / ".aisci")
    phases = _with_run(facts["phases"], facts["waiting"], job)
    return {"path": name, "name": path.name, **facts, "phases": phases, "running": job["running"], "job": job,
            "cost": cost_at(path, facts["budget"]),
            "progress": progress(path, phases, facts["search"], facts["workers"]) if job["running"] else None}


def progress(root: Path, phases: list[dict], search: dict | None = None, workers: int = 1) -> dict:
    """Where a running study is: its phase, the experiment node running, the nodes queued, and a time
    estimate for the nodes left (aisci.progress.remaining_nodes, under `search`'s max_nodes and
    num_seeds) from the baseline's measured time, `workers` nodes at a time."""
    from aisci.progress import remaining_nodes

    running = next((p["name"] for p in phases if p["state"] == "running"), None)
    done = sum(1 for p in phases if p["state"] == "done")
    found = {"phase": running, "phases_done": done, "phases": len(phases), "node": None, "node_started_at": None,
             "queued": 0, "baseline_s": None, "nodes_left": None, "workers": workers, "estimate_s": None}
    if running != "experiments":
        return found
    nodes = [read_json(p, default={}) or {} for p in (root / "experiments").glob("*/*/node.json")]
    baseline = next((n for n in nodes if n.get("kind") == "baseline" and n.get("duration_s")), None)
    active = [n for n in nodes if n.get("status") == "running"]
    started = sorted((n for n in active if n.get("started_at")), key=lambda n: n["started_at"])
    if started:
        found.update(node=started[0]["id"], node_started_at=started[0]["started_at"])  # the one running longest
    found["queued"] = len(active) - len(started)
    search = search or {}
    found["nodes_left"] = remaining_nodes(root / "experiments", search.get("max_nodes"), search.get("num_seeds", 0))
    if baseline:
        found["baseline_s"] = baseline["duration_s"]
        found["estimate_s"] = round(baseline["duration_s"] * found["nodes_left"] / max(1, workers), 1)
    return found


def phase_states(study: Study, job: dict | None = None) -> list[dict]:
    """Each phase: done, out of date, not run, running, waiting (a gate), or failed (with the reason)."""
    facts = _facts(study.root)
    return _with_run(facts["phases"], facts["waiting"], job if job is not None else jobs.job(study))


def planned_states(root: Path) -> dict[str, str]:
    """Each phase's state by the runner's up-to-date test alone (done, out of date, not run), kept
    while the study's files are unchanged: what the notebook panels mark themselves by."""
    return {row["name"]: row["state"] for row in _facts(Path(root).resolve())["phases"]}


def _with_run(planned: list[dict], waiting: list[str], job: dict) -> list[dict]:
    """The first phase not done is the one running, waiting at a gate, or failed in the last run."""
    rows = [dict(row) for row in planned]
    first_open = next((row for row in rows if row["state"] != "done"), None)
    if first_open is None:
        return rows
    if job.get("running"):
        first_open["state"] = "running"
    elif waiting:
        first_open["state"] = "waiting"
        first_open["reason"] = f"the {waiting[0]} gate waits for your decision"
    elif job.get("outcome") == "failed":
        first_open["state"] = "failed"
        first_open["reason"] = job.get("message") or f"the run ended with exit code {job.get('exit_code')}"
    return rows


# Which phases are up to date takes the runner's plan: every phase's fingerprint, which reads the
# template and the notebooks. A sidebar asks every few seconds, so what a study's files say is kept
# until one of them changes (a walk of stat() calls, far cheaper than the plan).
_FACTS: dict[Path, tuple[int, dict]] = {}
UNSTAMPED = "llm"  # the call store (even a read touches SQLite's journal): its totals are read each time


def _facts(root: Path) -> dict:
    stamp = _stamp(root)
    cached = _FACTS.get(root)
    if cached and cached[0] == stamp:
        return cached[1]
    study = Study.open(root)
    facts = {"topic": study.config.study.topic, "template": study.config.study.template_source,
             "model": study.config.llm.default, "phases": _planned(study), "waiting": waiting_gates(study),
             "budget": study.config.budget.model_dump(), "best": best_node(study), "paper": paper(study), "review": review(study),
             "final_decision": gates.final_decision(study), "search": study.config.search.model_dump(),
             "workers": node_slots(study.config.experiments)}
    _FACTS[root] = (stamp, facts)
    return facts


def _planned(study: Study) -> list[dict]:
    from aisci.runner import make_context, plan

    state = study.phase_state()
    rows = []
    for name, _fingerprint, current in plan(make_context(study, say=lambda _m: None)):
        label = "done" if current else ("out of date" if name in state else "not run")
        rows.append({"name": name, "state": label, "notebook": PHASE_NOTEBOOKS[name],
                     "finished_at": state.get(name, {}).get("finished_at") if current else None,
                     "duration_s": state.get(name, {}).get("duration_s") if current else None, "reason": None})
    return rows


_FOLDERS: dict[str, tuple[int, list[str]]] = {}  # folder -> (its mtime, its subfolders) when last read
TOP_FILES = ("aisci.toml", "decisions.jsonl")  # written in place (appended, or by a person's editor)


def _stamp(root: Path) -> int:
    """A number that changes when the study changes: the modification times of its folders (aisci,
    and JupyterLab when it saves, write a file to a temporary name and rename it, which changes the
    folder's time) and of the files written in place. The call store is left out: its totals are
    read each time. A folder whose time did not change is not listed again."""
    stamps: list[tuple[str, int]] = []

    def visit(folder: str) -> None:
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            return
        cached = _FOLDERS.get(folder)
        if cached is None or cached[0] != mtime:
            try:
                subfolders = sorted(e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False))
            except OSError:
                return
            _FOLDERS[folder] = cached = (mtime, subfolders)
        stamps.append((folder, mtime))
        for subfolder in cached[1]:
            if subfolder != skipped:
                visit(subfolder)

    skipped = str(root / UNSTAMPED)
    visit(str(root))
    for name in TOP_FILES:
        try:
            stat = os.stat(root / name)
        except OSError:
            continue
        stamps.append((name, stat.st_mtime_ns))
    return hash(tuple(stamps))


def waiting_gates(study: Study) -> list[str]:
    """The `stop` gates with no decision yet whose phase has put something before the person."""
    return [gate for gate in gates.waiting(study) if study.path(GATE_INPUTS[gate]).exists()]


def cost(study: Study) -> dict:
    """Tokens and dollars the study's model calls cost so far, against its budget."""
    return cost_at(study.root, study.config.budget.model_dump())


_COSTS: dict[Path, tuple[tuple, dict]] = {}


def cost_at(root: Path, budget: dict) -> dict:
    path = root / "llm" / "calls.sqlite"
    totals = {"calls": 0, "tokens": 0, "cost_usd": 0.0, "offline_tasks": 0}
    if path.exists():
        key = _store_key(path)
        cached = _COSTS.get(path)
        if cached and cached[0] == key:  # no call stored since (a read leaves both files as they are)
            totals = cached[1]
        else:
            store = CallStore(path)
            live, offline = store.totals("openai-compatible"), store.totals("offline")
            totals = {"calls": live.calls, "tokens": live.tokens, "cost_usd": round(live.cost_usd, 6),
                      "offline_tasks": offline.calls}
            _COSTS[path] = (_store_key(path), totals)
    return {**totals, "max_usd": budget.get("max_usd"), "max_tokens": budget.get("max_tokens")}


def _store_key(path: Path) -> tuple:
    """What changes when a call is stored: the database's size and time, or its write-ahead log's
    size (a reader makes an empty log, touches its time, and removes it; it never changes its size)."""
    found = []
    for name in (path, f"{path}-wal"):
        try:
            stat = os.stat(name)
        except OSError:
            found.append(None)
            continue
        found.append((stat.st_size, stat.st_mtime_ns) if name is path else (stat.st_size or None))  # empty = none
    return tuple(found)


def best_node(study: Study) -> dict | None:
    summary = ExperimentSummary.load(study)
    best = summary.best_node
    if best is None:
        return None
    metric = summary.primary_metric
    return {"id": best.id, "idea": best.idea, "metric": metric, "value": best.metrics.get(metric),
            "notebook": best.notebook}


def paper(study: Study) -> dict | None:
    checks = read_json(study.path("paper", "checks.json"))
    if not checks:
        return None
    from aisci.paper.sections import sections_digest

    pdf = checks.get("pdf")  # paper/paper.pdf, or paper/paper-draft.pdf while problems are open
    pdf = pdf if pdf and (study.root / pdf).exists() else None
    built_from = checks.get("sections_digest")
    # whether that PDF was built from the sections as they are now (a person may have edited one since)
    current = not built_from or built_from == sections_digest(study.path("paper", "sections"))
    return {"pdf": pdf, "final": bool(pdf) and pdf.endswith("/paper.pdf"), "open_problems": checks.get("open", 0),
            "tex": "paper/main.tex", "state": pdf_state(study), "current": current}


def review(study: Study) -> dict | None:
    meta = read_json(study.path("reviews", "meta-review.json"))
    if not meta:
        return None
    return {"decision": meta.get("decision"), "overall": meta.get("overall")}


def tree(study: Study) -> dict:
    """The experiment tree: every node with its kind, status, metric and failure; the best one
    marked; a finished node whose notebook a person changed marked `edited` (the next run makes
    the edit a `human` node)."""
    from aisci.execution import build
    from aisci.widgets.data import node_records

    summary = ExperimentSummary.load(study)
    metric = summary.primary_metric or None
    nodes = []
    for node in node_records(study):
        notebook = study.path(node.notebook) if node.notebook else None
        edited = bool(node.code_hash and node.finished
                      and notebook is not None and notebook.exists() and _code_hash(build, notebook) != node.code_hash)
        nodes.append({"id": node.id, "idea": node.idea, "kind": node.kind.value, "parent": node.parent,
                      "status": node.status.value, "metric": node.metrics.get(metric),
                      "failure": node.failure, "notebook": node.notebook, "edited": edited})
    return {"primary_metric": metric, "best": summary.best, "nodes": nodes}


def _code_hash(build, notebook: Path) -> str | None:
    try:
        return build.code_hash(notebook)
    except Exception:  # noqa: BLE001 — a half-saved or broken notebook counts as edited
        return None


def gate_items(study: Study) -> list[dict]:
    """What each gate that waits for a person would decide about, with a summary per item."""
    from aisci.widgets.data import meta_review, node_records, novelty_decisions

    waiting = []
    for gate in waiting_gates(study):
        items: list[dict] = []
        if gate == "ideas":
            ranked = sorted(Ideas.load(study).ideas, key=lambda i: -i.score)
            items = [{"id": i.name, "label": i.title, "detail": f"score {i.score}/{len(i.rubric)}: {i.hypothesis}"}
                     for i in ranked]
        elif gate == "novelty":
            items = [{"id": name, "label": name, "detail": ("novel" if d.get("novel") else "not novel") + ": "
                      + str(d.get("method", ""))} for name, d in novelty_decisions(study).items()]
        elif gate == "experiments":
            best = ExperimentSummary.load(study).best_by_metric
            done = sorted((n for n in node_records(study) if n.status == NodeStatus.DONE), key=lambda n: n.id != best)
            items = [{"id": n.id, "label": n.id + (" (best by the metric)" if n.id == best else ""),
                      "detail": f"{n.kind.value} · " + ", ".join(f"{k} = {v:.4g}" for k, v in n.metrics.items()
                                                              if isinstance(v, (int, float)))} for n in done]
        elif gate == "review":
            meta = meta_review(study) or {}
            verdict = f"the meta-review says {meta.get('decision')} (Overall {meta.get('overall')})" if meta else ""
            items = [{"id": "accept", "label": "accept the paper", "detail": verdict},
                     {"id": "reject", "label": "reject the paper", "detail": verdict}]
        if items:  # a gate whose phase has not produced anything yet has nothing to decide
            waiting.append({"gate": gate, "items": items})
    return waiting
