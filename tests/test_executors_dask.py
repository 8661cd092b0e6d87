"""Dask: a LocalCluster with 2 workers runs 4 nodes of one study; a scheduler address from
the config sends jobs to a cluster started elsewhere; the cluster is always closed."""

from __future__ import annotations

import shutil
import socket

import pytest

pytest.importorskip("distributed")

from aisci.config import load_config
from aisci.errors import ConfigError
from aisci.executors import NodeJob, make_executor, sandbox_settings
from aisci.executors.dask_executor import DaskExecutor
from aisci.records import read_records
from tests.study_helpers import init_study, set_config


def study_nodes(study, count: int) -> list[NodeJob]:
    """`count` nodes of the study: the template's baseline in experiments/dask-test/node-i."""
    settings = sandbox_settings(load_config(study))
    jobs = []
    for i in range(count):
        folder = study / "experiments" / "dask-test" / f"node-{i}"
        folder.mkdir(parents=True)
        shutil.copy(study / "template" / "baseline.ipynb", folder / "experiment.ipynb")
        jobs.append(NodeJob(folder / "experiment.ipynb", folder, timeout_s=60, sandbox=settings,
                            parameters={"seed": i % 3}))
    return jobs


def test_a_local_cluster_with_two_workers_runs_four_nodes_of_a_study(tmp_path, toy_template):
    study = init_study(tmp_path / "study", toy_template)
    set_config(study, "experiments", executor="dask", workers=2, memory_mb=2048, max_processes=64)
    jobs = study_nodes(study, 4)
    executor = make_executor(load_config(study))
    try:
        assert isinstance(executor, DaskExecutor)
        assert len(executor.client.scheduler_info()["workers"]) == 2
        results = [f.result(timeout=180) for f in [executor.submit(job) for job in jobs]]
        ran_on = executor.client.run(lambda: len(__import__("os").listdir(".")))  # every worker answers
    finally:
        executor.close()
    assert [r.status for r in results] == ["ok"] * 4, [r.reason for r in results]
    assert len(ran_on) == 2
    for job in jobs:
        assert {p.name for p in job.cwd.iterdir()} == {"experiment.ipynb", "history.csv", "kernel.log"}
        assert {r.name for r in read_records(job.notebook)} == {"final_loss", "final_a"}
    assert executor.client.status == "closed"


def test_a_scheduler_address_from_the_config_is_used(tmp_path, toy_template):
    from distributed import LocalCluster

    study = init_study(tmp_path / "study", toy_template)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, processes=True) as cluster:
        set_config(study, "experiments", executor="dask", dask_scheduler=cluster.scheduler_address)
        [job] = study_nodes(study, 1)
        executor = make_executor(load_config(study))
        try:
            result = executor.submit(job).result(timeout=120)
        finally:
            executor.close()
        assert result.ok, result.reason
        assert cluster.scheduler.status.name == "running", "closing the executor leaves someone else's cluster up"


def test_an_unreachable_scheduler_is_a_one_line_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    with pytest.raises(ConfigError, match="cannot reach tcp://127.0.0.1"):
        DaskExecutor(address=f"tcp://127.0.0.1:{port}", connect_timeout_s=2)
