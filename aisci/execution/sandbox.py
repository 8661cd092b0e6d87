"""The sandboxed kernel: a small launcher that starts the Jupyter kernel under limits.

The kernel command becomes `python -I .../sandbox.py [limits] -- <kernel argv>` (also
runnable as `python -m aisci.execution.sandbox`). The launcher

- joins a fresh `pids` cgroup (when this machine lets it create one) capped at the
  process limit, or else watches the kernel's process tree and ends it past the limit;
- forks the kernel with RLIMIT_AS (memory), RLIMIT_CPU (CPU seconds) and no core files,
  and stays its parent: a kernel that signals its parent reaches the launcher, which
  ignores signals from inside the sandbox (aisci itself is never the kernel's parent);
- is a child subreaper, so orphaned grandchildren come back to it and it can end the
  whole tree — only processes it started (cgroup members or its descendants), never by name;
- ends the kernel when the process that started it (aisci, or an executor's worker) is
  gone, so a killed study leaves no kernel running on;
- writes what happened (exit status, signal, CPU used, limit hits) to `sandbox.json`.

What holds where (Linux): memory and CPU limits are per process, everywhere. The process
limit is exact with a pids cgroup (cgroup v1 `pids` hierarchy, or a delegated cgroup v2;
threads count as tasks); without one, RLIMIT_NPROC is per user (and not enforced for root),
so the launcher also counts the tree ten times a second and ends it past the limit.
Checked by the tests as root with cgroup v1 (pids cgroup) and as the user `nobody` (watcher
plus RLIMIT_NPROC): tests/test_sandbox_launcher.py.

The walls (file system, PID, network and IPC namespaces) are bubblewrap's: the launcher
starts `bwrap ... -- kernel` (see SandboxRun and bubblewrap.py). With no network, the kernel
talks to aisci over Unix sockets (ZMQ `ipc` transport) in a folder bound into the sandbox.

Module level uses the standard library only: the launcher runs as a plain script, so a
kernel start does not pay for importing aisci.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RUN_DIR_NAME = ".kernel"  # inside the node folder: connection file, ipc sockets, sandbox.json
STATUS_FILE = "sandbox.json"
RUN_MARKER_ENV = "AISCI_SANDBOX_RUN"
UNIX_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; ipc sockets are "<prefix>-<n>"
POLL_S = 0.1
PR_SET_CHILD_SUBREAPER = 36
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
WATCHED_SIGNALS = (signal.SIGCHLD, *STOP_SIGNALS)


@dataclass(frozen=True)
class SandboxSettings:
    """Limits for one kernel. None means no limit of that kind."""

    memory_mb: int | None = 8192  # address space per process (RLIMIT_AS)
    cpu_seconds: int | None = 3600  # CPU time per process, all its threads together (RLIMIT_CPU)
    max_processes: int | None = 256  # tasks (processes and threads) of the whole kernel tree
    allow_network: bool = False
    use_cgroup: bool = True  # False: count the tree instead (tests the fallback)
    read_only: tuple[str, ...] = ()  # folders the kernel may read besides its own (the template, executed nodes)
    hidden: tuple[str, ...] = ()  # folders that must stay invisible to it (the study folder)

    def launcher_args(self) -> list[str]:
        args = []
        if self.memory_mb:
            args += ["--memory-mb", str(self.memory_mb)]
        if self.cpu_seconds:
            args += ["--cpu-s", str(self.cpu_seconds)]
        if self.max_processes:
            args += ["--nproc", str(self.max_processes)]
        if not self.use_cgroup:
            args.append("--no-cgroup")
        return args


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# ----------------------------------------------------------------------------- launcher


class Launcher:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.pid = os.getpid()
        self.parent = args.parent_pid or os.getppid()
        self.run_dir = Path(args.run_dir) if args.run_dir else None
        self.cgroup: Path | None = None
        self.kernel: int | None = None
        self.kernel_exit: dict | None = None
        self.stop_reason: str | None = None
        self.ignored: list[dict] = []
        self.user_tasks = 0
        self.status: dict = {"launcher_pid": self.pid, "finished": False,
                             "limits": {"memory_mb": args.memory_mb, "cpu_seconds": args.cpu_s,
                                        "max_processes": args.nproc}}

    def run(self) -> int:
        if os.getppid() != self.parent:  # aisci died while we were starting: start nothing
            _say("the process that started the kernel is gone; not starting it")
            return 1
        try:
            os.setsid()  # jupyter_client already starts us in a new session; from a shell, we make one
        except OSError:
            pass
        self.status["pgid"] = os.getpgid(0)
        self._limit_processes()
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        self._write_status()  # before the kernel exists: aisci can find the cgroup even if we are killed
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED_SIGNALS)
        self.kernel = os.fork()
        if self.kernel == 0:
            self._exec_kernel(old_mask)
        self.status["kernel_pid"] = self.kernel
        self._write_status()
        self._supervise()
        self._end_tree()
        code = self._finish()
        return code

    # -- set-up, in the launcher

    def _limit_processes(self) -> None:
        nproc = self.args.nproc
        if not nproc:
            self.status["process_limit"] = "none"
            return
        if not self.args.no_cgroup and self.args.cgroup_name:
            self.cgroup, why = join_pids_cgroup(self.args.cgroup_name, nproc + 1)  # +1: the launcher
            if self.cgroup:
                self.status.update(process_limit="cgroup", cgroup=str(self.cgroup))
                return
            self.status["cgroup_unavailable"] = why
        self.status["process_limit"] = "watch" if os.geteuid() == 0 else "watch+rlimit"
        if os.geteuid() != 0:  # counted now: in a user namespace, other users' processes would look like ours
            self.user_tasks = sum(t for _, t in _tasks_of_uid(os.getuid()))

    # -- the kernel, in the forked child

    def _exec_kernel(self, old_mask) -> None:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            os.setpgid(0, 0)  # signals aisci sends to the launcher's group stop at the launcher
            os.environ["JPY_PARENT_PID"] = str(self.pid)  # ipykernel exits if we vanish
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files in the node folder
            if self.args.memory_mb:
                limit = self.args.memory_mb * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            if self.args.cpu_s:
                # soft: SIGXCPU, which ends the kernel; hard: SIGKILL should it catch SIGXCPU
                resource.setrlimit(resource.RLIMIT_CPU, (self.args.cpu_s, self.args.cpu_s + 5))
            if self.args.nproc and self.status["process_limit"] == "watch+rlimit":
                # per user, so it can only cap what this user runs in all: the watcher is the real limit
                resource.setrlimit(resource.RLIMIT_NPROC, (self.user_tasks + self.args.nproc,) * 2)
            os.execvp(self.args.kernel[0], self.args.kernel)
        except BaseException as exc:  # noqa: BLE001 - nothing may escape a forked child
            _say(f"could not start the kernel: {exc}")
        finally:
            os._exit(127)

    # -- supervision

    def _supervise(self) -> None:
        while self.kernel_exit is None and self.stop_reason is None:
            info = signal.sigtimedwait(WATCHED_SIGNALS, POLL_S)
            if info is not None and info.si_signo != signal.SIGCHLD:
                self._on_signal(info.si_signo, info.si_pid)
            self._reap()
            if os.getppid() != self.parent:
                self.stop_reason = "the process that started the kernel is gone"
            elif self.args.nproc and self.cgroup is None:
                tasks = sum(self._members().values())
                if tasks > self.args.nproc:
                    self.stop_reason = "process_limit"
                    self.status["process_limit_hit"] = tasks

    def _on_signal(self, signum: int, sender: int) -> None:
        """Our parent (aisci) may stop the kernel; anything inside the sandbox may not."""
        # sender 0: a signal to a process group that crossed into a PID namespace (the kernel
        # blanks the sender for all its targets); nothing inside the sandbox can reach us so
        from_outside = sender in (0, self.parent) or (_alive(sender) and sender not in self._members())
        if from_outside:
            if signum != signal.SIGINT:  # an interrupt goes to the kernel's group, the kernel handles it
                self.stop_reason = f"stopped by {signal_name(signum)} from pid {sender}"
            return
        self.ignored.append({"signal": signal_name(signum), "from_pid": sender})
        _say(f"ignored {signal_name(signum)} sent to the launcher by pid {sender} inside the sandbox")

    def _reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.kernel and self.kernel_exit is None:
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
                sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
                if self.args.signal_exit_codes and code is not None and 128 < code < 128 + signal.NSIG:
                    code, sig = None, code - 128  # bubblewrap exits with 128 + the signal that ended the kernel
                self.kernel_exit = {"code": code, "signal": sig, "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                                    "max_rss_mb": usage.ru_maxrss // 1024}

    def _members(self) -> dict[int, int]:
        """pid -> number of threads, for every process of the kernel's tree (not the launcher)."""
        if self.cgroup is not None:
            return {pid: 1 for pid in _cgroup_pids(self.cgroup) if pid != self.pid}
        return _descendants(self.pid)

    def _end_tree(self) -> None:
        """SIGKILL every process of the tree, again until none is left (a fork loop races us)."""
        for _ in range(200):
            members = self._members()
            if not members:
                break
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
            self._reap()
        deadline = time.monotonic() + 2
        while self.kernel_exit is None and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.01)

    def _finish(self) -> int:
        if self.cgroup is not None:
            self.status["process_limit_hits"] = _pids_limit_hits(self.cgroup)
            leave_cgroup(self.cgroup)
        exit_ = self.kernel_exit or {"code": None, "signal": None}
        self.status.update(finished=True, kernel_exit=exit_, stop_reason=self.stop_reason,
                           ignored_signals=self.ignored)
        self._write_status()
        if exit_.get("signal"):
            return 128 + exit_["signal"]
        return exit_.get("code") or 0

    def _write_status(self) -> None:
        if self.run_dir is None:
            return
        tmp = self.run_dir / f".{STATUS_FILE}.tmp"
        tmp.write_text(json.dumps(self.status), encoding="utf-8")
        os.replace(tmp, self.run_dir / STATUS_FILE)


def _say(message: str) -> None:
    os.write(2, f"aisci sandbox: {message}\n".encode())


def _alive(pid: int) -> bool:
    return pid > 0 and os.path.exists(f"/proc/{pid}")


def _proc_stats() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, pgid, threads) for every process we can see."""
    stats = {}
    try:
        entries = os.listdir("/proc")
    except OSError:  # no /proc (not Linux): nothing to watch
        return stats
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), int(fields[2]), int(fields[17]))
    return stats


def _descendants(root: int) -> dict[int, int]:
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found[pid] = stats[pid][2]
            todo += children.get(pid, [])
    return found


def _tasks_of_uid(uid: int) -> list[tuple[int, int]]:
    out = []
    for pid, (_, _, threads) in _proc_stats().items():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                out.append((pid, threads))
        except OSError:
            pass
    return out


def _prctl(option: int, value: int) -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


# ----------------------------------------------------------------------------- cgroups


def pids_cgroup_parent() -> tuple[Path | None, str]:
    """The pids cgroup this process is in (v1 hierarchy or v2), where children may be made."""
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError as exc:
        return None, f"cgroups unreadable ({exc})"
    v1 = v2 = None
    for line in memberships:
        hierarchy, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            v1 = path
        elif hierarchy == "0" and controllers == "":
            v2 = path
    for line in mounts:
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(fields) < 5 or len(rfields) < 3:
            continue
        root, mount_point, fstype, options = fields[3], fields[4], rfields[0], rfields[2].split(",")
        if v1 is not None and fstype == "cgroup" and "pids" in options:
            return _under(mount_point, root, v1), ""
        if v1 is None and v2 is not None and fstype == "cgroup2":
            where = _under(mount_point, root, v2)
            try:
                delegated = "pids" in (where / "cgroup.subtree_control").read_text().split()
            except OSError:
                delegated = False
            if delegated:
                return where, ""
            return None, f"cgroup v2 at {where} does not delegate the pids controller"
    return None, "no pids cgroup hierarchy is mounted"


def _under(mount_point: str, mount_root: str, path: str) -> Path:
    relative = os.path.relpath(path, mount_root)
    return Path(mount_point) if relative == "." else Path(mount_point) / relative


def join_pids_cgroup(name: str, max_tasks: int) -> tuple[Path | None, str]:
    parent, why = pids_cgroup_parent()
    if parent is None:
        return None, why
    group = parent / name
    try:
        group.mkdir()
    except OSError as exc:
        return None, f"cannot create a cgroup in {parent} ({exc.strerror})"
    try:
        (group / "pids.max").write_text(str(max_tasks))
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as exc:
        try:
            group.rmdir()
        except OSError:
            pass
        return None, f"cannot use a cgroup in {parent} ({exc.strerror})"
    return group, ""


def leave_cgroup(group: Path) -> None:
    """Move this process back to the parent group and remove ours (it must be empty)."""
    try:
        (group.parent / "cgroup.procs").write_text(str(os.getpid()))
        group.rmdir()
    except OSError as exc:
        _say(f"could not remove the cgroup {group} ({exc.strerror})")


def _cgroup_pids(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _pids_limit_hits(group: Path) -> int:
    try:
        for line in (group / "pids.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "max":
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def end_cgroup(group: Path) -> int:
    """Kill every process in a cgroup we made (all of them ours), then remove it."""
    killed = 0
    for _ in range(200):
        pids = _cgroup_pids(group)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    try:
        group.rmdir()
    except OSError:
        pass
    return killed


# ----------------------------------------------------------------------------- host side


class SandboxRun:
    """One sandboxed kernel seen from aisci: its run folder in the node folder (connection
    file, ipc sockets: the kernel sees them), a private folder it does not see (the launcher's
    status, the made-up /etc/passwd), the command (launcher, then bubblewrap, then the
    kernel), and the clean-up afterwards."""

    def __init__(self, settings: SandboxSettings, cwd: Path):
        from aisci.execution import bubblewrap

        bubblewrap.require(settings.allow_network)  # fail closed: no sandbox, no generated code
        self.settings = settings
        self.cwd = Path(cwd)
        self.run_id = uuid.uuid4().hex[:12]
        self.dir = self.cwd / RUN_DIR_NAME
        if self.dir.exists():  # left by a run that was killed
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, mode=0o700)
        self.private = Path(tempfile.mkdtemp(prefix="aisci-sandbox-"))
        self._short_dir = None
        prefix = self.dir / "ipc"
        if len(str(prefix)) + 3 > UNIX_SOCKET_PATH_MAX:  # deep node folders: sockets go to a private temp dir
            self._short_dir = tempfile.mkdtemp(prefix="aisci-ipc-")
            prefix = Path(self._short_dir) / "k"
        self.ipc_prefix = str(prefix)
        self.connection_file = self.dir / "connection.json"
        self.status_file = self.private / STATUS_FILE

    def command(self, kernel_argv: list[str], pythonpath: str = "") -> list[str]:
        from aisci.execution import bubblewrap

        walls = bubblewrap.Walls(
            workdir=self.cwd, read_only=tuple(Path(p) for p in self.settings.read_only),
            hidden=tuple(Path(p) for p in self.settings.hidden),
            writable_extra=(Path(self._short_dir),) if self._short_dir else (),
            allow_network=self.settings.allow_network, tmp_mb=self.settings.memory_mb, files=self._identity_files())
        # -S: the launcher needs the standard library only, and site's .pth files cost start-up time
        launcher = [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--run-dir", str(self.private),
                    "--parent-pid", str(os.getpid()), "--signal-exit-codes", "--cgroup-name", f"aisci-{self.run_id}",
                    *self.settings.launcher_args(), "--"]
        return launcher + bubblewrap.command(walls, kernel_argv, pythonpath)

    def _identity_files(self) -> dict[str, Path]:
        """/etc/passwd and /etc/group naming only the kernel's user (programs look the user up)."""
        from aisci.execution.bubblewrap import SANDBOX_HOME

        uid, gid = os.getuid(), os.getgid()
        name = "root" if uid == 0 else "researcher"
        passwd, group = self.private / "passwd", self.private / "group"
        passwd.write_text(f"{name}:x:{uid}:{gid}::{SANDBOX_HOME}:/usr/sbin/nologin\n"
                          "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n", encoding="utf-8")
        group.write_text(f"{name}:x:{gid}:\nnogroup:x:65534:\n", encoding="utf-8")
        return {"/etc/passwd": passwd, "/etc/group": group}

    def env(self) -> dict[str, str]:
        from aisci.execution.bubblewrap import SANDBOX_HOME, SANDBOX_MPLCONFIGDIR

        # glibc reserves 64 MiB of address space per thread arena: without a cap, an idle
        # kernel's threads alone would eat a good part of an address-space limit
        return {RUN_MARKER_ENV: self.run_id, "MALLOC_ARENA_MAX": "2", "HOME": SANDBOX_HOME,
                "MPLCONFIGDIR": SANDBOX_MPLCONFIGDIR}

    def status(self) -> dict:
        try:
            return json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def finish(self) -> dict:
        """End whatever the kernel left running, remove the run folders; return the status."""
        status = self.status()
        deadline = time.monotonic() + 2  # the launcher may still be writing its last word
        while status.get("launcher_pid") and not status.get("finished") and _alive(status["launcher_pid"]) \
                and time.monotonic() < deadline:
            time.sleep(0.02)
            status = self.status()
        cgroup = Path(status["cgroup"]) if status.get("cgroup") else None
        if cgroup is not None and cgroup.name == f"aisci-{self.run_id}" and cgroup.exists():
            status["leftovers_killed"] = end_cgroup(cgroup)
        elif status.get("launcher_pid") and not status.get("finished"):
            status["leftovers_killed"] = self._end_marked_group(status["launcher_pid"])
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.private, ignore_errors=True)
        if self._short_dir:
            shutil.rmtree(self._short_dir, ignore_errors=True)
        return status

    def _end_marked_group(self, pgid: int) -> int:
        """The launcher was killed before it could clean up and there is no cgroup: end the
        processes of its group that carry this run's marker (a process group id is not
        reused while the group exists; the marker guards the moment after it is gone)."""
        marker = f"{RUN_MARKER_ENV}={self.run_id}".encode()
        killed = 0
        for pid, (_, group, _) in _proc_stats().items():
            if group != pgid:
                continue
            try:
                if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            except OSError:
                pass
        return killed


def describe_exit(status: dict, settings: SandboxSettings) -> str:
    """One line: why the sandboxed kernel ended before the notebook did."""
    if not status:
        return "the kernel died before the sandbox launcher reported anything"
    if not status.get("finished"):
        return "the sandbox launcher was killed (by the kernel or from outside); the kernel's processes were ended"
    if status.get("stop_reason") == "process_limit":
        return (f"the kernel exceeded the process limit ({settings.max_processes} processes and threads; "
                f"{status.get('process_limit_hit')} counted) and was stopped")
    exit_ = status.get("kernel_exit") or {}
    sig, code, cpu = exit_.get("signal"), exit_.get("code"), exit_.get("cpu_s") or 0
    if status.get("stop_reason"):
        return f"the kernel was {status['stop_reason']}"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and settings.cpu_seconds and cpu >= settings.cpu_seconds):
        return f"the kernel reached its CPU-time limit ({settings.cpu_seconds} s) and was stopped ({signal_name(sig)})"
    if sig:
        memory = (f"; under the memory limit of {settings.memory_mb} MB a failed allocation in native code ends this way"
                  if settings.memory_mb and sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) else "")
        return f"the kernel was killed by {signal_name(sig)} (signal {sig}){memory}"
    if code is not None:
        return f"the kernel process exited with status {code} before the notebook finished (os._exit or a crash)"
    return "the kernel died"


def exit_summary(status: dict) -> str:
    """How the kernel process ended, in a few words ("exited with status 1", "was killed by SIGSEGV")."""
    exit_ = status.get("kernel_exit") or {}
    if exit_.get("signal"):
        return f"was killed by {signal_name(exit_['signal'])}"
    if exit_.get("code") is not None:
        return f"exited with status {exit_['code']}"
    return "ended without a report"


def describe_error(ename: str, evalue: str, status: dict, settings: SandboxSettings) -> str | None:
    """A cell's error that a sandbox limit caused, explained; None when it is an ordinary error."""
    text = f"{ename}: {evalue}"
    if settings.memory_mb and ("MemoryError" in ename or "Cannot allocate memory" in evalue
                               or "can't allocate memory" in evalue):
        return f"the memory limit ({settings.memory_mb} MB per process) was reached: {text}"
    out_of_tasks = "Resource temporarily unavailable" in evalue or "can't start new thread" in evalue
    if settings.max_processes and out_of_tasks and (status.get("process_limit_hits") or ename == "BlockingIOError"):
        return f"the process limit ({settings.max_processes} processes and threads) was reached: {text}"
    return None


_PROBE: dict | None = None


def probe() -> dict:
    """What the sandbox can do on this machine (asked once per process, in a child)."""
    global _PROBE
    if _PROBE is None:
        import subprocess

        out = subprocess.run([sys.executable, "-I", str(Path(__file__).resolve()), "--probe"],
                             capture_output=True, text=True, timeout=30, check=False)
        _PROBE = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr.strip()[-300:]}
    return _PROBE


def _probe_here() -> dict:
    parent, why = pids_cgroup_parent()
    cgroup = None
    if parent is not None:
        trial = parent / f"aisci-probe-{os.getpid()}"
        try:
            trial.mkdir()
            cgroup = (trial / "pids.max").exists()
            trial.rmdir()
            why = "" if cgroup else f"no pids.max in {parent}"
        except OSError as exc:
            why = f"cannot create a cgroup in {parent} ({exc.strerror})"
    return {"euid": os.geteuid(), "pids_cgroup": bool(cgroup), "pids_cgroup_problem": why}


# ----------------------------------------------------------------------------- entry point


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m aisci.execution.sandbox",
                                     description="Start a kernel (the command after --) under the sandbox's limits.")
    parser.add_argument("--memory-mb", type=int, default=None, help="address-space limit per process")
    parser.add_argument("--cpu-s", type=int, default=None, help="CPU-time limit per process")
    parser.add_argument("--nproc", type=int, default=None, help="processes and threads in the kernel's tree")
    parser.add_argument("--no-cgroup", action="store_true", help="count the tree instead of using a pids cgroup")
    parser.add_argument("--cgroup-name", default=None)
    parser.add_argument("--run-dir", default=None, help="where sandbox.json is written")
    parser.add_argument("--signal-exit-codes", action="store_true",
                        help="the command is a wrapper (bubblewrap) that exits with 128 + the kernel's signal")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="the process that starts us: if it is gone already, start nothing")
    parser.add_argument("--probe", action="store_true", help="print what works on this machine as JSON")
    parser.add_argument("kernel", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.kernel and args.kernel[0] == "--":
        args.kernel = args.kernel[1:]
    if not args.probe and not args.kernel:
        parser.error("give the kernel command after --")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.probe:
        print(json.dumps(_probe_here()))
        return 0
    return Launcher(args).run()


if __name__ == "__main__":
    sys.exit(main())
