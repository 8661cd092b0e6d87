"""The LLM reviewer against the scripted local server: an ensemble with reflection rounds and an
area-chair meta-review, persona and few-shot examples in the prompts, replay from the call store,
`aisci review --llm openai:MODEL@URL` and `aisci review-bench --run openai:MODEL@URL`."""

from __future__ import annotations

import json
import re

import pytest

from aisci.cli import main
from aisci.config import ReviewSection
from aisci.review.instructions import ReviewSetupError
from aisci.review.llm_reviewer import LLMReviewer
from aisci.review.synthetic import write_synthetic_bench
from tests.fake_llm_server import reply

PAPER = """# Widgets at Scale

## Abstract
We scale widgets to a billion parameters and report accuracy over 5 seeds.

## 1 Introduction
Widgets matter (Smith et al., 2020).

## 2 Method
We train widgets with lr = 0.1 for 20 steps.

## 3 Experiments
Table 1: accuracy 0.91 ± 0.02 against the baseline.

## 4 Conclusion
Widgets scale.
"""


def review_json(overall: int, **changes) -> dict:
    review = {"summary": "Widgets are scaled.", "strengths": ["clear writing"], "weaknesses": ["one dataset"],
              "originality": 2, "quality": 3, "clarity": 3, "significance": 2, "questions": ["more datasets?"],
              "limitations": ["one dataset"], "ethical_concerns": False, "soundness": 3, "presentation": 3,
              "contribution": 2, "overall": overall, "confidence": 3,
              "decision": "Accept" if overall >= 6 else "Reject"}
    return {**review, **changes}


class ScriptedReviewers:
    """Answers each review task by its JSON-schema name: reviewer i of N gives Overall 3 + i; the first
    reflection adds a weakness and lowers Overall by one, the second leaves the review as it is; the
    area chair answers Overall 9 and Accept (out of the reviewers' range, to be corrected)."""

    def __init__(self):
        self.seen: list[tuple[str, str, str]] = []  # (task, system prompt, user prompt)

    def __call__(self, request: dict):
        task = request["response_format"]["json_schema"]["name"]
        system, user = request["messages"][0]["content"], request["messages"][-1]["content"]
        self.seen.append((task, system, user))
        numbered = re.search(r"reviewer (\d+) of", system)
        index = int(numbered.group(1)) if numbered else 0
        if task == "review_paper":
            title = user.split("The paper:", 1)[1].strip().splitlines()[0]
            return reply(review_json(3 + index, summary=f"Reviewer {index}'s view of {title}."))
        if task == "review_reflect":
            previous = json.loads(user.split("Your review so far:", 1)[1].split("Answer with one JSON")[0])
            if "Reflection round 1 of" in user:
                return reply({**previous, "weaknesses": previous["weaknesses"] + [f"no ablation ({index})"],
                              "overall": previous["overall"] - 1,
                              "decision": "Accept" if previous["overall"] - 1 >= 6 else "Reject"})
            return reply(previous)
        if task == "review_meta":
            return reply({"summary": "The area chair's summary.", "strengths": ["scale"], "weaknesses": ["ablation"],
                          "overall": 9, "decision": "Accept", "reasons": ["the reviewers like it"]})
        raise AssertionError(f"unexpected task {task}")

    def tasks(self) -> list[str]:
        return [task for task, _, _ in self.seen]


@pytest.fixture
def scripted(fake_llm):
    reviewers = ScriptedReviewers()
    fake_llm.respond_with(reviewers)
    return reviewers


def _example(tmp_path):
    (tmp_path / "example_paper.md").write_text("# An Example Paper\n\n## Abstract\nGadgets, measured carefully.\n")
    (tmp_path / "example.json").write_text(json.dumps({"paper": "example_paper.md", "review": review_json(
        4, summary="EXAMPLE-REVIEW-MARKER: gadgets are measured.")}))
    return "example.json"


def test_ensemble_reflections_and_area_chair_then_replay(tmp_path, fake_llm, scripted, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "paper.md").write_text(PAPER)
    argv = ["review", "paper.md", "--llm", f"openai:fake-model@{fake_llm.base_url}", "--num-reviews", "3",
            "--num-reflections", "2", "--persona", "strict", "--few-shot", _example(tmp_path),
            "--temperature", "0.5", "--out", "review.json"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    # 3 reviews; each reflects twice (round 1 changes it, round 2 returns it unchanged: stop); one area chair
    assert sorted(scripted.tasks()) == ["review_meta"] + ["review_paper"] * 3 + ["review_reflect"] * 6
    papers = [(system, user) for task, system, user in scripted.seen if task == "review_paper"]
    assert len(set(papers)) == 3  # the ensemble members' requests differ, so the store keeps three reviews
    assert all("strict, demanding reviewer" in system and "EXAMPLE-REVIEW-MARKER" in system and
               "Gadgets, measured carefully." in system for system, _ in papers)
    assert all("Widgets at Scale" in user for _, user in papers)
    assert {r.body["temperature"] for r in fake_llm.requests if "review_paper" in json.dumps(r.body["response_format"])} == {0.5}
    meta_prompt = next(user for task, _, user in scripted.seen if task == "review_meta")
    assert "none ran" in meta_prompt and '"overall": 5' in meta_prompt  # reviewer 3 after its reflection

    record = json.loads((tmp_path / "review.json").read_text())
    runs = record["evidence"]["reviews"]
    assert [r["overall"] for r in runs] == [3, 4, 5] and [r["reflection_rounds"] for r in runs] == [1, 1, 1]
    assert runs[0]["history"][0]["overall"] == 4 and "no ablation (1)" in runs[0]["weaknesses"]
    meta = record["evidence"]["meta_review"]
    assert meta["overall"] == 5 and meta["decision"] == "Reject"  # 9 is outside the reviewers' 3-5
    assert any("outside the reviewers' range 3-5" in reason for reason in meta["reasons"])
    assert record["review"]["overall"] == 5 and record["review"]["decision"] == "Reject"
    assert record["review"]["summary"] == "The area chair's summary."
    assert "Ensemble of 3 review(s); meta-review by model:fake-model" in printed

    sent = fake_llm.request_count
    assert main(argv) == 0  # the same command again: every call is answered by the call store
    assert fake_llm.request_count == sent
    assert json.loads((tmp_path / "review.json").read_text())["review"] == record["review"]
    assert (tmp_path / "aisci-review-calls.sqlite").exists()


def test_one_review_gets_the_deterministic_meta_review(tmp_path, fake_llm, scripted):
    reviewer = LLMReviewer.standalone(f"openai:fake-model@{fake_llm.base_url}", store=tmp_path / "calls.sqlite",
                                      settings=ReviewSection(accept_threshold=4))
    form, evidence = reviewer.review_with_evidence(PAPER)
    assert scripted.tasks() == ["review_paper"]
    assert form.overall == 4 and form.decision == "Accept"  # the threshold is the reviewer's setting, not 6
    assert evidence["meta_review_author"].startswith("aisci (deterministic")


def test_review_bench_runs_a_model_reviewer_resumably(tmp_path, fake_llm, scripted, capsys):
    bench = write_synthetic_bench(tmp_path / "bench")
    out = tmp_path / "runs"
    argv = ["review-bench", str(bench), "--run", f"openai:fake-model@{fake_llm.base_url}", "--limit", "2",
            "--num-reviews", "2", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2 reviewed, 0 cached" in captured.err
    assert "bal acc" in captured.out and re.search(r"Overall>=6\s+2\s+0\s", captured.out)  # 2 papers, none missing
    assert scripted.tasks().count("review_paper") == 4 and scripted.tasks().count("review_meta") == 2
    assert (out / "calls.sqlite").exists() and len(list(out.glob("paper*.json"))) == 2
    sent = fake_llm.request_count
    assert main(argv) == 0
    assert "0 reviewed, 2 cached" in capsys.readouterr().err and fake_llm.request_count == sent


def _error_line(capsys, argv, message):
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_bad_reviewer_settings_are_one_line_errors(tmp_path, fake_llm, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "paper.md").write_text(PAPER)
    model = f"openai:fake-model@{fake_llm.base_url}"
    _error_line(capsys, ["review", "paper.md", "--llm", model, "--persona", "grumpy"], "not one of lenient, neutral, strict")
    (tmp_path / "bad.json").write_text(json.dumps({"paper_text": "x", "review": {"overall": 11}}))
    _error_line(capsys, ["review", "paper.md", "--llm", model, "--few-shot", "bad.json"], "few-shot example")
    (tmp_path / "broken.json").write_text("{not json")
    _error_line(capsys, ["review", "paper.md", "--llm", model, "--few-shot", "broken.json"], "not valid JSON")
    _error_line(capsys, ["review", "paper.md", "--llm", model, "--few-shot", "missing.json"], "no such file")
    _error_line(capsys, ["review", "paper.md", "--llm", model, "--num-reviews", "0"], "--num-reviews")
    _error_line(capsys, ["review", "paper.md", "--num-reviews", "3"], "applies to a model reviewer")
    _error_line(capsys, ["review", "paper.md", "--llm", "openai:"], "unknown reviewer")
    assert fake_llm.request_count == 0


def test_persona_from_a_file_and_example_paper_cut_to_length(tmp_path):
    (tmp_path / "mine.txt").write_text("You are REVIEWER-MINE.")
    (tmp_path / "long.json").write_text(json.dumps({"paper_text": "word " * 5000, "review": review_json(5)}))
    settings = ReviewSection(persona="mine.txt", few_shot=["long.json"], few_shot_max_chars=300)
    reviewer = LLMReviewer.standalone("openai:m@http://127.0.0.1:9/v1", store=tmp_path / "c.sqlite",
                                      settings=settings, base_dir=tmp_path)
    assert reviewer.persona == "You are REVIEWER-MINE."
    assert "[... the rest of the paper is left out ...]" in reviewer.few_shot and len(reviewer.few_shot) < 2000
    with pytest.raises(ReviewSetupError):
        LLMReviewer.standalone("openai:m@http://127.0.0.1:9/v1", store=tmp_path / "c.sqlite",
                               settings=ReviewSection(persona="none.txt"), base_dir=tmp_path)
