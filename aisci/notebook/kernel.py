"""The kernel that runs generated code: a scrubbed environment and its own working
directory. Secrets never reach it: every variable whose name looks like a credential
is removed before the kernel process starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Mapping

from jupyter_client.manager import AsyncKernelManager

SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def scrubbed_env(base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (os.environ if base is None else base).items() if not is_secret(k)}
    env.update({"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "TQDM_DISABLE": "1"})
    env.update(extra or {})
    return env


def kernel_manager_class(cwd: Path, env: dict[str, str], log_path: Path | None = None,
                         on_start: Callable[[AsyncKernelManager], None] | None = None) -> type[AsyncKernelManager]:
    """A kernel manager class bound to one run's working directory and environment
    (nbclient instantiates the class itself, so the settings travel on the class)."""

    class ScrubbedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw["env"] = dict(env)
            kw["cwd"] = str(cwd)
            # the kernel's own stderr (ipykernel warnings, C-level crashes) goes to a log, not our terminal
            kw["stderr"] = open(log_path, "ab") if log_path else subprocess.DEVNULL
            await super().start_kernel(**kw)
            if on_start:
                on_start(self)

    return ScrubbedKernelManager
