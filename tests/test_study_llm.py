"""A whole study driven by a model on the local fake server: every phase goes through its
LLM task, and a second run of the same study sends the server nothing."""

from __future__ import annotations

import json

import pytest

from aisci.cli import main
from tests.fake_llm_server import reply
from tests.study_helpers import drafted_section, executed_notebooks, init_study, set_config

pytestmark = pytest.mark.load_dependent  # whole studies: deadlines a load spike can miss

IDEA = {
    "name": "high_lr", "title": "A larger learning rate",
    "hypothesis": "A learning rate of 0.3 lowers final_loss relative to the baseline.",
    "related_work": "Robbins and Monro (1951) study step sizes.", "abstract": "We raise the learning rate.",
    "experiments": ["compare final_loss with the baseline"], "risks": ["one seed"], "parameters": {"lr": 0.3},
    "rubric": [],
}
WEAK_IDEA = {**IDEA, "name": "vague_idea", "title": "Something vague", "hypothesis": "Things may change.",
             "experiments": ["try it"], "parameters": {"lr": 0.01}}
REVIEW = {"summary": "A small study.", "strengths": ["clear"], "weaknesses": ["one seed"], "originality": 2,
          "quality": 3, "clarity": 3, "significance": 2, "questions": ["more seeds?"], "limitations": ["one seed"],
          "ethical_concerns": False, "soundness": 3, "presentation": 3, "contribution": 2, "overall": 5,
          "confidence": 3, "decision": "Reject"}
SECTIONS = {name: f"The {name.replace('_', ' ')} of the study, citing~\\cite{{robbins1951stochastic}}."
            for name in ("abstract", "introduction", "related_work", "method", "experimental_setup", "discussion",
                         "conclusion")}


def answer(request: dict):
    task = request["response_format"]["json_schema"]["name"]
    prompt = request["messages"][-1]["content"]
    if task == "ideation_propose":
        return reply({"ideas": [IDEA, WEAK_IDEA]})
    if task == "ideation_reflect":
        return reply({**WEAK_IDEA, "hypothesis": "A learning rate of 0.01 raises final_loss.",
                      "experiments": ["compare final_loss with the baseline"]})
    if task == "novelty_assess":
        return reply({"novel": True, "evidence": [{"key": "robbins1951stochastic", "reason": "classic, not this"}],
                      "summary": "Novel enough for a toy."})
    if task == "experiments_write_node":
        lr = 0.3 if "high_lr" in prompt else 0.01
        return reply({"parameters": {"lr": lr}, "rationale": "Set the learning rate the idea names."})
    if task == "experiments_improve":  # the search's next node after each draft
        return reply({"parameters": {"steps": 10}, "rationale": "Fewer steps, to see how much training matters."})
    if task in ("experiments_debug", "experiments_hyperparameter"):
        return reply({"parameters": {"lr": 0.1}, "rationale": "Back to the baseline's learning rate."})
    if task == "experiments_ablation":
        return reply({"parameters": {"lr": 0.1}, "rationale": "Remove the idea's change."})
    if task == "analysis_observe":
        return reply({"observations": ["The high_lr run's final_loss is below the baseline's."]})
    if task == "analysis_cells":  # this model finds the base analysis enough
        return reply({"cells": []})
    if drafted_section(task):  # one call per section
        paper = {"title": "Learning rates on a toy fit", **SECTIONS, "limitations": "One seed per run.",
                 "results": "\\label{sec:results} Table~\\ref{tab:results}: the baseline reaches "
                            "\\RAnalysisBaselineFinalLoss."}
        return reply({drafted_section(task): paper[drafted_section(task)]})
    if task == "writeup_fix":  # this model keeps its text; the checks' findings are then reported
        return reply({"text": prompt.split("---\n", 1)[1].split("\n---", 1)[0] if "---\n" in prompt else "Text."})
    if task in ("review_paper", "review_reflect"):
        return reply(REVIEW)
    if task == "review_meta":
        return reply({"summary": "One weak study.", "strengths": ["clear"], "weaknesses": ["one seed"],
                      "overall": 4.5, "decision": "Reject", "reasons": ["a single seed"]})
    if task == "review_method_code":
        return reply({"items": [{"claim": "the learning rate is changed", "paper_quote": "learning rate",
                                 "code_quote": "lr = 0.3", "run": "high_lr/node-0", "verdict": "consistent",
                                 "explanation": "the parameters cell sets it"}], "summary": "Consistent."})
    raise AssertionError(f"unexpected task {task}")


def test_study_through_a_model_then_replayed(tmp_path, toy_template, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(answer)
    study = init_study(tmp_path / "s", toy_template, "--llm", f"openai:fake-model@{fake_llm.base_url}", "--small")
    set_config(study, "literature", sources=[])  # tests never reach the internet: the local library only
    assert main(["run", str(study), "--quiet"]) == 0
    tasks = [r.body["response_format"]["json_schema"]["name"] for r in fake_llm.requests]
    assert {"ideation_propose", "ideation_reflect", "novelty_assess", "experiments_write_node",
            "experiments_improve", "analysis_observe", "writeup_results", "writeup_title", "review_paper"} <= set(tasks)

    ideas = json.loads((study / "ideas" / "ideas.json").read_text())["ideas"]
    assert all(item["reason"] for idea in ideas for item in idea["rubric"])
    node = json.loads((study / "experiments" / "high_lr" / "node-0" / "node.json").read_text())
    assert node["author"] == "model:fake-model" and node["parameters"]["lr"] == 0.3
    assert "Drafted by fake-model" in (study / "paper" / "main.tex").read_text()
    reviews = json.loads((study / "reviews" / "review-1.json").read_text())
    assert reviews["author"] == "model:fake-model"

    # Forget the phase state: every phase runs again, every LLM call is answered by the store.
    (study / ".aisci" / "phases.json").unlink()
    sent = fake_llm.request_count
    assert main(["run", str(study), "--quiet", "--cache", "replay"]) == 0
    assert fake_llm.request_count == sent
    finished_nodes = [n for n in executed_notebooks(study) if n.startswith("experiments/")]
    assert len(finished_nodes) == len(set(finished_nodes))  # finished nodes were not executed twice

    assert main(["status", str(study)]) == 0
