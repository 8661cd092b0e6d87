"""Executors: one interface for running experiment notebooks — submit a job, get a future.

- `SerialExecutor` runs jobs in this process, one at a time;
- `LocalExecutor` (local.py) is a process pool of N workers on this machine;
- `DaskExecutor` (dask_executor.py) sends jobs to Dask workers: a `LocalCluster` of its own,
  or the scheduler of a cluster started elsewhere (dask-jobqueue, dask-kubernetes).

`make_executor(config)` picks one from the study's `[experiments]` section. Every executor
runs `run_job`, so a job's result is the same wherever it ran. A job writes only inside its
own node folder: the notebook, its kernel's log, its kernel's run folder (ipc sockets,
sandbox status), whatever the notebook itself writes in its working directory.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.executors.job import KERNEL_LOG, Executor, NodeJob, run_job
from aisci.execution.sandbox import SandboxSettings

if TYPE_CHECKING:  # papermill loads with the first job, not with `import aisci.executors`
    from aisci.execution.execute import ExecutionResult


class SerialExecutor:
    def submit(self, job: NodeJob) -> Future[ExecutionResult]:
        future: Future[ExecutionResult] = Future()
        try:
            future.set_result(run_job(job))
        except BaseException as exc:  # noqa: BLE001 - the future carries it to the caller
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sandbox_settings(config, *, read_only: tuple[Path, ...] = (), hidden: tuple[Path, ...] = ()) -> SandboxSettings | None:
    """The sandbox of a study's kernels from a StudyConfig (or its `experiments` section):
    None when the study says sandbox = "none". `read_only`: what the kernel may read besides
    its own folder (the template); `hidden`: what it must not see (the study folder)."""
    section = getattr(config, "experiments", config)
    if not section.sandboxed:
        return None
    return SandboxSettings(memory_mb=section.memory_mb, cpu_seconds=section.cpu_seconds,
                           max_processes=section.max_processes, allow_network=section.allow_network,
                           read_only=tuple(str(p) for p in read_only), hidden=tuple(str(p) for p in hidden))


def available_cores() -> int:
    """The CPU cores this process may use: its affinity mask (taskset, a batch job's cpuset),
    lowered by a cgroup v2 CPU quota where one is set (a container started with --cpus)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def node_slots(config) -> int:
    """How many nodes run at once: `[experiments] workers`, or for "auto" as many as the cores
    allow when each node's kernel uses `threads` threads (never fewer than one)."""
    section = getattr(config, "experiments", config)
    if section.workers != "auto":
        return section.workers
    return max(1, available_cores() // section.threads)


def thread_env(config) -> dict[str, str]:
    """The environment that holds a node's kernel to `[experiments] threads` CPU threads:
    torch, OpenMP, MKL, OpenBLAS and numexpr read these at start-up, so parallel nodes share
    the cores instead of each taking all of them. Templates that set torch's threads
    themselves read AISCI_NODE_THREADS."""
    threads = str(getattr(config, "experiments", config).threads)
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "AISCI_NODE_THREADS")
    return {name: threads for name in names}


def make_executor(config, shared_folder: Path | None = None) -> Executor:
    """The executor the study's `[experiments]` section asks for (close it when done). One
    local worker runs jobs in this process: a pool of one would only add a start-up. The
    workers of a Dask cluster must see `shared_folder` (the study): checked on connecting."""
    section = getattr(config, "experiments", config)
    if section.executor == "dask":
        from aisci.executors.dask_executor import DaskExecutor
        return DaskExecutor(address=section.dask_scheduler, workers=node_slots(section), shared_folder=shared_folder)
    workers = node_slots(section)
    if workers == 1:
        return SerialExecutor()
    from aisci.executors.local import LocalExecutor
    return LocalExecutor(workers=workers)


def __getattr__(name: str):
    if name == "ExecutionResult":  # re-exported, loaded on first use
        from aisci.execution.execute import ExecutionResult
        return ExecutionResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KERNEL_LOG",
    "ExecutionResult",
    "Executor",
    "NodeJob",
    "SandboxSettings",
    "SerialExecutor",
    "available_cores",
    "make_executor",
    "node_slots",
    "run_job",
    "sandbox_settings",
    "thread_env",
]
