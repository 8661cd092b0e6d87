"""Dask: node notebooks run on Dask workers. Without a scheduler address, a `LocalCluster`
of N single-threaded worker processes is started (and closed with the executor); with one
(`[experiments] dask_scheduler = "tcp://host:8786"`), the jobs go to that cluster — for
instance one started with dask-jobqueue on SLURM/PBS or dask-kubernetes. Workers there need
aisci installed and must see the study folder at the same path (a shared file system),
since a job carries paths and the node writes into its own folder.

Dask's futures are wrapped in `concurrent.futures.Future`s, so callers wait on any
executor's futures the same way."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future

from aisci.errors import ConfigError
from aisci.executors.job import NodeJob, run_job
from aisci.execution.execute import ExecutionResult


class DaskExecutor:
    def __init__(self, address: str | None = None, workers: int = 2, connect_timeout_s: float = 30):
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
        dask_future = self._client.submit(run_job, job, key=key, pure=False)
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

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
