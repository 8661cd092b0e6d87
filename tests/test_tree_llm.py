"""The tree search driven by a scripted model on the local fake server: a deliberately
broken draft fails, the debug task is handed the error, the failing cell and the traceback
and fixes it; a hyperparameter plan that repeats a setting goes back to the model with the
problem; an improvement, an ablation that edits code, and seed replicas follow. A replay
of the study sends the server nothing and executes nothing."""

from __future__ import annotations

import json

import nbformat
import pytest

from aisci.cli import main
from tests.fake_llm_server import reply
from tests.study_helpers import executed_notebooks, init_study, set_config

pytestmark = pytest.mark.slow  # eight toy nodes: about a minute

TRAINING_MARK = "a -= lr * grad"


def parent_block(prompt: str, header: str) -> dict:
    """The JSON object that follows `header` in a prompt."""
    start = prompt.index("{", prompt.index(header))
    decoder = json.JSONDecoder()
    value, _ = decoder.raw_decode(prompt[start:])
    return value


def training_cell(node: dict) -> dict:
    return next(c for c in node["cells"] if TRAINING_MARK in c["source"])


def answer(request: dict):
    task = request["response_format"]["json_schema"]["name"]
    prompt = request["messages"][-1]["content"]
    if task == "experiments_write_node":
        parent = parent_block(prompt, "source):")
        training = training_cell(parent)
        broken = training["source"].replace(TRAINING_MARK, TRAINING_MARK + " / 0")
        return reply({"parameters": {"lr": 0.01}, "cells": [{"action": "replace", "cell_id": training["id"],
                                                              "source": broken}],
                      "rationale": "Set the learning rate the idea names (and, deliberately, a bug)."})
    if task == "experiments_debug":
        failed = parent_block(prompt, "(`traceback_tail`):")
        before = parent_block(prompt, "which ran (for reference):")
        assert "ZeroDivisionError" in failed["failure"] and "/ 0" in failed["failed_cell_source"]
        assert "ZeroDivisionError" in failed["traceback_tail"]
        return reply({"parameters": {}, "cells": [{"action": "replace", "cell_id": training_cell(failed)["id"],
                                                   "source": training_cell(before)["source"]}],
                      "rationale": "The update divided by zero; the original update is restored."})
    if task == "experiments_hyperparameter":
        if "already ran as" in prompt:
            return reply({"parameters": {"steps": 10}, "rationale": "Fewer steps."})
        return reply({"parameters": {"lr": 0.01}, "rationale": "Repeat the idea's rate (a repeat, on purpose)."})
    if task == "experiments_improve":
        return reply({"parameters": {"lr": 0.03}, "rationale": "A larger rate converges further in 20 steps."})
    if task == "experiments_ablation":
        parent = parent_block(prompt, "metrics and cells:")
        training = training_cell(parent)
        return reply({"ablation": "without_noise", "parameters": {},
                      "cells": [{"action": "replace", "cell_id": training["id"],
                                 "source": training["source"].replace("random.gauss(0, 0.05)", "0.0")}],
                      "rationale": "Remove the label noise to see what it costs."})
    raise AssertionError(f"unexpected task {task}")


def test_a_model_driven_search_debugs_its_broken_draft(tmp_path, toy_template, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(answer)
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "llm.roles", experiments=f"openai:fake-model@{fake_llm.base_url}")
    set_config(study, "ideation", num_ideas=1, select=1)
    set_config(study, "search", staged=True, nodes_per_stage=1, max_nodes=6, num_seeds=2)
    assert main(["run", str(study), "--quiet", "--until", "experiments"]) == 0

    nodes = {p.parent.name: json.loads(p.read_text())
             for p in sorted((study / "experiments" / "small_lr").glob("node-*/node.json"))}
    kinds = [(n["kind"], n["status"]) for n in nodes.values()]
    assert kinds == [("draft", "failed"), ("debug", "done"), ("hyperparameter", "done"), ("improve", "done"),
                     ("ablation", "done"), ("replica", "done"), ("replica", "done")]
    draft, debug, tuned, improved, ablation = (nodes[f"node-{i}"] for i in range(5))
    assert "ZeroDivisionError" in draft["failure"] and draft["edited_cells"] == [1]
    assert draft["task"]["author"] == "model:fake-model" and draft["task"]["prompt_tokens"] > 0
    assert debug["parent"] == draft["id"] and debug["edited_cells"] == [1]
    debug_nb = nbformat.read(str(study / debug["notebook"]), 4)
    assert "Written by model:fake-model" in debug_nb.cells[0].source
    assert "/ 0" not in debug_nb.cells[2].source and debug_nb.cells[2].metadata["aisci"]["author"] == "model:fake-model"
    assert tuned["task"]["rounds"] == 2 and tuned["changes"] == {"steps": 10} and tuned["parent"] == debug["id"]
    assert improved["changes"] == {"lr": 0.03}
    assert ablation["ablation"] == "without_noise" and ablation["edited_cells"] == [1]

    tasks = [r.body["response_format"]["json_schema"]["name"] for r in fake_llm.requests]
    assert tasks.count("experiments_hyperparameter") == 2
    second = fake_llm.requests[tasks.index("experiments_hyperparameter") + 1].body["messages"][-1]["content"]
    assert "this exact configuration (parameters and code) already ran as small_lr/node-1" in second

    summary = json.loads((study / "experiments" / "summary.json").read_text())
    best = summary["best_per_idea"]["small_lr"]
    assert best in (debug["id"], tuned["id"], improved["id"])
    assert summary["replicas"]["small_lr"]["num_seeds"] == 2

    # Forget the phase state: the tree on disk is the search's state, so no node runs again
    # and the server hears nothing.
    (study / ".aisci" / "phases.json").unlink()
    sent = fake_llm.request_count
    ran = [n for n in executed_notebooks(study) if n.startswith("experiments/")]
    assert main(["run", str(study), "--quiet", "--until", "experiments", "--cache", "replay"]) == 0
    assert fake_llm.request_count == sent
    assert [n for n in executed_notebooks(study) if n.startswith("experiments/")] == ran
