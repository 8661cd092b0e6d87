"""Executors: the local process pool runs nodes side by side, each in its own folder; a
hostile node is reported while the others finish; the config picks the executor."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from concurrent.futures import wait
from pathlib import Path

import pytest

from aisci.config import parse_config
from aisci.errors import ConfigError
from aisci.executors import NodeJob, SerialExecutor, make_executor, sandbox_settings
from aisci.executors.local import LocalExecutor, _worker_death_as_result
from aisci.execution import build
from aisci.execution.sandbox import SandboxSettings
from tests.conftest import sandbox_processes
from aisci.records import read_records

SMALL = SandboxSettings(memory_mb=2048, cpu_seconds=60, max_processes=64)


def toy_nodes(root: Path, template: Path, count: int, **parameters) -> list[NodeJob]:
    """The toy baseline copied into `count` node folders (seed = node number)."""
    jobs = []
    for i in range(count):
        folder = root / f"node-{i}"
        folder.mkdir(parents=True)
        shutil.copy(template / "baseline.ipynb", folder / "experiment.ipynb")
        jobs.append(NodeJob(folder / "experiment.ipynb", folder, timeout_s=60, sandbox=SMALL,
                            parameters={"seed": i, **parameters}))
    return jobs


def hostile_node(root: Path, name: str, source: str, timeout_s: float = 30) -> NodeJob:
    folder = root / name
    folder.mkdir(parents=True)
    nb = build.notebook(name, build.AISCI_AUTHOR)
    nb.cells.append(build.code(source))
    build.write(nb, folder / "experiment.ipynb")
    return NodeJob(folder / "experiment.ipynb", folder, timeout_s=timeout_s, sandbox=SMALL)


def assert_own_folder_only(job: NodeJob) -> None:
    files = {p.name for p in job.cwd.iterdir()}
    assert files == {"experiment.ipynb", "history.csv", "kernel.log"}, files
    assert read_records(job.notebook)[0].name == "final_loss"


def interval(job: NodeJob) -> tuple[dt.datetime, dt.datetime]:
    cells = [c for c in build.read(job.notebook).cells if c.cell_type == "code"]
    start = cells[0].metadata["papermill"]["start_time"]
    end = cells[-1].metadata["papermill"]["end_time"]
    return dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)


def test_the_local_pool_runs_nodes_side_by_side_in_their_own_folders(tmp_path, toy_template):
    jobs = toy_nodes(tmp_path, toy_template, 4, pause_s=0.5)
    with LocalExecutor(workers=2) as executor:
        results = [f.result(timeout=120) for f in [executor.submit(job) for job in jobs]]
    assert [r.status for r in results] == ["ok"] * 4, [r.reason for r in results]
    for job in jobs:
        assert_own_folder_only(job)
    spans = sorted(interval(job) for job in jobs)
    assert any(b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(spans)), "two nodes overlapped"
    injected = [next(c.source for c in build.read(j.notebook).cells
                     if "injected-parameters" in c.metadata.get("tags", [])) for j in jobs]
    assert [f"seed = {i}" in source for i, source in enumerate(injected)] == [True] * 4


def test_hostile_nodes_are_reported_while_the_others_finish(tmp_path, toy_template):
    good = toy_nodes(tmp_path, toy_template, 2)
    bad = [hostile_node(tmp_path, "exits", "import os\nos._exit(1)"),
           hostile_node(tmp_path, "loops", "while True:\n    pass", timeout_s=3),
           hostile_node(tmp_path, "hogs", "hog = bytearray(64 * 1024**3)")]
    with LocalExecutor(workers=2) as executor:
        futures = {job.cwd.name: executor.submit(job) for job in bad + good}
        wait(futures.values(), timeout=180)
    results = {name: f.result() for name, f in futures.items()}
    assert results["node-0"].ok and results["node-1"].ok
    assert results["exits"].status == "died" and "status 1" in results["exits"].reason
    assert results["loops"].status == "timed_out"
    assert results["hogs"].status == "failed" and "memory limit (2048 MB" in results["hogs"].reason
    for job in good:
        assert_own_folder_only(job)


def test_a_dead_worker_is_a_dead_node_and_the_pool_recovers(tmp_path, toy_template):
    with LocalExecutor(workers=1) as executor:
        crashed = _worker_death_as_result(executor._pool.submit(os._exit, 1)).result(timeout=60)
        assert crashed.status == "died" and "worker process" in crashed.reason
        [job] = toy_nodes(tmp_path, toy_template, 1)
        assert executor.submit(job).result(timeout=60).ok


def test_the_serial_executor_runs_the_sandbox_by_default(tmp_path, toy_template):
    folder = tmp_path / "node"
    folder.mkdir()
    shutil.copy(toy_template / "baseline.ipynb", folder / "experiment.ipynb")
    job = NodeJob(folder / "experiment.ipynb", folder, timeout_s=60)
    assert job.sandbox == SandboxSettings()
    result = SerialExecutor().submit(job).result()
    assert result.ok and (folder / "kernel.log").exists()


def config(**experiments):
    return parse_config({"study": {"topic": "toy"}, "experiments": experiments})


def test_the_config_picks_the_executor_and_the_sandbox():
    assert isinstance(make_executor(config(workers=1)), SerialExecutor)  # the default, "auto", fits the cores
    with make_executor(config(workers=2)) as executor:
        assert isinstance(executor, LocalExecutor) and executor.workers == 2
    settings = sandbox_settings(config(memory_mb=1024, cpu_seconds=30, max_processes=16, allow_network=True))
    assert settings == SandboxSettings(memory_mb=1024, cpu_seconds=30, max_processes=16, allow_network=True)
    assert sandbox_settings(config(sandbox="none", sandbox_reason="a throwaway VM")) is None
    assert sandbox_settings(config()) == SandboxSettings()
    assert sandbox_settings(config(), read_only=(Path("/t"),), hidden=(Path("/s"),)) == SandboxSettings(
        read_only=("/t",), hidden=("/s",))


def test_studies_from_before_keep_their_sandbox_setting():
    """`sandbox = true` / `false` of earlier studies load as "bubblewrap" / "none"."""
    assert config(sandbox=True).experiments.sandbox == "bubblewrap"
    assert config(sandbox=False).experiments.sandbox == "none" and sandbox_settings(config(sandbox=False)) is None
    with pytest.raises(ConfigError, match="experiments.sandbox"):
        config(sandbox="docker")


def test_bad_executor_settings_are_one_line_errors():
    with pytest.raises(ConfigError, match="experiments.max_processes"):
        config(max_processes=2)
    with pytest.raises(ConfigError, match="experiments.executor"):
        config(executor="slurm")


HOST_SCRIPT = '''
import sys, time
from pathlib import Path
if __name__ == "__main__":
    from aisci.executors import NodeJob
    from aisci.execution import build
    from aisci.execution.sandbox import SandboxSettings
    node = Path(sys.argv[2])
    nb = build.notebook("victim", build.AISCI_AUTHOR)
    nb.cells.append(build.code("import os, time\\nopen('kernel.started', 'w').write('1')\\ntime.sleep(300)"))
    build.write(nb, node / "nb.ipynb")
    if sys.argv[1] == "local":
        from aisci.executors.local import LocalExecutor
        executor = LocalExecutor(workers=2)
    else:
        from aisci.executors.dask_executor import DaskExecutor
        executor = DaskExecutor(workers=1)
    executor.submit(NodeJob(node / "nb.ipynb", node, 300, sandbox=SandboxSettings(memory_mb=2048)))
    time.sleep(300)
'''


@pytest.mark.slow  # a pool (or a cluster) and a kernel start, then a kill: about ten seconds
@pytest.mark.parametrize("kind", ["local", "dask"])
def test_killing_aisci_ends_the_nodes_its_executor_was_running(tmp_path, kind):
    import subprocess
    import sys
    import time

    if kind == "dask":
        pytest.importorskip("distributed")
    script = tmp_path / "host.py"
    script.write_text(HOST_SCRIPT)
    node = tmp_path / "node"
    node.mkdir()
    host = subprocess.Popen([sys.executable, str(script), kind, str(node)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (node / "kernel.started").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sandbox_processes(node), "the kernel runs"
    host.kill()
    host.wait()
    deadline = time.monotonic() + 20
    while sandbox_processes(node) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not sandbox_processes(node), "the kernel of the killed study was ended"
