"""Dask: node notebooks run on Dask workers. Without a scheduler address, a `LocalCluster`
of N single-threaded worker processes is started (and closed with the executor); with one
(`[experiments] dask_scheduler = "tcp://host:8786"`), the jobs go to that cluster — for
instance one started with dask-jobqueue on SLURM/PBS or dask-kubernetes (docs/cluster.md).
Workers there need aisci installed and must see the study folder at the same path (a shared
file system), since a job carries paths and the node writes into its own folder. That is
checked when the executor connects (every worker reads a file aisci just wrote in the study)
and again by each job: a worker that cannot see it is a one-line error naming the worker.
A node runs on a worker exactly as on this machine: `run_job`, in the same sandbox.

Dask's futures are wrapped in `concurrent.futures.Future`s, so callers wait on any
executor's futures the same way."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.errors import ConfigError
from aisci.executors.job import NodeJob, run_job

if TYPE_CHECKING:
    from aisci.execution.execute import ExecutionResult

SHARED_STORAGE = ("the study folder must be on storage every Dask worker shares, at the same path "
                  "(see docs/cluster.md)")


class DaskExecutor:
    def __init__(self, address: str | None = None, workers: int = 2, connect_timeout_s: float = 30,
                 shared_folder: Path | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("[experiments] executor = \"dask\" needs Dask: pip install \"dask[distributed]\"") from None
        self._cluster = None
        if address:
            try:
                self._client = Client(address, timeout=connect_timeout_s)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"[experiments] dask_scheduler: cannot reach {address} ({exc})") from None
            if shared_folder is not None:
                self._check_shared(Path(shared_folder))
        else:
            # one thread per worker: each runs one node (one kernel) at a time
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        self._pending: dict[str, object] = {}  # a dask future dropped here would be cancelled
        self._lock = threading.Lock()

    @property
    def client(self):
        return self._client

    def submit(self, job: NodeJob) -> Future[ExecutionResult]:
        key = f"aisci-node-{uuid.uuid4().hex[:12]}"
        outer: Future = Future()
        outer.set_running_or_notify_cancel()
        dask_future = self._client.submit(run_on_worker, job, key=key, pure=False)
        with self._lock:
            self._pending[key] = dask_future

        def settle(done) -> None:
            with self._lock:
                self._pending.pop(key, None)
            try:
                outer.set_result(done.result())
            except BaseException as exc:  # noqa: BLE001 - the future carries it to the caller
                outer.set_exception(exc)

        dask_future.add_done_callback(settle)
        return outer

    def _check_shared(self, folder: Path) -> None:
        """Every worker connected now reads back a file written here into `folder`."""
        probe = folder / f".aisci-cluster-probe-{uuid.uuid4().hex[:12]}"
        token = uuid.uuid4().hex
        probe.write_text(token)
        try:
            answers = self._client.run(_reads, str(probe), token)
        finally:
            probe.unlink(missing_ok=True)
        for worker, problem in sorted(answers.items()):
            if problem:
                self.close()
                raise ConfigError(f"Dask worker {worker} {problem}: {SHARED_STORAGE}")

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_on_worker(job: NodeJob) -> ExecutionResult:
    """A node on a Dask worker: the node folder must be there (shared storage), then the same
    `run_job` as on this machine; the result says which worker ran it."""
    if not Path(job.notebook).is_file():
        where = _worker_address()
        raise ConfigError(f"Dask worker {where} cannot see the node folder {Path(job.notebook).parent}: "
                          f"{SHARED_STORAGE}")
    result = run_job(job)
    result.ran_on = f"dask worker {_worker_address()} ({socket.gethostname()}, pid {os.getpid()})"
    return result


def _worker_address() -> str:
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:  # not inside a worker (called directly)
        return socket.gethostname()


def _reads(path: str, token: str) -> str:
    """On a worker: '' when it reads `token` back from `path`, else what it saw."""
    try:
        found = Path(path).read_text()
    except OSError as exc:
        return f"cannot see {Path(path).parent} ({type(exc).__name__})"
    return "" if found == token else f"sees a different {Path(path).parent} (another file system at that path)"
