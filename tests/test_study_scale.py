"""A study grown to 60 nodes by a scripted model on the toy template: every phase completes,
nothing caps a list (60 observations, 60 nodes in the panel), and the paper compiles with
every check passing. The wall time and overhead per node: bench/bench_study_scale.py."""

from __future__ import annotations

import json

import pytest

from aisci.cli import main
from aisci.widgets.experiments import ExperimentsPanel
from tests.scale_llm import ScaleModel
from tests.study_helpers import init_study, set_config

pytestmark = pytest.mark.slow  # 61 toy nodes


def test_a_study_grown_to_60_nodes_completes_and_stays_readable(tmp_path, toy_template, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(ScaleModel())
    study = init_study(tmp_path / "s", toy_template, "--llm", f"openai:scale-model@{fake_llm.base_url}")
    set_config(study, "literature", sources=[])
    set_config(study, "llm.roles", review="offline")
    set_config(study, "ideation", num_ideas=3, select=3, reflections=0)
    set_config(study, "search", num_drafts=3, max_nodes=20, num_seeds=0, time_budget_s=100000)
    set_config(study, "review", num_reviews=1, num_reflections=0)
    assert main(["run", str(study), "--quiet"]) == 0

    nodes = json.loads((study / "experiments" / "summary.json").read_text())["nodes"]
    assert len(nodes) == 61 and all(n["status"] == "done" for n in nodes)
    assert len(ExperimentsPanel(study).tree.options) == 61
    analysis = json.loads((study / "analysis" / "summary.json").read_text())
    assert len(analysis["observations"]) == 61 and analysis["records"]["num_runs_ranked"] == 61
    checks = json.loads((study / "paper" / "checks.json").read_text())
    assert checks["open"] == 0 and checks["compile"]["status"] in ("ok", "off")
    assert (study / "reviews" / "meta-review.json").exists()
