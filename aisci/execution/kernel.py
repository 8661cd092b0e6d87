"""The kernel that runs notebooks: an allow-listed environment and its own working
directory. A kernel gets only the variables it needs to run (PATH, locale, thread settings,
PYTHONPATH, the ones a template declares) and never one whose name looks like a credential,
so neither an API key nor a `DATABASE_URL=postgres://u:password@h/db` reaches it. With a
`SandboxRun`, the kernel is started through the sandbox launcher and bubblewrap (see
sandbox.py, bubblewrap.py) and talks to us over Unix sockets. The kernel itself is
ipykernel's, started through kernel_app.py (which fixes a hang at its shutdown)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_client.manager import AsyncKernelManager

if TYPE_CHECKING:
    from aisci.execution.sandbox import SandboxRun

SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
PASSED_THROUGH = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "CUDA_VISIBLE_DEVICES",
                  "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                  "VECLIB_MAXIMUM_THREADS", "OMP_WAIT_POLICY")
PASSED_PREFIXES = ("LC_",)  # LC_ALL, LC_CTYPE ...
LAUNCHER_MODULES = ("ipykernel_launcher", "ipykernel")  # `python -m ...` in the python3 kernelspec
KERNEL_APP = Path(__file__).resolve().with_name("kernel_app.py")
FIXED = {"MPLBACKEND": "Agg", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONHASHSEED": "0", "TQDM_DISABLE": "1"}


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def kernel_env(base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None,
               declared: Iterable[str] = (), sandboxed: bool = False) -> dict[str, str]:
    """The kernel's environment: the allow-list taken from `base` (default: ours), then our
    fixed settings, then `extra`. `declared`: variables a template says it needs. A sandboxed
    kernel finds this Python first on PATH (the shims of pyenv and the like stay outside)."""
    base = os.environ if base is None else base
    wanted = set(PASSED_THROUGH) | {name for name in declared if not is_secret(name)}
    env = {k: v for k, v in base.items() if k in wanted or k.startswith(PASSED_PREFIXES)}
    if not sandboxed and "HOME" in base:  # aisci's own notebooks keep the user's caches
        env["HOME"] = base["HOME"]
    env.setdefault("OMP_WAIT_POLICY", FIXED["OMP_WAIT_POLICY"])  # a study's own setting wins
    env.update({k: v for k, v in FIXED.items() if k != "OMP_WAIT_POLICY"})
    if sandboxed:
        here = os.path.dirname(sys.executable)
        env["PATH"] = os.pathsep.join([here, *(p for p in env.get("PATH", "").split(os.pathsep) if p and p != here)])
    env.update(extra or {})
    return env


def with_kernel_app(argv: list[str]) -> list[str]:
    """ipykernel's launcher replaced by aisci's kernel app (kernel_app.py: the same kernel,
    without a shutdown that hangs). Any other kernel command stays as it is."""
    for at, arg in enumerate(argv[:-1]):
        if arg == "-m" and argv[at + 1] in LAUNCHER_MODULES:
            return [*argv[:at], str(KERNEL_APP), *argv[at + 2:]]
    return argv


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
            # no IPython history database: nobody reads it, and a sandbox's home starts empty each time
            argv = with_kernel_app(super().format_kernel_cmd(extra_arguments)) + ["--HistoryManager.enabled=False"]
            return sandbox_run.command(argv, env.get("PYTHONPATH", "")) if sandbox_run is not None else argv

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
