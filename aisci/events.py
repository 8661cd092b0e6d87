"""The study's event log, `.aisci/events.jsonl`: what a run and the people deciding on it did, one
JSON line per event, so that whoever watches a study (the JupyterLab sidebar, the notebook panels)
follows one small file instead of re-reading the whole study.

    {"seq": 12, "at": "2026-11-28T22:01:05+00:00", "kind": "node_end", "node": "idea-a/node-1", ...}

Kinds: run_start, run_end, job_end (a server-side job wrote how it ended), phase_start, phase_end, phase_error, node_start,
node_end, gate, message, decision. `seq` grows by one per event and is never reused, so a reader
asks for "the events after seq N". Every run records through `recorder` (the runner subscribes it
to its hooks); `Study.record_decision` and the job runner append their own events.

The log is bounded: past MAX_BYTES the file becomes `events.1.jsonl` (replacing the one before) and
a new one starts, so a 60-node study, or a study run for months, keeps at most twice MAX_BYTES.
Writers take a short lock (`events.lock`), so a run and a decision from the sidebar never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aisci.errors import GateStop
from aisci.hooks import Hooks, PhaseEvent

EVENTS_FILE = "events.jsonl"
ROTATED_FILE = "events.1.jsonl"
LOCK_FILE = "events.lock"
MAX_BYTES = 256 * 1024
MAX_TEXT = 400  # a message or an error is cut to this many characters: the run log has the rest
TAIL_BYTES = 8192  # enough to hold the last event of the file


def append(state_dir: Path, kind: str, **fields: Any) -> dict:
    """Append one event (numbered after the last one) and return it."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / EVENTS_FILE
    with open(state_dir / LOCK_FILE, "a") as lock:  # a file of its own: the log itself is renamed away
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path, "a+b") as handle:
                last = _last_seq(handle) or _last_seq_of(state_dir / ROTATED_FILE)
                event = {"seq": last + 1, "at": _now(), "kind": kind, **fields}
                line = (json.dumps(event, sort_keys=True, default=str) + "\n").encode("utf-8")
                rotate = handle.tell() > 0 and handle.tell() + len(line) > MAX_BYTES
                if not rotate:
                    handle.write(line)
            if rotate:  # the new file is whole before it takes the name: a reader finds one or the other
                fresh = state_dir / f".{EVENTS_FILE}.new"
                fresh.write_bytes(line)
                os.replace(path, state_dir / ROTATED_FILE)
                os.replace(fresh, path)
            return event
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _now() -> str:
    """The time as aisci.study writes it (that module records its decisions here: no import of it)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def since(state_dir: Path, seq: int = 0, limit: int = 500) -> list[dict]:
    """The events after `seq`, oldest first (the last `limit` of them)."""
    state_dir = Path(state_dir)
    events = [e for e in _read(state_dir / EVENTS_FILE) if e["seq"] > seq]
    if not events or events[0]["seq"] > seq + 1:  # the ones before may be in the rotated file
        events = [e for e in _read(state_dir / ROTATED_FILE) if e["seq"] > seq] + events
    return events[-limit:]


def last_seq(state_dir: Path) -> int:
    """The number of the newest event (0 when there is none)."""
    state_dir = Path(state_dir)
    return _last_seq_of(state_dir / EVENTS_FILE) or _last_seq_of(state_dir / ROTATED_FILE)


def stamp(state_dir: Path) -> tuple[int, int] | None:
    """What changes when an event is appended (the file's size and time): cheap to compare often."""
    try:
        stat = os.stat(Path(state_dir) / EVENTS_FILE)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _read(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    events = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill: the others still count
        if isinstance(event, dict) and isinstance(event.get("seq"), int):
            events.append(event)
    return events


def _last_seq(handle) -> int:
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    handle.seek(max(0, end - TAIL_BYTES))
    tail = handle.read().decode("utf-8", errors="replace")
    handle.seek(0, os.SEEK_END)
    for line in reversed(tail.splitlines()):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


def _last_seq_of(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return _last_seq(handle)
    except OSError:
        return 0


# --- what a run records -----------------------------------------------------------------------
def _short(text: Any) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _node(node) -> dict:
    return {"node": node.id, "idea": node.idea, "node_kind": str(node.kind), "parent": node.parent}


def recorder(state_dir: Path) -> Hooks:
    """Hooks that append each thing a run tells to the study's event log."""
    state_dir = Path(state_dir)

    def phase(kind: str, event: PhaseEvent, **extra: Any) -> None:
        append(state_dir, kind, phase=event.phase, index=event.index, total=event.total,
               up_to_date=event.up_to_date, **extra)

    def node_end(node) -> None:
        metrics = {k: v for k, v in node.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        append(state_dir, "node_end", **_node(node), status=str(node.status), metrics=metrics,
               duration_s=node.duration_s, failure=_short(node.failure) if node.failure else None)

    return Hooks(
        on_phase_start=lambda event: phase("phase_start", event),
        on_phase_end=lambda event: phase("phase_end", event, ran=event.ran, duration_s=event.duration_s),
        on_phase_error=lambda event, error: phase("phase_error", event,
                                                  error=_short(f"{type(error).__name__}: {error}")),
        on_node_start=lambda node: append(state_dir, "node_start", **_node(node), started_at=node.started_at),
        on_node_end=node_end,
        on_gate=lambda stop: append(state_dir, "gate", gate=stop.gate, items=[str(i) for i in stop.items]),
        on_message=lambda text: append(state_dir, "message", text=_short(text)))


@contextmanager
def run_span(state_dir: Path, phases: list[str]) -> Iterator[None]:
    """Record that a run starts and how it ends: finished, waiting (a gate), stopped (Ctrl-C, Stop)
    or failed. A run killed outright records no end: its readers see the run lock released."""
    append(state_dir, "run_start", phases=phases, pid=os.getpid())
    outcome = "failed"
    try:
        yield
        outcome = "finished"
    except GateStop:
        outcome = "waiting"
        raise
    except KeyboardInterrupt:
        outcome = "stopped"
        raise
    finally:
        append(state_dir, "run_end", outcome=outcome)


# --- following several studies (the JupyterLab sidebar) -------------------------------------------
def collect(sources: dict[str, Path], cursor: dict[str, int], limit: int = 200) -> tuple[list[dict], dict[str, int]]:
    """The events of each study (name -> its .aisci folder) after the seq `cursor` holds for it, each
    tagged with `study`, and the cursor that follows them. A study the cursor does not know yet gives
    its last `limit` events; one whose log started over (a cursor past its end) gives it from the
    start."""
    found, after = [], {}
    for name, state_dir in sources.items():
        newest = last_seq(state_dir)
        seen = cursor.get(name, -1)
        if seen < 0 or seen > newest:
            seen = 0
        if newest > seen:
            found += [{**event, "study": name} for event in since(state_dir, seen, limit)]
        after[name] = newest
    return found, after
