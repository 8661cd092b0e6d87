"""Parallel experiment nodes: a study with `workers = 2` makes the same tree, with the same
metrics, as with `workers = 1`, and so does a real Dask cluster (`dask scheduler` and two
`dask worker` processes on 127.0.0.1); `workers = "auto"` (the default) fits the nodes to
the cores; a Dask worker that cannot see the study folder is a one-line error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from aisci.cli import main
from aisci.config import StudyConfig
from aisci.executors import NodeJob, SerialExecutor, make_executor, node_slots, run_job, sandbox_settings, thread_env
from aisci.executors.local import LocalExecutor
from aisci.execution import build
from aisci.records import read_records
from tests.conftest import TOY_TEMPLATE
from tests.dask_cluster import dask_cluster
from tests.study_helpers import copy_study, init_study, set_config

SAME = ("id", "idea", "kind", "parent", "status", "parameters", "changes", "metrics", "code_key")


def nodes(study: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((study / "experiments").glob("*/node-*/node.json")):
        node = json.loads(path.read_text())
        found[node["id"]] = {key: node.get(key) for key in SAME}
    return found


@pytest.fixture(scope="module")
def after_novelty(tmp_path_factory) -> Path:
    """A toy study run up to its experiments: 2 ideas, each with two drafts and (where an untried
    setting is left) an improvement; the template widened to leave more settings to try."""
    base = tmp_path_factory.mktemp("parallel")
    template = shutil.copytree(TOY_TEMPLATE, base / "template")
    manifest = template / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("choices = [0.01, 0.1, 0.3]", "choices = [0.01, 0.03, 0.1, 0.3]")
                        .replace("choices = [10, 20]", "choices = [5, 10, 20]"))
    study = init_study(base / "s", template)
    set_config(study, "search", num_drafts=2, max_nodes=3)
    assert main(["run", str(study), "--quiet", "--until", "novelty"]) == 0
    return study


@pytest.fixture(scope="module")
def serial_and_parallel(after_novelty, tmp_path_factory):
    base, study = tmp_path_factory.mktemp("runs"), after_novelty
    runs = {}
    for workers in (1, 2):
        copy = copy_study(study, base / f"workers-{workers}")
        set_config(copy, "experiments", workers=workers)
        assert main(["run", str(copy), "--quiet", "--until", "experiments"]) == 0
        runs[workers] = copy
    return runs


def test_two_workers_make_the_tree_and_metrics_one_worker_makes(serial_and_parallel):
    serial, parallel = nodes(serial_and_parallel[1]), nodes(serial_and_parallel[2])
    assert len(serial) >= 5 and all(n["status"] == "done" for n in serial.values())
    assert parallel == serial
    summaries = [json.loads((s / "experiments" / "summary.json").read_text()) for s in serial_and_parallel.values()]
    assert summaries[0]["best"] == summaries[1]["best"] and summaries[0]["best_per_idea"] == summaries[1]["best_per_idea"]


def test_each_node_kernel_is_held_to_its_thread_share(tmp_path):
    """The kernel of a node gets `[experiments] threads` as OMP_NUM_THREADS (torch reads it)
    and AISCI_NODE_THREADS (the shipped templates pass it to torch.set_num_threads)."""
    config = StudyConfig.model_validate({"study": {"topic": "learning rate on a toy fit"},
                                         "experiments": {"threads": 3}})
    nb = build.notebook("threads", "aisci")
    nb.cells.append(build.code("import os\nimport aisci\n"
                               "aisci.record('omp', int(os.environ['OMP_NUM_THREADS']))\n"
                               "aisci.record('node_threads', int(os.environ['AISCI_NODE_THREADS']))"))
    build.write(nb, tmp_path / "experiment.ipynb")
    job = NodeJob(tmp_path / "experiment.ipynb", tmp_path, timeout_s=120, env_extra=thread_env(config),
                  sandbox=sandbox_settings(config))
    assert run_job(job).ok
    found = {r.name: r.value for r in read_records(tmp_path / "experiment.ipynb")}
    assert found == {"omp": 3, "node_threads": 3}


def test_auto_runs_as_many_nodes_as_the_cores_allow(monkeypatch):
    import aisci.executors as executors

    monkeypatch.setattr(executors, "available_cores", lambda: 8)
    config = StudyConfig.model_validate({"study": {"topic": "learning rate on a toy fit"}})
    assert config.experiments.workers == "auto" and node_slots(config) == 8
    config.experiments.threads = 3
    assert node_slots(config) == 2
    config.experiments.threads = 16
    assert node_slots(config) == 1
    assert isinstance(make_executor(config), SerialExecutor)
    config.experiments.workers = 3
    assert node_slots(config) == 3
    pool = make_executor(config)
    try:
        assert isinstance(pool, LocalExecutor) and pool.workers == 3
    finally:
        pool.close()


def test_a_bad_workers_value_is_a_one_line_error(tmp_path, capsys):
    study = init_study(tmp_path / "s", TOY_TEMPLATE)
    set_config(study, "experiments", workers="many")
    assert main(["status", str(study)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "workers" in err


def test_a_dask_cluster_of_two_workers_runs_the_study_as_this_machine_does(after_novelty, serial_and_parallel,
                                                                           tmp_path):
    study = copy_study(after_novelty, tmp_path / "s")
    (tmp_path / "cluster").mkdir()
    with dask_cluster(tmp_path / "cluster", workers=2) as (address, workers):
        set_config(study, "experiments", executor="dask", dask_scheduler=address)
        assert main(["run", str(study), "--quiet", "--until", "experiments"]) == 0
    assert nodes(study) == nodes(serial_and_parallel[1])
    ran_on = [json.loads(p.read_text())["ran_on"] for p in (study / "experiments").glob("*/node-*/node.json")]
    assert len(ran_on) == len(nodes(study)) >= 5
    assert all(where.startswith("dask worker tcp://127.0.0.1:") for where in ran_on)
    assert {where.split()[2] for where in ran_on} == set(workers)  # both workers ran nodes, nothing else did


def test_a_dask_worker_that_cannot_see_the_study_is_a_one_line_error(after_novelty, tmp_path, capsys):
    study = copy_study(after_novelty, tmp_path / "shared" / "s")
    (tmp_path / "cluster").mkdir()
    with dask_cluster(tmp_path / "cluster", workers=2, hidden_from_last=tmp_path / "shared") as (address, _):
        set_config(study, "experiments", executor="dask", dask_scheduler=address)
        capsys.readouterr()
        assert main(["run", str(study), "--quiet", "--until", "experiments"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "cannot see" in err and "shared" in err and "docs/cluster.md" in err
    assert not [p for p in study.rglob(".aisci-cluster-probe-*")]  # the probe file is gone
