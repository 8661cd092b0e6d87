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

from concurrent.futures import Future

from aisci.executors.job import KERNEL_LOG, Executor, NodeJob, run_job
from aisci.execution.execute import ExecutionResult
from aisci.execution.sandbox import SandboxSettings

__all__ = ["KERNEL_LOG", "Executor", "NodeJob", "SerialExecutor", "make_executor", "run_job", "sandbox_settings"]

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


def sandbox_settings(config) -> SandboxSettings | None:
    """The sandbox of experiment nodes from a StudyConfig (or its `experiments` section)."""
    section = getattr(config, "experiments", config)
    if not section.sandbox:
        return None
    return SandboxSettings(memory_mb=section.memory_mb, cpu_seconds=section.cpu_seconds,
                           max_processes=section.max_processes, allow_network=section.allow_network)


def make_executor(config) -> Executor:
    """The executor the study's `[experiments]` section asks for (close it when done). One
    local worker runs jobs in this process: a pool of one would only add a start-up."""
    section = getattr(config, "experiments", config)
    if section.executor == "dask":
        from aisci.executors.dask_executor import DaskExecutor
        return DaskExecutor(address=section.dask_scheduler, workers=section.workers)
    if section.workers == 1:
        return SerialExecutor()
    from aisci.executors.local import LocalExecutor
    return LocalExecutor(workers=section.workers)


__all__ = [
    "ExecutionResult",
    "Executor",
    "NodeJob",
    "SandboxSettings",
    "SerialExecutor",
    "make_executor",
    "run_job",
    "sandbox_settings",
]
