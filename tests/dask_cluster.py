"""A real Dask cluster on 127.0.0.1 for tests: `dask scheduler` and `dask worker` processes
started from the command line, as a person (or dask-jobqueue) starts them, not a LocalCluster.
A worker may be started inside bubblewrap with folders hidden from it, to stand for a
machine that does not share the study's storage."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _dask() -> tuple[list[str], list[str]]:
    """`dask scheduler` and `dask worker`, with this interpreter (the one with this aisci)."""
    return [sys.executable, "-m", "dask", "scheduler"], [sys.executable, "-m", "dask", "worker"]


@contextmanager
def dask_cluster(folder: Path, workers: int = 2, hidden_from_last: Path | None = None):
    """Yields (scheduler address, worker addresses). `hidden_from_last`: a folder the last
    worker cannot see (bubblewrap puts an empty tmpfs over it)."""
    from distributed import Client

    scheduler_cmd, worker_cmd = _dask()
    env = {**os.environ, "PYTHONPATH": str(REPO), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler_file = folder / "scheduler.json"
    processes: list[subprocess.Popen] = []
    logs = []

    def start(command: list[str], name: str) -> None:
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))

    try:
        start([*scheduler_cmd, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(scheduler_file)], "scheduler")
        _wait_for(lambda: scheduler_file.exists() and json.loads(scheduler_file.read_text() or "{}").get("address"),
                  "the scheduler to write its address")
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(workers):
            command = [*worker_cmd, address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                       "--name", f"w{i}", "--local-directory", str(folder / f"w{i}")]
            if hidden_from_last is not None and i == workers - 1:
                command = [shutil.which("bwrap"), "--dev-bind", "/", "/", "--tmpfs", str(hidden_from_last), "--",
                           *command]
            start(command, f"w{i}")
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
            names = sorted(client.scheduler_info()["workers"])
        yield address, names
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in logs:
            log.close()


def _wait_for(condition, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout_s} s for {what}")
