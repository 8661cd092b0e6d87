"""Executors: one interface for running experiment notebooks — submit a job, get a future.

`SerialExecutor` runs jobs in this process, one at a time (the default until the local
process pool and the Dask executor land). Every executor runs `run_job`, so a job's
result is the same wherever it ran; jobs write only inside their own node folder.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aisci.notebook.execute import ExecutionResult, execute_notebook


@dataclass(frozen=True)
class NodeJob:
    """Everything a worker needs to execute one node notebook (picklable)."""

    notebook: Path  # executed in place
    cwd: Path  # the node folder: the kernel's working directory
    timeout_s: float
    kernel_log: Path | None = None
    env_extra: dict[str, str] = field(default_factory=dict)


def run_job(job: NodeJob) -> ExecutionResult:
    return execute_notebook(job.notebook, job.notebook, cwd=job.cwd, timeout_s=job.timeout_s,
                            env_extra=dict(job.env_extra), kernel_log=job.kernel_log)


class Executor(Protocol):
    def submit(self, job: NodeJob) -> "Future[ExecutionResult]": ...

    def close(self) -> None: ...


class SerialExecutor:
    def submit(self, job: NodeJob) -> "Future[ExecutionResult]":
        future: Future[ExecutionResult] = Future()
        try:
            future.set_result(run_job(job))
        except BaseException as exc:  # noqa: BLE001 - the future carries it to the caller
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass
