"""The sandbox's walls: the bubblewrap (`bwrap`) command line that a sandboxed kernel starts
under, and the check that bubblewrap works on this machine.

Inside, the kernel sees an allow-list of the file system, mounted at the same paths as
outside so that paths in notebooks and connection files mean the same on both sides:

- the system read-only (/usr and the /bin, /lib... links into it), a few files of /etc that
  programs need (the dynamic linker's cache, certificates, time zone, fonts), and a made-up
  /etc/passwd and /etc/group that name only the kernel's own user;
- the Python that runs aisci read-only (its prefix, site-packages, aisci's own package and
  the PYTHONPATH entries), so the kernel imports what aisci imports;
- the paths a job names read-only (the template; for the analysis, the executed nodes);
- its working folder (the node folder) as the only writable place outside a private /tmp;
- a fresh /proc of its own PID namespace, a minimal /dev (plus GPUs when there are any),
  /sys read-only.

It gets new PID, IPC, UTS, cgroup and (unless the study allows the network) network
namespaces, no capabilities, and dies with the sandbox launcher (`--die-with-parent`); when
the first process of a PID namespace dies, the kernel of the OS ends the rest. Nothing that
is not listed is there: not the study around the node (aisci.toml, llm/, other nodes,
decisions.jsonl), not the home folder, not aisci's processes.

Only aisci's own process uses this module (the launcher does not import it).
"""

from __future__ import annotations

import glob
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aisci.errors import SandboxUnavailable

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("alternatives", "ca-certificates", "ca-certificates.conf", "fonts", "gai.conf", "host.conf", "hosts",
             "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types", "nsswitch.conf",
             "os-release", "protocols", "services", "ssl/certs", "ssl/openssl.cnf", "timezone")
ETC_NETWORK_FILES = ("resolv.conf",)  # only when the study allows the network
GPU_DEVICES = ("/dev/nvidia*", "/dev/dri")
SANDBOX_HOME = "/tmp/home"
SANDBOX_MPLCONFIGDIR = "/tmp/matplotlib"
NONE_HINT = ('or set [experiments] sandbox = "none" in aisci.toml to run generated code without a sandbox '
             '(the run log, the status and the paper then say so)')
INSTALL_HINT = f"install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), {NONE_HINT}"


@dataclass(frozen=True)
class Walls:
    """What one sandboxed kernel may see and write."""

    workdir: Path  # writable, and the kernel's working directory
    read_only: tuple[Path, ...] = ()  # the template, executed nodes ...
    hidden: tuple[Path, ...] = ()  # must stay invisible (the study folder): no read-only bind may hold them
    writable_extra: tuple[Path, ...] = ()  # e.g. the folder of ipc sockets when the node folder's path is too long
    allow_network: bool = False
    tmp_mb: int | None = None  # size of the private /tmp (it is memory, outside the address-space limit)
    files: dict[str, Path] = field(default_factory=dict)  # path inside -> file outside, bound read-only


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def command(walls: Walls, argv: list[str], env_pythonpath: str = "") -> list[str]:
    """bwrap [walls] -- argv."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not on PATH: {INSTALL_HINT}")
    hidden = [_real(p) for p in (*walls.hidden, Path.home())]
    args = [bwrap, *namespace_args(walls.allow_network), "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "aisci-sandbox"]
    args += _system_args(walls.allow_network)
    args += ["--proc", "/proc", "--dev", "/dev", "--ro-bind-try", "/sys", "/sys"]
    for pattern in GPU_DEVICES:
        for device in sorted(glob.glob(pattern)):
            args += ["--dev-bind", device, device]
    # the private /tmp first: what lies under the host's /tmp (a study there) is bound on top of it
    args += [*(["--size", str(walls.tmp_mb * 1024 * 1024)] if walls.tmp_mb else []), "--tmpfs", "/tmp",
             "--dir", SANDBOX_HOME, "--dir", SANDBOX_MPLCONFIGDIR]
    font_cache = matplotlib_font_cache()
    if font_cache is not None:  # without it, every kernel would spend seconds rebuilding matplotlib's font list
        args += ["--ro-bind", str(font_cache), f"{SANDBOX_MPLCONFIGDIR}/{font_cache.name}"]
    shown = [p for p in _python_paths(env_pythonpath) + list(walls.read_only) if _may_show(p, hidden)]
    for path in _outermost(shown):
        args += _bind("--ro-bind", path)
    for inside, outside in walls.files.items():
        args += ["--ro-bind", str(outside), inside]
    for path in (walls.workdir, *walls.writable_extra):
        args += _bind("--bind", path)
    args += ["--remount-ro", "/"]  # the folders made to hold the mounts are not a place to write either
    # ipykernel would watch its parent's pid, which is the launcher's outside the PID namespace
    args += ["--chdir", str(_real(walls.workdir)), "--setenv", "JPY_PARENT_PID", "1", "--", *argv]
    return args


def namespace_args(allow_network: bool) -> list[str]:
    args = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:  # without privileges, bubblewrap needs a user namespace for the others
        args.append("--unshare-user")
    if not allow_network:
        args.append("--unshare-net")
    return args


def _system_args(allow_network: bool) -> list[str]:
    args: list[str] = []
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    for name in ETC_FILES + (ETC_NETWORK_FILES if allow_network else ()):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_paths(env_pythonpath: str) -> list[Path]:
    """What the kernel's Python needs: its prefixes, its site folders, aisci, PYTHONPATH."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # aisci/, without importing it here
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), package]
    paths += site.getsitepackages() + [site.getusersitepackages()]
    prefixes = {_real(Path(p)) for p in paths[:4]}
    for entry in sys.path[1:]:  # sys.path[0] is the calling script's folder, not an install
        path = Path(entry) if entry else None
        if path and path.is_absolute() and (path.name in ("site-packages", "dist-packages")
                                            or any(_real(path).is_relative_to(p) for p in prefixes)):
            paths.append(entry)
    paths += [p for p in env_pythonpath.split(os.pathsep) if p]
    return [Path(p) for p in paths if p and os.path.isabs(p) and os.path.exists(p)]


def _outermost(paths: list[Path]) -> list[Path]:
    """One mount per tree: a folder inside another one of the list is there already."""
    reals = {p: _real(p) for p in paths}
    unique: dict[Path, None] = {}
    for p in paths:
        if not any(q != reals[p] and reals[p].is_relative_to(q) for q in reals.values()):
            unique.setdefault(p, None)
    return list(unique)


def _may_show(path: Path, hidden: list[Path]) -> bool:
    """A read-only bind may not be / nor hold a hidden path (it would show the study, the home folder)."""
    real = _real(path)
    return real != Path("/") and not any(h == real or h.is_relative_to(real) for h in hidden)


def _bind(flag: str, path: Path) -> list[str]:
    """Bind at the real path, and at the path as given when a link leads there."""
    real = _real(path)
    args = [flag, str(real), str(real)]
    if Path(os.path.abspath(path)) != real:
        args += [flag, str(real), os.path.abspath(path)]
    return args


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


# ----------------------------------------------------------------------------- matplotlib's font list


_FONT_CACHE: list[Path | None] = []


def matplotlib_font_cache() -> Path | None:
    """matplotlib's font list, built once per machine in aisci's cache folder and bound
    read-only into every sandbox (the sandbox's /tmp starts empty). None without matplotlib."""
    if not _FONT_CACHE:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aisci" / "matplotlib"
        found = sorted(folder.glob("fontlist-v*.json"))
        if not found:
            env = {"MPLCONFIGDIR": str(folder), "PATH": os.environ.get("PATH", ""), "MPLBACKEND": "Agg"}
            try:  # a home folder we cannot write only costs each kernel the rebuild
                folder.mkdir(parents=True, exist_ok=True)
                subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                               capture_output=True, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired):
                pass
            found = sorted(folder.glob("fontlist-v*.json"))
        _FONT_CACHE.append(found[-1] if found else None)
    return _FONT_CACHE[0]


# ----------------------------------------------------------------------------- does it work here?


_CHECKED: dict[tuple[str, bool], str | None] = {}


def problem(allow_network: bool = False) -> str | None:
    """None when bubblewrap can make the sandbox's namespaces here, else why not (with the fix).
    Asked once per process and setting, by starting `true` under the same namespaces."""
    bwrap = bwrap_path()
    if bwrap is None:
        return f"the sandbox needs bubblewrap, and bwrap is not on PATH: {INSTALL_HINT}"
    key = (bwrap, allow_network)
    if key not in _CHECKED:
        true = shutil.which("true") or "/bin/true"
        argv = [bwrap, *namespace_args(allow_network), "--die-with-parent", "--cap-drop", "ALL",
                *_system_args(allow_network), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--", true]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            failure = None if done.returncode == 0 else (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            failure = str(exc)
        _CHECKED[key] = None if failure is None else (
            f"bubblewrap cannot make the sandbox's namespaces here ({failure}); this happens in containers "
            f"that refuse them (Docker's default seccomp profile): run aisci where they are allowed, {NONE_HINT}")
    return _CHECKED[key]


def require(allow_network: bool = False) -> None:
    why = problem(allow_network)
    if why:
        raise SandboxUnavailable(why)
