"""A full study on `grokking` with a scripted model that answers the way a real one does:
an idea that changes the method (label smoothing added to the loss), a draft that inserts
a cell and breaks, a debug round that fixes the inserted cell, the node compared honestly
with the baseline, model-written analysis cells (one broken and fixed) that make a figure,
and a paper whose method section describes the code change with the diff in the appendix."""

from __future__ import annotations

import json

import nbformat
import pytest

from aisci.cli import main
from tests.fake_llm_server import reply
from tests.study_helpers import drafted_section, init_study, set_config

pytestmark = pytest.mark.slow  # three grokking runs of 500 steps, then the analysis and the paper

MODEL_CELL, TRAINING_CELL = "cell-07", "cell-09"  # grokking's model and training cells (nbformat 4.5 ids)
LOSS = "train_loss = F.cross_entropy(logits, train_y)"
IDEA = {
    "name": "label_smoothing", "title": "Label smoothing in the grokking loss",
    "hypothesis": "Label smoothing of the training cross-entropy changes final_val_acc and how soon validation "
                  "accuracy reaches 99 percent, relative to the baseline.",
    "related_work": "Grokking was described by Power et al. (2022).",
    "abstract": "We smooth the one-hot targets of the training loss and compare with the baseline.",
    "experiments": ["compare final_val_acc and steps_to_val_acc_99 with the baseline"],
    "risks": ["a single seed"], "parameters": {},
    "method_change": "add label smoothing to the cross-entropy of the training loop in the training cell, with "
                     "the smoothing constant set in a new cell after the model cell",
    "cells_touched": [MODEL_CELL, TRAINING_CELL], "compute": 1.0, "differences": [],
}
METHOD_TEXT = ("We train the template's transformer on modular addition as in the baseline notebook, with one "
               "change to the method: the training cross-entropy uses label smoothing, so each target puts a "
               "small share of its probability on the other residues. The smoothing constant is set in a new "
               "cell after the model cell, and the loss in the training cell passes it to the cross-entropy.")
SECTIONS = {"abstract": "We add label smoothing to the training loss of a grokking experiment.",
            "introduction": "Grokking is delayed generalisation on small algorithmic tasks.",
            "related_work": "Label smoothing regularises the targets of a classifier.",
            "results": "Table~\\ref{tab:results} lists every run; the baseline reaches \\RAnalysisBaselineFinalValAcc. "
                       "Figure~\\ref{fig:primary_metric} compares the runs, Figure~\\ref{fig:curves} shows their "
                       "training curves and Figure~\\ref{fig:val_acc_overlay} overlays their validation accuracy.",
            "discussion": "The change is small and was tested once.",
            "limitations": "One seed per configuration.",
            "conclusion": "Label smoothing is one line of code and can be tested in minutes."}
ANALYSIS_BROKEN = '''curves = results.histories(study_dir)
fig, ax = plt.subplots(figsize=(6, 3))
for node, history in curves.items():
    ax.plot(history["step"], history["val_acc"], label=node)
ax.legend()
save_figure(fig, "val_acc_overlay", "Validation accuracy of every run, overlaid.")
aisci.record("num_curves_overlaid", len(curve))'''


def block(prompt: str, header: str) -> dict:
    start = prompt.index("{", prompt.index(header))
    return json.JSONDecoder().raw_decode(prompt[start:])[0]


def answer(request: dict):
    task = request["response_format"]["json_schema"]["name"]
    prompt = request["messages"][-1]["content"]
    if task == "ideation_propose":
        assert f'"id": "{TRAINING_CELL}"' in prompt  # the template's code is shown in brief
        return reply({"ideas": [IDEA]})
    if task == "ideation_reflect":
        return reply(IDEA)
    if task == "novelty_assess":
        return reply({"novel": True, "evidence": [], "summary": "No paper in the library smooths labels here."})
    if task == "experiments_write_node":  # inserts a cell after the model, with a bug: an undefined name
        return reply({"parameters": {}, "rationale": "Label smoothing in the loss, its constant in a new cell.",
                      "cells": [
                          {"action": "insert_after", "cell_id": MODEL_CELL, "cell_type": "markdown",
                           "source": "## Label smoothing\n\nThe idea's change: smoothed targets in the loss."},
                          {"action": "insert_before", "cell_id": "cell-08", "source": "LABEL_SMOOTHING = smoothing"},
                          {"action": "replace", "cell_id": TRAINING_CELL,
                           "source": block_source(prompt, TRAINING_CELL).replace(
                               LOSS, "train_loss = F.cross_entropy(logits, train_y, label_smoothing=LABEL_SMOOTHING)")},
                      ]})
    if task == "experiments_debug":
        failed = block(prompt, "(`traceback_tail`):")
        assert "NameError" in failed["failure"] and "smoothing" in failed["failed_cell_source"]
        inserted = next(c for c in failed["cells"] if c["source"] == "LABEL_SMOOTHING = smoothing")
        return reply({"parameters": {}, "rationale": "The constant named an undefined variable; it is set to 0.1.",
                      "cells": [{"action": "replace", "cell_id": inserted["id"], "source": "LABEL_SMOOTHING = 0.1"}]})
    if task == "analysis_observe":
        return reply({"observations": ["The label smoothing run is compared with the baseline in the table."]})
    if task == "analysis_cells":
        return reply({"cells": [{"title": "Validation accuracy, every run overlaid",
                                 "purpose": "Does label smoothing change when validation accuracy rises?",
                                 "source": ANALYSIS_BROKEN}]})
    if task == "analysis_fix_cell":
        assert "NameError" in prompt
        return reply({"source": ANALYSIS_BROKEN.replace("len(curve))", "len(curves))"),
                      "explanation": "A typo: curve for curves."})
    if task == "writeup_method":
        assert "label_smoothing=LABEL_SMOOTHING" in prompt  # the method task sees the code diff
        return reply({"method": METHOD_TEXT})
    if task == "writeup_experimental_setup":
        assert METHOD_TEXT in prompt  # written from the method section
        return reply({"experimental_setup": "Every run uses the template's settings."})
    if drafted_section(task):  # one call per section
        name = drafted_section(task)
        return reply({name: {"title": "Label smoothing and grokking", **SECTIONS}[name]})
    if task == "writeup_fix":
        return reply({"text": prompt.split("---\n", 1)[1].split("\n---", 1)[0] if "---\n" in prompt else "Text."})
    raise AssertionError(f"unexpected task {task}")


def block_source(prompt: str, cell_id: str) -> str:
    parent = block(prompt, "source):")
    return next(c["source"] for c in parent["cells"] if c["id"] == cell_id)


def test_a_method_change_is_implemented_debugged_analysed_and_written_up(tmp_path, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.respond_with(answer)
    study = init_study(tmp_path / "s", "grokking", "--llm", f"openai:fake-model@{fake_llm.base_url}")
    set_config(study, "literature", sources=[])
    set_config(study, "llm.roles", review="offline")
    set_config(study, "ideation", num_ideas=1, select=1)
    set_config(study, "experiments", overrides={"num_steps": 500})
    set_config(study, "search", num_drafts=1, max_nodes=2, num_seeds=0, max_debug_depth=1)
    assert main(["run", str(study), "--quiet"]) == 0

    idea = json.loads((study / "ideas" / "ideas.json").read_text())["ideas"][0]
    runnable = next(r for r in idea["rubric"] if r["criterion"] == "changes something the template can run")
    assert runnable["passed"] and "changes the code" in runnable["reason"]

    folder = study / "experiments" / "label_smoothing"
    draft, debug = (json.loads((folder / f"node-{i}" / "node.json").read_text()) for i in (0, 1))
    assert draft["status"] == "failed" and "NameError" in draft["failure"]
    assert "+LABEL_SMOOTHING = smoothing" in draft["diff"] and "+## Label smoothing" in draft["diff"]
    assert debug["status"] == "done" and debug["parent"] == draft["id"]
    assert "-LABEL_SMOOTHING = smoothing" in debug["diff"] and "+LABEL_SMOOTHING = 0.1" in debug["diff"]
    ran = nbformat.read(str(study / debug["notebook"]), 4)
    assert any(c.source == "LABEL_SMOOTHING = 0.1" and c.get("id", "").startswith("aisci-") for c in ran.cells)

    summary = json.loads((study / "experiments" / "summary.json").read_text())
    base = next(n for n in summary["nodes"] if n["id"] == "baseline/node-0")
    # beats or loses to the baseline honestly: the best node is the better of the two on the metric
    better = debug["metrics"]["final_val_acc"] > base["metrics"]["final_val_acc"]
    assert summary["best"] == (debug["id"] if better else base["id"])

    analysis = json.loads((study / "analysis" / "summary.json").read_text())
    assert "val_acc_overlay" in {f["name"] for f in analysis["figures"]}
    assert analysis["records"]["num_curves_overlaid"] == 2 and analysis["notes"] == []
    assert "RAnalysisNumCurvesOverlaid" in (study / "paper" / "values.tex").read_text()

    paper = (study / "paper" / "paper.md").read_text()
    assert "label smoothing" in paper.split("## 3 Method", 1)[1].split("## 4", 1)[0]
    if better:
        assert "## Code changes of the best run" in paper and "+LABEL_SMOOTHING = 0.1" in paper
        assert "\\section{Code changes of the best run}" in (study / "paper" / "generated" / "code_changes.tex").read_text()
    else:  # the baseline stayed best: the paper says so in aisci's own words
        assert "No run beat the baseline" in paper
    checks = json.loads((study / "paper" / "checks.json").read_text())
    assert checks["open"] == 0, [f for f in checks["findings"] if not f["ok"]]
    review_checks = json.loads((study / "reviews" / "checks.json").read_text())
    assert review_checks and all(c["ok"] for c in review_checks), [c for c in review_checks if not c["ok"]]
