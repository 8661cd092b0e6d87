"""Runs as server-side jobs: `aisci run` in a subprocess of its own process group, one per study.

A job leaves everything it knows in the study folder, so a closed browser tab, a reloaded page or
a restarted Jupyter server loses nothing:

    .aisci/job.json   what was started (pid, process group, command, times) and how it ended
    .aisci/run.log    everything the run printed

Whether a study is running is read from the run lock the runner holds (`Study.lock`), so a run
started from the command line shows up as running too.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from aisci.errors import StudyError
from aisci.fsutil import atomic_write_json, read_json
from aisci.constants import check_phase
from aisci.study import Study, now_iso

JOB_FILE = "job.json"
LOG_FILE = "run.log"
STOP_GRACE_S = 30.0  # how long a stopped run has to finish its cell and save, before it is terminated
ANSWER_WITHIN_S = 5.0  # Stop answers after this long; a run still ending shows as running until it has

_starting = threading.Lock()  # two clicks at once: one start wins, the other sees it running
_children: dict[int, subprocess.Popen] = {}  # jobs this process started, reaped when they end


def job(study: Study) -> dict:
    """The last job started on this study (empty when none), with `running` brought up to date."""
    return job_at(study.state_dir)


def job_at(state_dir: Path) -> dict:
    record = read_json(state_dir / JOB_FILE, default={}) or {}
    record["running"] = _running(state_dir, record)
    return record


def is_running(study: Study) -> bool:
    """True while any `aisci run` (a job or the command line) holds the study's run lock, or while a
    job this server started has not taken it yet."""
    return _running(study.state_dir, read_json(study.state_dir / JOB_FILE, default={}) or {})


def _running(state_dir: Path, record: dict) -> bool:
    if record.get("pid") and "ended_at" not in record and _alive(record["pid"]):
        return True
    return _locked(state_dir / "run.lock")


def _locked(lock: Path) -> bool:
    """Whether a process holds the run lock, read from /proc/locks: probing it by taking it, even for
    an instant, could make a run that starts at that instant fail. Elsewhere than Linux, the probe."""
    try:
        stat = lock.stat()
    except OSError:
        return False
    try:
        table = Path("/proc/locks").read_text()
    except OSError:
        return _probe(lock)
    wanted = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    return any(wanted in line.split() and "->" not in line for line in table.splitlines())


def _probe(lock: Path) -> bool:
    with open(lock, "a") as handle:
        try:  # a shared lock conflicts with the runner's exclusive one; released at once
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def start(study: Study, until: str | None = None) -> dict:
    """Start `aisci run` on the study (resuming where it stopped); refused while one runs."""
    if until is not None:
        check_phase(until)
    with _starting:
        if is_running(study):
            raise StudyError(f"{study.root.name}: a run is already working on this study")
        command = [sys.executable, "-m", "aisci.jobrunner", str(study.root)]
        if until:
            command += ["--until", until]
        log = study.state_dir / LOG_FILE
        with open(log, "wb") as out:
            child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     cwd=study.root, start_new_session=True,  # its own process group
                                     env={**os.environ, "AISCI_NO_PROGRESS": "1", "PYTHONUNBUFFERED": "1"})
        _children[child.pid] = child
        record = {"pid": child.pid, "pgid": child.pid, "until": until, "started_at": now_iso(),
                  "command": ["aisci", "run", study.root.name] + (["--until", until] if until else [])}
        atomic_write_json(study.state_dir / JOB_FILE, record)
        return {**record, "running": True}


def stop(study: Study, grace_s: float = STOP_GRACE_S) -> dict:
    """Interrupt the study's job as Ctrl+C would (finished work is saved; Run resumes), then
    terminate its process group if it has not ended within `grace_s`."""
    record = read_json(study.state_dir / JOB_FILE, default={}) or {}
    pgid = record.get("pgid")
    if not pgid or "ended_at" in record or not _alive(record["pid"]):
        if is_running(study):
            raise StudyError(f"{study.root.name}: the run working on it was started elsewhere (the command line); "
                             "stop it there")
        raise StudyError(f"{study.root.name}: no run to stop")
    record["stop_requested_at"] = now_iso()
    atomic_write_json(study.state_dir / JOB_FILE, record)
    _signal(pgid, signal.SIGINT)
    if not _ended(record["pid"], min(grace_s, ANSWER_WITHIN_S)):  # the rest of the grace in the background
        threading.Thread(target=_escalate, args=(record["pid"], pgid, grace_s - ANSWER_WITHIN_S), daemon=True).start()
    return job(study)


def _ended(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


def _escalate(pid: int, pgid: int, grace_s: float) -> None:
    """A run that did not end within the grace after Ctrl-C is terminated, then killed."""
    if _ended(pid, max(grace_s, 0.0)):
        return
    _signal(pgid, signal.SIGTERM)
    if not _ended(pid, 5.0):
        _signal(pgid, signal.SIGKILL)


def log_since(study: Study, offset: int = 0, limit: int = 256_000) -> dict:
    """The run log from byte `offset` on (at most `limit` bytes), and where to continue."""
    path = study.state_dir / LOG_FILE
    if not path.exists():
        return {"text": "", "offset": 0}
    size = path.stat().st_size
    offset = 0 if offset > size else max(0, offset)  # a new run truncated the log: start over
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(limit)
    return {"text": data.decode("utf-8", errors="replace"), "offset": offset + len(data)}


def _alive(pid: int) -> bool:
    _reap()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (ended, parent not yet told) is not running
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _reap() -> None:
    for pid, child in list(_children.items()):
        if child.poll() is not None:
            del _children[pid]


def _signal(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
