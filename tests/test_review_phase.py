"""The study's review phase on a finished toy study: reviews, the grounded checks run as a notebook,
the meta-review they can lower; a macro that disagrees with its record; the method section against
the code that ran, on the offline engine and with a scripted model; the study's own main.tex as input."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from aisci.cli import main
from aisci.phases import review
from aisci.review.inputs import read_paper
from aisci.runner import make_context
from aisci.study import Study
from tests.fake_llm_server import reply
from tests.study_helpers import copy_study, init_study, set_config


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    from tests.conftest import TOY_TEMPLATE

    study = init_study(tmp_path_factory.mktemp("study") / "s", TOY_TEMPLATE)
    set_config(study, "paper", compile=False)
    set_config(study, "search", max_nodes=1)  # one node per idea: this file tests the review, not the search
    assert main(["run", str(study), "--quiet"]) == 0
    return study


@pytest.fixture
def study_copy(finished_study, tmp_path):
    return copy_study(finished_study, tmp_path / "s")


def rerun_review(study) -> list[dict]:
    review.run(make_context(Study.open(study), say=lambda message: None))
    return json.loads((study / "reviews" / "checks.json").read_text())


def by_check(findings: list[dict], check: str) -> list[dict]:
    return [f for f in findings if f["check"] == check]


def test_offline_review_leaves_reviews_checks_notebook_and_meta_review(finished_study):
    reviews = finished_study / "reviews"
    findings = json.loads((reviews / "checks.json").read_text())
    assert {f["check"] for f in findings} == {"writeup", "value", "figure", "citation", "attribution", "method_code",
                                             "data_split"}
    assert all(f["ok"] for f in findings)
    assert by_check(findings, "data_split")[0]["skipped"]  # the toy template declares no data splits
    nb = nbformat.read(str(reviews / "review.ipynb"), 4)
    emitted = [o["data"]["application/vnd.aisci.checks+json"] for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.aisci.checks+json" in o.get("data", {})]
    assert emitted and emitted[0]["findings"] == findings  # checks.json is what the executed notebook emitted
    assert nb.cells[-1].source.startswith("## Meta-review")
    meta = json.loads((reviews / "meta-review.json").read_text())
    assert meta["author"].startswith("aisci (deterministic") and any("grounded checks pass" in r for r in meta["reasons"])
    comparison = json.loads((reviews / "method_code.json").read_text())
    assert comparison["author"] == "offline-engine" and "deterministic comparison" in comparison["comparison"]["summary"]
    method = by_check(findings, "method_code")
    assert {f["evidence"]["claim"] for f in method} >= {"lr = 0.1", "steps = 20"}
    lr = next(f for f in method if f["evidence"]["claim"] == "lr = 0.1")
    assert lr["evidence"]["code_quote"] == "lr = 0.1" and lr["evidence"]["run"] == "baseline/node-0"


def test_a_studys_main_tex_reads_as_a_paper(finished_study):
    text = read_paper(finished_study / "paper" / "main.tex").text
    assert "# Method" in text and "# Results" in text and "Figure 1:" in text
    values = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{([^}]*)\}", (finished_study / "paper" / "values.tex").read_text()))
    shown = values["RAnalysisBaselineFinalLoss"].replace("\\xspace", "")
    assert f"baseline's final loss is {shown} and" in text  # macros typeset as in the PDF


def test_a_macro_that_disagrees_with_its_record_fails_and_lowers_the_meta_review(study_copy):
    values = study_copy / "paper" / "values.tex"
    text = values.read_text()
    typeset = re.search(r"\\newcommand\{\\RAnalysisBaselineFinalLoss\}\{([^}]*)\}", text).group(1)
    recorded = typeset.replace("\\xspace", "")
    values.write_text(text.replace(f"{{\\RAnalysisBaselineFinalLoss}}{{{typeset}}}", "{\\RAnalysisBaselineFinalLoss}{0.123}")
                      .replace("\\newcommand{\\RAnalysisNumRuns}", "\\newcommand{\\RAnalysisRunsDropped}"))
    findings = rerun_review(study_copy)
    failed = [f for f in findings if not f["ok"]]
    assert [f["check"] for f in failed] == ["value", "value", "value"]
    details = " | ".join(f["detail"] for f in failed)
    assert "\\RAnalysisBaselineFinalLoss = 0.123 but analysis/analysis.ipynb" in details
    assert f"records baseline_final_loss = {recorded}" in details
    assert re.search(r"\\RAnalysisRunsDropped = \d+ matches no record", details)
    assert "\\RAnalysisNumRuns is used in sections/" in details and "defines no such macro" in details
    meta = json.loads((study_copy / "reviews" / "meta-review.json").read_text())
    assert any("3 of" in r and "grounded checks failed" in r and "lowered by 3" in r for r in meta["reasons"])
    assert sum("[grounded check failed: value]" in w for w in meta["weaknesses"]) == 3
    nb = nbformat.read(str(study_copy / "reviews" / "review.ipynb"), 4)
    assert "0.123" in json.dumps([c.get("outputs", []) for c in nb.cells])  # the notebook shows the failure


def test_method_text_that_disagrees_with_the_code_fails_on_the_offline_engine(study_copy):
    paper = study_copy / "paper" / "paper.md"
    paper.write_text(paper.read_text().replace("- `steps` $= 20$", "- `steps` $= 50$"))
    findings = rerun_review(study_copy)
    failed = [f for f in findings if not f["ok"]]
    assert len(failed) == 1 and failed[0]["check"] == "method_code" and failed[0]["section"] == "method"
    evidence = failed[0]["evidence"]
    assert evidence["verdict"] == "mismatch" and evidence["paper_quote"] == "- `steps` $= 50$"
    assert evidence["code_quote"] == "steps = 20" and "no run used it" in evidence["explanation"]


# --- a scripted model reviews the study -------------------------------------------------------------
REVIEW = {"summary": "A toy study of learning rates.", "strengths": ["numbers traced to records"],
          "weaknesses": ["one seed"], "originality": 2, "quality": 3, "clarity": 3, "significance": 2,
          "questions": ["more seeds?"], "limitations": ["toy task"], "ethical_concerns": False, "soundness": 3,
          "presentation": 3, "contribution": 2, "overall": 6, "confidence": 3, "decision": "Accept"}


class ScriptedStudyReviewers:
    def __init__(self):
        self.prompts: dict[str, list[str]] = {}

    def __call__(self, request: dict):
        task = request["response_format"]["json_schema"]["name"]
        system, user = request["messages"][0]["content"], request["messages"][-1]["content"]
        self.prompts.setdefault(task, []).append(system + "\n" + user)
        numbered = re.search(r"reviewer (\d+) of", system)
        index = int(numbered.group(1)) if numbered else 0
        if task == "review_paper":
            return reply({**REVIEW, "overall": 6 + index % 2, "summary": f"Reviewer {index}: a toy study."})
        if task == "review_reflect":
            previous = json.loads(user.split("Your review so far:", 1)[1].split("Answer with one JSON")[0])
            return reply({**previous, "questions": previous["questions"] + ["why 20 steps?"]})
        if task == "review_method_code":
            return reply({"summary": "Two claims checked.", "items": [
                {"claim": "learning rate 0.1", "paper_quote": "`lr` $= 0.1$", "code_quote": "lr = 0.3",
                 "run": "lr_0_3/node-0", "verdict": "mismatch",
                 "explanation": "the best run uses 0.3 where the method says 0.1"},
                {"claim": "dropout", "paper_quote": "we apply dropout of 0.5", "code_quote": "",
                 "run": "lr_0_3/node-0", "verdict": "not_in_code", "explanation": "made up"},
                {"claim": "20 steps", "paper_quote": "`steps` $= 20$", "code_quote": "steps = 20",
                 "run": "lr_0_3/node-0", "verdict": "consistent", "explanation": "same"}]})
        if task == "review_meta":
            return reply({"summary": "The area chair weighs two reviews.", "strengths": ["traced numbers"],
                          "weaknesses": ["the method and the code disagree on lr"], "overall": 7,
                          "decision": "Accept", "reasons": ["reviewers lean to accept"]})
        raise AssertionError(f"unexpected task {task}")


def test_a_scripted_model_reviews_the_study_and_compares_method_with_code(study_copy, fake_llm, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    scripted = ScriptedStudyReviewers()
    fake_llm.respond_with(scripted)
    set_config(study_copy, "llm.roles", review=f"openai:fake-model@{fake_llm.base_url}")
    set_config(study_copy, "review", num_reviews=2, num_reflections=1, temperature=0.3)
    findings = rerun_review(study_copy)
    assert {task: len(p) for task, p in scripted.prompts.items()} == {
        "review_paper": 2, "review_reflect": 2, "review_method_code": 1, "review_meta": 1}
    assert ["reviewer 1 of an ensemble" in p for p in scripted.prompts["review_paper"]] == [True, False]
    assert "lr = 0.3" in scripted.prompts["review_method_code"][0]  # the best run's code went to the model

    method = by_check(findings, "method_code")
    mismatch = next(f for f in method if f["evidence"]["claim"] == "learning rate 0.1")
    assert not mismatch["ok"] and not mismatch["skipped"] and "model:fake-model" in mismatch["detail"]
    made_up = next(f for f in method if f["evidence"]["claim"] == "dropout")
    assert made_up["skipped"] and "paper quote is not in the paper" in made_up["detail"]  # never counted
    assert next(f for f in method if f["evidence"]["claim"] == "20 steps")["ok"]

    reviews = [json.loads((study_copy / "reviews" / f"review-{i}.json").read_text()) for i in (1, 2)]
    assert [r["overall"] for r in reviews] == [7, 6] and all(r["reflection_rounds"] == 1 for r in reviews)
    assert all("why 20 steps?" in r["questions"] and r["author"] == "model:fake-model" for r in reviews)
    meta_prompt = scripted.prompts["review_meta"][0]
    assert "FAILED [method_code]" in meta_prompt and "range (6-7)" in meta_prompt
    meta = json.loads((study_copy / "reviews" / "meta-review.json").read_text())
    assert meta["author"] == "model:fake-model" and meta["overall"] == 6 and meta["decision"] == "Accept"
    assert any("lowered by 1" in r for r in meta["reasons"])

    sent = fake_llm.request_count
    rerun_review(study_copy)  # the same study again: every call replays from the study's call store
    assert fake_llm.request_count == sent
