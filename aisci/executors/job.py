"""A node job and the one function every executor runs on it, so a job's result is the
same wherever it ran. The executors (local.py, dask_executor.py) import this module, not
the package, which imports them."""

from __future__ import annotations

import os
import socket
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aisci.execution.sandbox import SandboxSettings

if TYPE_CHECKING:  # papermill loads with the first job, not with `import aisci.executors`
    from aisci.execution.execute import ExecutionResult

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
    pass_env: tuple[str, ...] = ()  # environment variables the template declares it needs


def run_job(job: NodeJob) -> ExecutionResult:
    from aisci.execution.execute import execute_notebook

    result = execute_notebook(job.notebook, job.notebook, cwd=job.cwd, timeout_s=job.timeout_s,
                              parameters=dict(job.parameters) or None, env_extra=dict(job.env_extra),
                              kernel_log=job.kernel_log or Path(job.cwd) / KERNEL_LOG, sandbox=job.sandbox,
                              pass_env=tuple(job.pass_env))
    result.ran_on = f"{socket.gethostname()}, pid {os.getpid()}"  # an executor may say more (a Dask worker)
    return result


class Executor(Protocol):
    def submit(self, job: NodeJob) -> Future[ExecutionResult]: ...

    def close(self) -> None: ...
