"""Template-free mode: a scripted model writes the template; the contract check (static,
then one baseline run) sends every problem back until the template passes, and only then
does the study exist. The offline engine refuses the mode with one clear line."""

from __future__ import annotations

import json
import sqlite3

import pytest
import tomllib

from aisci.cli import main
from aisci.manifest import template_problems
from tests.fake_llm_server import reply
from tests.study_helpers import set_config

TASK = "Fit a line to noisy points by gradient descent and report the test error and the fitted slope."
TRAINING = '''import random
import aisci

random.seed(seed)
xs = [random.uniform(-1, 1) for _ in range(200)]
ys = [2.0 * x + random.gauss(0, 0.1) for x in xs]
train, test = list(zip(xs, ys))[:150], list(zip(xs, ys))[150:]
w = 0.0
for _ in range(steps):
    grad = sum(2 * (w * x - y) * x for x, y in train) / len(train)
    w -= lr * grad
mse = sum((w * x - y) ** 2 for x, y in test) / len(test)
aisci.record("test_mse", mse)
'''


def template(cells: list[str]) -> dict:
    return {
        "name": "line_fit", "title": "Fitting a line", "description": "Gradient descent on y = 2x + noise; "
        "the test mean squared error and the slope are measured.", "primary_metric": "test_mse",
        "time_budget_s": 30, "seeds": [0, 1, 2],
        "metrics": [{"name": "test_mse", "direction": "minimize", "description": "held-out mean squared error"},
                    {"name": "slope", "direction": "maximize", "description": "the fitted slope"}],
        "parameters": [{"name": "lr", "type": "float", "default": 0.1, "choices": [0.01, 0.1, 0.3], "description": "step"},
                       {"name": "steps", "type": "int", "default": 50, "choices": [20, 50], "description": "steps"},
                       {"name": "seed", "type": "int", "default": 0, "choices": [0, 1, 2], "description": "seed"}],
        "cells": [{"cell_type": "markdown", "source": "## Train and evaluate"},
                  *({"cell_type": "code", "source": c} for c in cells)],
    }


MISSING_SLOPE = template([TRAINING])
CRASHES = template([TRAINING + 'aisci.record("slope", w)\n', "1 / 0"])
GOOD = template([TRAINING + 'aisci.record("slope", w)\n'])


def prompts(fake_llm) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in fake_llm.requests]


def test_the_offline_engine_refuses_template_free_mode(tmp_path, capsys):
    study = tmp_path / "s"
    assert main(["init", str(study), "--topic", "lines", "--task", TASK]) == 2
    err = capsys.readouterr().err
    assert "template-free mode (--task) needs a language model" in err and len(err.strip().splitlines()) == 1
    assert not study.exists()


def test_task_and_template_exclude_each_other(tmp_path, toy_template, capsys):
    assert main(["init", str(tmp_path / "s"), "--topic", "lines", "--task", TASK, "--template", str(toy_template)]) == 2
    assert "give --template or --task, not both" in capsys.readouterr().err


@pytest.mark.slow  # two baseline runs while writing, then a short study
def test_a_model_writes_the_template_until_it_passes(tmp_path, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.script(reply(MISSING_SLOPE), reply(CRASHES), reply(GOOD))
    study = tmp_path / "s"
    assert main(["init", str(study), "--topic", "learning rates for line fitting", "--task", TASK,
                 "--llm", f"openai:fake-model@{fake_llm.base_url}", "--small"]) == 0
    sent = prompts(fake_llm)
    assert len(sent) == 3 and TASK in sent[0]
    assert "baseline.ipynb: the baseline never records declared metric 'slope'" in sent[1]
    assert "baseline.ipynb: the baseline run failed in cell 4 (`1 / 0`): ZeroDivisionError" in sent[2]
    assert str(tmp_path) not in sent[1] + sent[2]  # problems name files, not this machine's paths

    assert template_problems(study / "template") == []
    manifest = tomllib.loads((study / "template" / "manifest.toml").read_text())
    assert manifest["metrics"]["test_mse"]["direction"] == "minimize" and manifest["primary_metric"] == "test_mse"
    assert TASK in (study / "template" / "TASK.md").read_text()
    config = tomllib.loads((study / "aisci.toml").read_text())
    assert config["study"]["template_source"].startswith("template-free: written by model:fake-model")
    with sqlite3.connect(study / "llm" / "calls.sqlite") as db:
        tasks = [row[0] for row in db.execute("SELECT task FROM calls")]
    assert tasks == ["templatefree.write"] * 3  # the calls are the study's: counted, and replayable

    # The study runs on the written template (here with the offline engine for the other tasks).
    set_config(study, "llm", default="offline")
    set_config(study, "ideation", num_ideas=1, select=1)
    assert main(["run", str(study), "--quiet", "--until", "experiments"]) == 0
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    baseline = summary["nodes"][0]
    assert baseline["id"] == "baseline/node-0" and baseline["status"] == "done"
    assert set(baseline["metrics"]) == {"test_mse", "slope"}
    assert all(n["status"] == "done" for n in summary["nodes"]) and len(summary["nodes"]) == 3


def test_a_template_that_never_passes_creates_no_study(tmp_path, monkeypatch, fake_llm, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(lambda request: reply(MISSING_SLOPE))
    study = tmp_path / "s"
    assert main(["init", str(study), "--topic", "lines", "--task", TASK,
                 "--llm", f"openai:fake-model@{fake_llm.base_url}"]) == 2
    err = capsys.readouterr().err
    assert "the model's template still breaks the contract after 3 rounds: baseline.ipynb: the baseline never " \
           "records declared metric 'slope'" in err
    assert fake_llm.request_count == 3 and not study.exists()


def test_a_written_template_is_checked_like_any_other(tmp_path, monkeypatch, fake_llm, capsys):
    """The manifest's own problems (here: an undeclared primary metric) go back too."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(lambda request: reply({**GOOD, "primary_metric": "accuracy"}))
    assert main(["init", str(tmp_path / "s"), "--topic", "lines", "--task", TASK,
                 "--llm", f"openai:fake-model@{fake_llm.base_url}"]) == 2
    assert "primary_metric 'accuracy' is not among [metrics]" in prompts(fake_llm)[1]
    assert "manifest.toml" in capsys.readouterr().err
