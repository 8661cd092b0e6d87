"""A node job and the one function every executor runs on it, so a job's result is the
same wherever it ran. The executors (local.py, dask_executor.py) import this module, not
the package, which imports them."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aisci.execution.execute import ExecutionResult, execute_notebook
from aisci.execution.sandbox import SandboxSettings

KERNEL_LOG = "kernel.log"


@dataclass(frozen=True)
class NodeJob:
    """Everything a worker needs to execute one node notebook (picklable)."""

    notebook: Path  # executed in place
    cwd: Path  # the node folder: the kernel's working directory
    timeout_s: float
    kernel_log: Path | None = None  # None: kernel.log in the node folder
    env_extra: dict[str, str] = field(default_factory=dict)
    sandbox: SandboxSettings | None = field(default_factory=SandboxSettings)  # None: the plain scrubbed kernel
    parameters: dict[str, Any] = field(default_factory=dict)  # papermill parameters, if any


def run_job(job: NodeJob) -> ExecutionResult:
    return execute_notebook(job.notebook, job.notebook, cwd=job.cwd, timeout_s=job.timeout_s,
                            parameters=dict(job.parameters) or None, env_extra=dict(job.env_extra),
                            kernel_log=job.kernel_log or Path(job.cwd) / KERNEL_LOG, sandbox=job.sandbox)


class Executor(Protocol):
    def submit(self, job: NodeJob) -> Future[ExecutionResult]: ...

    def close(self) -> None: ...
