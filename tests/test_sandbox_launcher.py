"""The sandbox launcher on its own (no Jupyter, no bubblewrap): limits, the process tree,
signals, and what it reports in sandbox.json; also as an unprivileged user where possible.
The network is bubblewrap's to cut: tests/test_sandbox_walls.py, test_sandbox_hostile.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from aisci.execution import sandbox
from aisci.execution.sandbox import probe

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox launcher is Linux-first")
LAUNCHER = Path(sandbox.__file__).resolve()


def launch(run_dir: Path, code: str, *flags: str, python: str = sys.executable, user: list[str] | None = None,
           launcher: Path = LAUNCHER) -> tuple[subprocess.CompletedProcess, dict]:
    run_dir.mkdir(parents=True, exist_ok=True)
    argv = [*(user or []), python, "-I", str(launcher), "--run-dir", str(run_dir),
            "--cgroup-name", f"aisci-test-{os.getpid()}-{run_dir.name}", *flags, "--", python, "-c", code]
    done = subprocess.run(argv, cwd=run_dir, capture_output=True, text=True, timeout=60, check=False)
    return done, json.loads((run_dir / "sandbox.json").read_text())


def test_the_kernel_gets_its_limits_and_the_launcher_mirrors_its_exit(tmp_path):
    done, status = launch(tmp_path, "import resource, sys\nprint(resource.getrlimit(resource.RLIMIT_AS)[0], "
                                    "resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_CORE))\n"
                                    "sys.exit(7)", "--memory-mb", "512", "--cpu-s", "9")
    assert done.stdout.split("\n")[0] == f"{512 * 1024 * 1024} (9, 14) (0, 0)"
    assert done.returncode == 7 and status["finished"] and status["kernel_exit"]["code"] == 7


def test_a_kernel_killed_by_a_signal_is_reported_with_it(tmp_path):
    done, status = launch(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert done.returncode == 128 + signal.SIGSEGV and status["kernel_exit"]["signal"] == signal.SIGSEGV
    assert "SIGSEGV" in sandbox.describe_exit(status, sandbox.SandboxSettings())


def test_signals_from_inside_are_ignored_and_leftovers_ended(tmp_path):
    code = ("import os, signal, subprocess, time\n"
            "child = subprocess.Popen(['sleep', '60'], start_new_session=True)\n"  # leaves the process group
            "open('child.pid', 'w').write(str(child.pid))\n"
            "os.kill(os.getppid(), signal.SIGTERM)\nos.kill(os.getppid(), signal.SIGHUP)\ntime.sleep(0.3)\nprint('alive')")
    done, status = launch(tmp_path, code, "--nproc", "32")
    assert done.stdout.strip() == "alive" and done.returncode == 0
    assert sorted(s["signal"] for s in status["ignored_signals"]) == ["SIGHUP", "SIGTERM"]
    assert not os.path.exists(f"/proc/{(tmp_path / 'child.pid').read_text()}/cwd"), "the escaped child was ended"


def test_a_stop_from_the_parent_ends_the_tree(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    argv = [sys.executable, "-I", str(LAUNCHER), "--run-dir", str(tmp_path), "--", sys.executable, "-c",
            "import time\nopen('started', 'w').close()\ntime.sleep(60)"]
    process = subprocess.Popen(argv, cwd=tmp_path)
    for _ in range(300):
        if (tmp_path / "started").exists():
            break
        subprocess.run(["sleep", "0.02"], check=True)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 128 + signal.SIGKILL
    status = json.loads((tmp_path / "sandbox.json").read_text())
    assert status["stop_reason"].startswith("stopped by SIGTERM from pid")


SPAWN_LOOP = ("import subprocess, time\nn = 0\ntry:\n    while True:\n        subprocess.Popen(['sleep', '60'])\n"
              "        n += 1\n        time.sleep(0.02)\nexcept OSError as exc:\n    print('refused after', n, exc)\n")


def test_the_watcher_ends_a_tree_past_the_process_limit(tmp_path):
    _, status = launch(tmp_path, SPAWN_LOOP, "--nproc", "12", "--no-cgroup")
    assert status["process_limit"] in ("watch", "watch+rlimit") and status["stop_reason"] == "process_limit"
    assert status["process_limit_hit"] > 12
    assert "process limit (12" in sandbox.describe_exit(status, sandbox.SandboxSettings(max_processes=12))


def test_the_pids_cgroup_refuses_the_fork_and_is_removed(tmp_path):
    if not probe().get("pids_cgroup"):
        pytest.skip(f"no pids cgroup here: {probe().get('pids_cgroup_problem')}")
    done, status = launch(tmp_path, SPAWN_LOOP, "--nproc", "12")
    assert status["process_limit"] == "cgroup" and "refused after" in done.stdout
    assert status["process_limit_hits"] >= 1 and not Path(status["cgroup"]).exists()


def unprivileged_python() -> str | None:
    """A Python that anybody may run (the test Python may live under a private /root)."""
    def open_to_all(path: Path) -> bool:
        path = path.resolve()
        return bool(path.stat().st_mode & 0o005 == 0o005) and all(p.stat().st_mode & 0o001 for p in path.parents)

    for candidate in (sys.executable, shutil.which("python3") or "", "/usr/bin/python3"):
        if candidate and Path(candidate).exists() and open_to_all(Path(candidate)):
            return candidate
    return None


def test_as_an_unprivileged_user(request):
    """No cgroup for this user: the watcher (and RLIMIT_NPROC) limit processes, and what the
    kernel writes stays the user's own."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to switch to the user nobody")
    python = unprivileged_python()
    if python is None:
        pytest.skip("no Python that the user nobody can run")
    shared = Path(tempfile.mkdtemp(prefix="aisci-nobody-"))  # pytest's own tmp is private to root
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    launcher = shared / "sandbox.py"
    shutil.copy(LAUNCHER, launcher)  # stdlib only: it runs as a plain script
    os.chmod(launcher, 0o644)
    run_dir = shared / "node"
    run_dir.mkdir()
    for path in (shared, run_dir):
        os.chown(path, 65534, 65534)
    code = ("import os, resource, socket\nopen('written', 'w').write('x')\n"
            "print(os.getuid(), resource.getrlimit(resource.RLIMIT_NPROC)[0] > 0)\n" + SPAWN_LOOP)
    done, status = launch(run_dir, code, "--nproc", "12", python=python, launcher=launcher,
                          user=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    assert status["process_limit"] == "watch+rlimit" and "Permission denied" in status["cgroup_unavailable"]
    assert status["stop_reason"] == "process_limit" or "refused after" in done.stdout, (done.stdout, status)
    assert (run_dir / "written").stat().st_uid == 65534
    assert subprocess.run(["pgrep", "-u", "nobody", "sleep"], capture_output=True, check=False).returncode == 1
