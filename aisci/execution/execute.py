"""Run a notebook through papermill, in-process, in the scrubbed kernel (optionally the
sandboxed one: see sandbox.py), with a wall-time limit. A failure is a result, never an
exception: the caller decides what it means."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from aisci.execution import sandbox as sandboxing
from aisci.execution.kernel import kernel_env, kernel_manager_class
from aisci.execution.sandbox import SandboxRun, SandboxSettings

logging.getLogger("papermill").setLevel(logging.CRITICAL)  # failures come back as results


@dataclass
class ExecutionResult:
    status: str  # ok | failed | timed_out | died
    duration_s: float
    reason: str = ""  # one line: what went wrong
    failed_cell: int | None = None
    traceback_tail: str = ""
    ran_on: str = ""  # the machine and process (or Dask worker) that ran it
    notes: list[str] = field(default_factory=list)  # worth knowing even when it went well
    sandbox: str = "none"  # "bubblewrap" when the kernel ran inside the sandbox

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return asdict(self)


def execute_notebook(input_path: Path, output_path: Path, *, cwd: Path, timeout_s: float,
                     parameters: dict[str, Any] | None = None, env_extra: dict[str, str] | None = None,
                     start_timeout_s: float = 60, kernel_log: Path | None = None,
                     sandbox: SandboxSettings | None = None, pass_env: tuple[str, ...] = ()) -> ExecutionResult:
    """Execute input_path into output_path with papermill (parameters injected), the kernel
    working in cwd with an allow-listed environment (plus the variables named in `pass_env`),
    stopped after timeout_s of wall time. With `sandbox`, the kernel runs inside bubblewrap
    under its limits and a death is explained by them; where bubblewrap cannot run, this
    raises SandboxUnavailable before anything runs (fail closed)."""
    cwd.mkdir(parents=True, exist_ok=True)
    run = SandboxRun(sandbox, cwd) if sandbox else None
    watchdog = _Watchdog(timeout_s)
    env = kernel_env(extra={**(run.env() if run else {}), **(env_extra or {})}, declared=pass_env,
                     sandboxed=run is not None)
    km_class = kernel_manager_class(cwd, env, kernel_log, on_start=watchdog.arm, sandbox_run=run)
    started = time.monotonic()
    error: PapermillExecutionError | None = None
    try:
        papermill.execute_notebook(
            str(input_path), str(output_path), parameters=parameters or {}, progress_bar=False,
            kernel_manager_class=km_class, execution_timeout=timeout_s, start_timeout=start_timeout_s,
            request_save_on_cell_execute=True)
        result = ExecutionResult("ok", time.monotonic() - started)
    except PapermillExecutionError as exc:
        error = exc
        result = ExecutionResult("failed", time.monotonic() - started, f"{exc.ename}: {exc.evalue}"[:300],
                                 exc.exec_count, "".join(exc.traceback[-3:])[-2000:] if exc.traceback else "")
        if watchdog.fired:
            result.status, result.reason = "timed_out", f"stopped after the {timeout_s:g} s wall-time limit"
    except CellTimeoutError:
        result = ExecutionResult("timed_out", time.monotonic() - started, f"a cell ran past the {timeout_s:g} s limit")
    except DeadKernelError as exc:
        if watchdog.fired:
            result = ExecutionResult("timed_out", time.monotonic() - started, f"stopped after the {timeout_s:g} s wall-time limit")
        else:
            result = ExecutionResult("died", time.monotonic() - started, f"the kernel died: {exc}"[:300])
    except (RuntimeError, TimeoutError) as exc:
        if "kernel" not in str(exc).lower():
            raise
        # nbclient's start-up errors: the kernel never answered (or the wall time ran out first)
        if watchdog.fired:
            result = ExecutionResult("timed_out", time.monotonic() - started, f"stopped after the {timeout_s:g} s wall-time limit")
        else:
            result = ExecutionResult("died", time.monotonic() - started, f"the kernel did not start: {exc}"[:300])
    finally:
        watchdog.cancel()
        status = run.finish() if run else {}
    if run:
        result.sandbox = "bubblewrap"
        _explain_with_sandbox(result, status, sandbox, error)
    _note_sys_exit(output_path, result)
    _mark(output_path, result)
    return result


def _explain_with_sandbox(result: ExecutionResult, status: dict, settings: SandboxSettings,
                          error: PapermillExecutionError | None) -> None:
    """Say which sandbox limit (if any) ended the run, and what else the sandbox saw."""
    if result.status == "died":
        why = sandboxing.describe_exit(status, settings)
        if result.reason.startswith("the kernel did not start"):
            why = (f"the kernel did not start under the sandbox (it {sandboxing.exit_summary(status)}); are its "
                   f"limits too low? (memory {settings.memory_mb} MB, {settings.max_processes} processes; see the kernel log)")
        result.reason = why
    elif result.status == "failed" and error is not None:
        explained = sandboxing.describe_error(error.ename, error.evalue, status, settings)
        if explained:
            result.reason = explained[:300]
    for ignored in status.get("ignored_signals", []):
        result.notes.append(f"the kernel sent {ignored['signal']} to its launcher; the sandbox ignored it")


def _note_sys_exit(output_path: Path, result: ExecutionResult) -> None:
    """sys.exit(0) ends a notebook successfully, as in papermill; the cells after it never ran."""
    if not result.ok or not Path(output_path).exists():
        return
    nb = nbformat.read(str(output_path), as_version=4)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "SystemExit":
                later = sum(1 for c in nb.cells[index + 1:] if c.cell_type == "code")
                result.notes.append(f"cell {index} called sys.exit({output.get('evalue', '')}); "
                                    f"the notebook stopped there ({later} later code cells not run)")
                return


class _Watchdog:
    """Kills the kernel's process group when the notebook's wall time is up (a per-cell
    timeout alone lets a notebook of many slow cells run forever)."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self.fired = False
        self._timer: threading.Timer | None = None

    def arm(self, km) -> None:
        pid = getattr(km.provisioner, "pid", None) if km.provisioner else None
        if pid is None:
            return
        self._timer = threading.Timer(self.timeout_s, self._kill, args=(pid,))
        self._timer.daemon = True
        self._timer.start()

    def _kill(self, pid: int) -> None:
        self.fired = True
        try:
            if os.getpgid(pid) == pid:  # the kernel leads its own group: end its children too
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def cancel(self) -> None:
        if self._timer:
            self._timer.cancel()


def _mark(output_path: Path, result: ExecutionResult) -> None:
    """Write the outcome into the executed notebook's metadata, so the file says it."""
    if not Path(output_path).exists():
        return
    nb = nbformat.read(str(output_path), as_version=4)
    nb.metadata.setdefault("aisci", {})["execution"] = {k: v for k, v in result.as_dict().items() if k != "traceback_tail"}
    from aisci.execution.build import write
    write(nb, Path(output_path))
