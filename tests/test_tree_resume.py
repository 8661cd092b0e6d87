"""A search killed with SIGKILL while a node runs continues from its saved tree: the node
the kill left `running` runs again, no finished node does, and no node is duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from aisci.cli import main
from tests.study_helpers import executed_notebooks, init_study, set_config

pytestmark = pytest.mark.slow  # a short search killed and resumed: about a minute under load


def read_node(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def test_kill_9_mid_search_resumes_from_the_tree(tmp_path, toy_template):
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "ideation", num_ideas=1, select=1)
    set_config(study, "experiments.overrides", pause_s=1.5)  # each node sleeps: time to kill one mid-run
    process = subprocess.Popen([sys.executable, "-m", "aisci", "run", str(study), "--quiet", "--until", "experiments"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    improve = study / "experiments" / "small_lr" / "node-1" / "node.json"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # the draft finished, the improvement has started
        node = read_node(improve)
        if node and node["status"] == "running" and node.get("started_at"):
            break
        time.sleep(0.05)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("the search never reached its improvement node")
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its kernel, as a crash would
    process.wait()
    assert read_node(improve)["status"] == "running"
    draft = read_node(study / "experiments" / "small_lr" / "node-0" / "node.json")
    assert draft["status"] == "done"
    finished_before = [n for n in executed_notebooks(study) if n.startswith("experiments/")]
    assert "experiments/small_lr/node-0/experiment.ipynb" in finished_before
    assert "experiments/small_lr/node-1/experiment.ipynb" not in finished_before

    assert main(["run", str(study), "--quiet", "--until", "experiments"]) == 0
    counts = Counter(executed_notebooks(study))
    for notebook in finished_before:
        assert counts[notebook] == 1, f"{notebook} was executed again"
    assert counts["experiments/small_lr/node-1/experiment.ipynb"] == 1
    nodes = sorted(p.parent.name for p in (study / "experiments" / "small_lr").glob("node-*/node.json"))
    assert nodes == ["node-0", "node-1"]
    resumed = read_node(improve)
    assert resumed["status"] == "done" and resumed["kind"] == "improve" and resumed["parent"] == draft["id"]
    assert read_node(study / "experiments" / "small_lr" / "node-0" / "node.json") == draft  # untouched
