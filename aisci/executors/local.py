"""A process pool on this machine: N node notebooks at once, each in a worker process that
drives its own kernel. Workers come from a fork server that has already imported aisci,
so a worker starts in milliseconds and never inherits this process's threads. A worker
exits when aisci does (even on kill -9), and its kernel's launcher then ends the kernel:
a resumed study never races a node still running from the killed one."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from aisci.executors.job import NodeJob, run_job
from aisci.execution.execute import ExecutionResult

PRELOAD = ["aisci.executors", "papermill", "nbclient", "jupyter_client"]


class LocalExecutor:
    def __init__(self, workers: int = 2):
        self.workers = workers
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
        else:  # macOS and Windows have no fork server
            context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_exit_with_parent)

    def start(self) -> None:
        """Start the workers now (they would start on the first submit), e.g. to time jobs alone."""
        wait([self._pool.submit(os.getpid) for _ in range(self.workers)])

    def submit(self, job: NodeJob) -> Future[ExecutionResult]:
        with self._lock:
            try:
                inner = self._pool.submit(run_job, job)
            except BrokenProcessPool:  # a worker died earlier: later jobs get a fresh pool
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                inner = self._pool.submit(run_job, job)
        return _worker_death_as_result(inner)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _exit_with_parent() -> None:
    """In a worker: leave as soon as the process that made the pool is gone."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="aisci-exit-with-parent", daemon=True).start()


def _worker_death_as_result(inner: Future) -> Future:
    """A worker process that died (killed from outside, out of memory) is the node's failure,
    reported like a dead kernel, not an exception for the caller."""
    outer: Future = Future()

    def settle(done: Future) -> None:
        if done.cancelled():
            outer.cancel()
            return
        exc = done.exception()
        if isinstance(exc, BrokenProcessPool):
            outer.set_result(ExecutionResult("died", 0.0, f"the worker process running the node died ({exc})"[:300]))
        elif exc is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(done.result())

    outer.set_running_or_notify_cancel()
    inner.add_done_callback(settle)
    return outer
