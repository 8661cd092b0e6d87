"""The kernel that runs generated code: a scrubbed environment and its own working
directory. Secrets never reach it: every variable whose name looks like a credential
is removed before the kernel process starts. With a `SandboxRun`, the kernel is started
through the sandbox launcher (limits, no network) and talks to us over Unix sockets."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_client.manager import AsyncKernelManager

if TYPE_CHECKING:
    from aisci.execution.sandbox import SandboxRun

SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def scrubbed_env(base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (os.environ if base is None else base).items() if not is_secret(k)}
    env.update({"MPLBACKEND": "Agg", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONHASHSEED": "0", "TQDM_DISABLE": "1"})
    env.update(extra or {})
    return env


def kernel_manager_class(cwd: Path, env: dict[str, str], log_path: Path | None = None,
                         on_start: Callable[[AsyncKernelManager], None] | None = None,
                         sandbox_run: SandboxRun | None = None) -> type[AsyncKernelManager]:
    """A kernel manager class bound to one run's working directory and environment
    (nbclient instantiates the class itself, so the settings travel on the class)."""

    class ScrubbedKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            if sandbox_run is not None:
                # TCP on 127.0.0.1 cannot cross into the kernel's own network namespace; Unix
                # sockets are files, which it still sees. Ports become socket-name suffixes.
                self.transport = "ipc"
                self.cache_ports = False
                self.ip = sandbox_run.ipc_prefix
                self.connection_file = str(sandbox_run.connection_file)

        def format_kernel_cmd(self, extra_arguments=None):
            argv = super().format_kernel_cmd(extra_arguments)
            return sandbox_run.command(argv) if sandbox_run is not None else argv

        async def start_kernel(self, **kw):
            kw["env"] = dict(env)
            kw["cwd"] = str(cwd)
            # the kernel's own stderr (ipykernel warnings, C-level crashes) goes to a log, not our terminal
            log = open(log_path, "ab") if log_path else None  # noqa: ASYNC230, SIM115 - handed to the kernel, closed below
            kw["stderr"] = log or subprocess.DEVNULL
            try:
                await super().start_kernel(**kw)
            finally:
                if log:
                    log.close()  # the kernel holds its own copy
            if on_start:
                on_start(self)

    return ScrubbedKernelManager
