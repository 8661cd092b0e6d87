"""A scripted model that grows a study on the toy template to many nodes: 3 ideas, each
searched to `[search] max_nodes` nodes, every node a new setting (a learning rate no node
has used), analysis cells that plot every run, and a short paper that refers to every
figure. Used by tests/test_study_scale.py and bench/bench_study_scale.py."""

from __future__ import annotations

import itertools
import threading

from tests.fake_llm_server import reply
from tests.study_helpers import drafted_section

IDEAS = [
    # not 0.01: the toy template's seed idea sets that, and a repeat of a seed is dropped
    {"name": "slow_steps", "title": "Small learning rates", "parameters": {"lr": 0.05},
     "hypothesis": "A small learning rate raises final_loss relative to the baseline after the same steps."},
    {"name": "fast_steps", "title": "Aggressive step sizes", "parameters": {"lr": 0.3},
     "hypothesis": "A large learning rate lowers final_loss relative to the baseline."},
    {"name": "short_runs", "title": "Half the training budget", "parameters": {"steps": 10},
     "hypothesis": "Halving the steps raises final_loss relative to the baseline."},
]
ANALYSIS_CELL = '''ranked = finished.sort_values(PRIMARY)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(len(ranked)), ranked[PRIMARY].values, marker=".")
ax.set_xlabel("run, best first")
ax.set_ylabel(PRIMARY)
save_figure(fig, "ranked_runs", "The primary metric of every finished run, best first.")
aisci.record("num_runs_ranked", int(len(ranked)), description="finished runs in the ranking")'''
SECTIONS = {"abstract": "A learning-rate study on a toy fit.", "introduction": "Step sizes matter.",
            "related_work": "Stochastic approximation studies step sizes.",
            "results": "Table~\\ref{tab:results} lists every run. Figure~\\ref{fig:primary_metric} compares them, "
                       "Figure~\\ref{fig:curves} shows their curves and Figure~\\ref{fig:ranked_runs} ranks them.",
            "discussion": "Each setting ran once.", "limitations": "One seed per setting.",
            "conclusion": "A wide search of one factor.", "title": "Learning rates on a toy fit",
            "method": "We vary the learning rate of the toy fit.",
            "experimental_setup": "Every run uses the template's settings but the learning rate."}


class ScaleModel:
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next_lr(self) -> float:
        with self._lock:
            return round(0.02 + 0.004 * next(self._counter), 4)  # never a setting run before

    def __call__(self, request: dict):
        task = request["response_format"]["json_schema"]["name"]
        prompt = request["messages"][-1]["content"]
        if task == "ideation_propose":
            return reply({"ideas": [{**i, "related_work": "", "abstract": i["title"] + ".", "risks": ["one seed"],
                                     "experiments": ["compare final_loss with the baseline"]} for i in IDEAS]})
        if task == "novelty_assess":
            return reply({"novel": True, "evidence": [], "summary": "A toy study."})
        if task.startswith("experiments_"):
            plan = {"parameters": {"lr": self.next_lr()}, "rationale": "An untried learning rate."}
            if task == "experiments_ablation":
                plan["ablation"] = f"without_{self.next_lr()}".replace(".", "_")
            return reply(plan)
        if task == "analysis_observe":
            runs = [line for line in prompt.split('"id": "')[1:]]
            return reply({"observations": [f"Run {r.split(chr(34))[0]} is in the table." for r in runs]})
        if task == "analysis_cells":
            return reply({"cells": [{"title": "Every run, ranked", "purpose": "How wide is the spread?",
                                     "source": ANALYSIS_CELL}]})
        if drafted_section(task):  # one call per section
            return reply({drafted_section(task): SECTIONS[drafted_section(task)]})
        if task == "writeup_fix":
            return reply({"text": prompt.split("---\n", 1)[1].split("\n---", 1)[0] if "---\n" in prompt else "Text."})
        raise AssertionError(f"unexpected task {task}")
