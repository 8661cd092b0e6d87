"""A run killed with SIGKILL in the middle resumes without re-executing finished notebooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from aisci.cli import main
from tests.conftest import sandbox_processes
from tests.study_helpers import executed_notebooks, init_study, set_config


def test_kill_9_then_rerun_completes_without_redoing_finished_work(tmp_path, toy_template):
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "experiments.overrides", pause_s=2.0)  # each node sleeps: time to kill mid-phase
    process = subprocess.Popen([sys.executable, "-m", "aisci", "run", str(study), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    baseline_node = study / "experiments" / "baseline" / "node-0" / "node.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if baseline_node.exists() and json.loads(baseline_node.read_text())["status"] == "done":
            break
        time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError("the baseline node never finished")
    os.killpg(process.pid, signal.SIGKILL)  # the run and its kernel, as a crash would
    process.wait()
    killed_at = time.monotonic()
    while sandbox_processes(study) and time.monotonic() - killed_at < 2:
        time.sleep(0.05)
    assert not sandbox_processes(study), "no sandbox process outlives the killed run (2 s)"
    finished_before = [n for n in executed_notebooks(study)]
    assert "experiments/baseline/node-0/experiment.ipynb" in finished_before
    assert "reviews/review.ipynb" not in finished_before

    assert main(["run", str(study), "--quiet"]) == 0
    counts = Counter(executed_notebooks(study))
    for notebook in finished_before:
        assert counts[notebook] == 1, f"{notebook} was executed again"
    assert (study / "reviews" / "meta-review.json").exists()
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    assert all(n["status"] == "done" for n in summary["nodes"])
