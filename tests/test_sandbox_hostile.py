"""Hostile notebooks in the sandboxed kernel: each is contained and reported with a clear
reason, and this (the aisci) process carries on. Limits are kept low: this is a small machine."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest

from aisci.execution import bubblewrap, build
from aisci.execution.execute import execute_notebook
from aisci.execution.sandbox import (
    RUN_DIR_NAME,
    SandboxRun,
    SandboxSettings,
    probe,
)
from tests.conftest import sandbox_processes

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="the sandbox needs Linux /proc"),
    pytest.mark.skipif(bubblewrap.problem() is not None, reason=f"bubblewrap cannot run here: {bubblewrap.problem()}"),
]

LOW = SandboxSettings(memory_mb=1024, cpu_seconds=20, max_processes=48)


def run(tmp_path, *sources, settings=LOW, timeout_s=30):
    nb = build.notebook("hostile", build.AISCI_AUTHOR)
    nb.cells += [build.code(s) for s in sources]
    path = tmp_path / "node" / "experiment.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    build.write(nb, path)
    result = execute_notebook(path, path, cwd=path.parent, timeout_s=timeout_s, sandbox=settings,
                              kernel_log=path.parent / "kernel.log")
    assert not (path.parent / RUN_DIR_NAME).exists(), "the run folder (ipc sockets, status) is removed"
    return result, build.read(path)


def text_of(nb) -> str:
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) + o.get("evalue", "")
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def sandboxed_processes(under: Path) -> list[int]:
    return sandbox_processes(under)


@pytest.fixture(autouse=True)
def sandbox_statuses(monkeypatch):
    """What each sandbox reported at its end; afterwards, its cgroup must be gone."""
    seen = []
    finish = SandboxRun.finish

    def recording_finish(self):
        status = finish(self)
        seen.append(status)
        return status

    monkeypatch.setattr(SandboxRun, "finish", recording_finish)
    yield seen
    for status in seen:
        if status.get("cgroup"):
            assert not Path(status["cgroup"]).exists(), "the kernel's cgroup was removed"


def test_a_well_behaved_notebook_runs_in_its_folder_with_its_limits(tmp_path):
    result, nb = run(tmp_path, "import os, resource\nprint(os.getcwd())\n"
                               "print('AS', resource.getrlimit(resource.RLIMIT_AS)[0])\n"
                               "print('parent', os.getppid())\nopen('made-here.txt', 'w').write('x')")
    assert result.ok, result.reason
    out = text_of(nb)
    assert str(tmp_path / "node") in out and f"AS {1024 * 1024 * 1024}" in out
    assert f"parent {os.getpid()}" not in out, "the launcher, not aisci, is the kernel's parent"
    assert (tmp_path / "node" / "made-here.txt").exists() and (tmp_path / "node" / "kernel.log").exists()


def test_an_infinite_loop_is_stopped_by_the_wall_time_limit(tmp_path):
    result, _ = run(tmp_path, "while True:\n    pass", timeout_s=3)
    assert result.status == "timed_out" and "3 s wall-time limit" in result.reason
    assert not sandboxed_processes(tmp_path)


def test_a_cpu_burner_is_stopped_by_the_cpu_limit(tmp_path):
    settings = SandboxSettings(memory_mb=1024, cpu_seconds=2, max_processes=48)
    result, _ = run(tmp_path, "while True:\n    pass", settings=settings, timeout_s=60)
    assert result.status == "died" and "CPU-time limit (2 s)" in result.reason, result.reason


def test_allocating_far_more_memory_than_allowed_is_reported_as_the_memory_limit(tmp_path):
    result, _ = run(tmp_path, "hog = bytearray(16 * 1024**3)", "print('not reached')")
    assert result.status == "failed" and "memory limit (1024 MB" in result.reason and "MemoryError" in result.reason


@pytest.mark.slow  # several seconds: a kernel start plus the limit being reached
def test_a_growing_allocation_is_stopped_at_the_memory_limit(tmp_path):
    result, _ = run(tmp_path, "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024**2))")
    assert result.status in ("failed", "died") and "memory limit" in result.reason, result.reason


FORK_LOOP = ("import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(120)\n"
             "        os._exit(0)")


@pytest.mark.parametrize("use_cgroup", [True, False], ids=["pids-cgroup", "watcher"])
def test_a_fork_loop_hits_the_process_limit(tmp_path, use_cgroup, sandbox_statuses):
    if use_cgroup and not probe().get("pids_cgroup"):
        pytest.skip(f"no pids cgroup here: {probe().get('pids_cgroup_problem')}")
    settings = SandboxSettings(memory_mb=1024, cpu_seconds=20, max_processes=32, use_cgroup=use_cgroup)
    result, _ = run(tmp_path, FORK_LOOP, settings=settings)
    assert result.status in ("failed", "died") and "process limit (32" in result.reason, result.reason
    assert sandbox_statuses[-1]["process_limit"] == ("cgroup" if use_cgroup else "watch")
    assert not sandboxed_processes(tmp_path), "every forked child was ended"


@pytest.mark.slow  # several seconds: a kernel start plus the limit being reached
def test_a_fork_bomb_is_bounded_by_the_pids_cgroup(tmp_path):
    if not probe().get("pids_cgroup"):
        pytest.skip(f"no pids cgroup here: {probe().get('pids_cgroup_problem')}")
    settings = SandboxSettings(memory_mb=1024, cpu_seconds=10, max_processes=24)
    result, _ = run(tmp_path, "import os\nwhile True:\n    os.fork()", settings=settings, timeout_s=20)
    assert not result.ok and ("process limit (24" in result.reason or result.status == "timed_out"), result.reason
    assert not sandboxed_processes(tmp_path)


def test_the_environment_holds_no_api_keys(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"):
        monkeypatch.setenv(name, "sk-leaked-" + name)
    result, nb = run(tmp_path, "import os\nprint(sorted(os.environ))\n"
                               "print([v for v in os.environ.values() if v.startswith('sk-')])")
    assert result.ok
    assert "sk-leaked" not in text_of(nb) and "OPENAI_API_KEY" not in text_of(nb)


@pytest.fixture
def listening_server():
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


CONNECT = "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=5)\nprint('connected')"


def test_the_network_is_unreachable_without_permission(tmp_path, listening_server):
    port, accepted = listening_server
    result, nb = run(tmp_path, CONNECT.format(port=port))
    assert result.status == "failed" and "ConnectionRefusedError" in result.reason, result.reason
    assert not accepted and "connected" not in text_of(nb)


def test_a_study_that_allows_the_network_reaches_the_server(tmp_path, listening_server):
    port, accepted = listening_server
    settings = SandboxSettings(memory_mb=1024, cpu_seconds=20, max_processes=48, allow_network=True)
    result, nb = run(tmp_path, CONNECT.format(port=port), settings=settings)
    assert result.ok and "connected" in text_of(nb) and len(accepted) == 1


def test_os_exit_is_a_death_with_its_status(tmp_path):
    result, _ = run(tmp_path, "import os\nos._exit(1)", "print('not reached')")
    assert result.status == "died" and "exited with status 1" in result.reason


def test_sys_exit_zero_counts_as_success_and_stops_the_notebook(tmp_path):
    result, nb = run(tmp_path, "print('before')", "import sys\nsys.exit(0)", "print('after')")
    assert result.ok and "before" in text_of(nb) and "after" not in text_of(nb)
    assert any("sys.exit(0)" in note and "1 later code cells not run" in note for note in result.notes)


def test_sys_exit_nonzero_is_a_failure(tmp_path):
    result, _ = run(tmp_path, "import sys\nsys.exit(3)")
    assert result.status == "failed" and result.reason == "SystemExit: 3"


def test_a_kernel_that_signals_everything_it_sees_hurts_nobody(tmp_path):
    me = os.getpid()
    result, nb = run(tmp_path, "import os, signal, time\nprint('parent', os.getppid())\n"
                               "os.kill(os.getppid(), signal.SIGTERM)\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(0.5)", "print('still running')")
    assert os.getpid() == me  # we are here to check
    assert result.ok and "still running" in text_of(nb), result.reason
    assert "parent 1" in text_of(nb), "its parent is the sandbox's own init, not the launcher or aisci"


def test_a_process_started_outside_the_sandbox_cannot_be_signalled(tmp_path):
    import subprocess

    outsider = subprocess.Popen(["sleep", "60"])
    try:
        result, nb = run(tmp_path, f"import os, signal\ntry:\n    os.kill({outsider.pid}, signal.SIGKILL)\n"
                                   "    print('killed it')\nexcept OSError as exc:\n    print('refused', type(exc).__name__)")
        assert result.ok and "refused ProcessLookupError" in text_of(nb)
        assert outsider.poll() is None, "the process outside is alive"
    finally:
        outsider.kill()
        outsider.wait()


def test_a_deep_node_folder_still_gets_its_sockets(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    result, nb = run(deep, "print(6 * 7)")
    assert result.ok and "42" in text_of(nb)


def test_the_kernel_cannot_start_under_an_absurd_memory_limit(tmp_path):
    settings = SandboxSettings(memory_mb=40, cpu_seconds=20, max_processes=48)
    result, _ = run(tmp_path, "print(1)", settings=settings, timeout_s=20)
    assert result.status == "died" and "did not start under the sandbox" in result.reason, result.reason
    assert "memory 40 MB" in result.reason


def test_signals_map_to_reasons():
    from aisci.execution.sandbox import describe_exit
    settings = SandboxSettings(memory_mb=512, cpu_seconds=5)
    done = {"finished": True, "stop_reason": None}
    assert "SIGSEGV" in describe_exit({**done, "kernel_exit": {"signal": signal.SIGSEGV}}, settings)
    assert "memory limit of 512 MB" in describe_exit({**done, "kernel_exit": {"signal": signal.SIGABRT}}, settings)
    assert "CPU-time limit (5 s)" in describe_exit({**done, "kernel_exit": {"signal": signal.SIGXCPU}}, settings)
    assert "status 2" in describe_exit({**done, "kernel_exit": {"code": 2, "signal": None}}, settings)
    assert "launcher was killed" in describe_exit({"launcher_pid": 1, "finished": False}, settings)


# kill -9 of aisci while a kernel starts or computes: tests/test_sandbox_walls.py
