"""Ideation driven by a scripted model on the local fake server: near-duplicates dropped with
their reason (of another proposal, of a seed idea, of an earlier run's idea), reflection
rounds that end when the model changes nothing, the library search per idea (the user
library included) and the rubric point it feeds, a replay that sends nothing, and an
archive-aware second run."""

from __future__ import annotations

import json

import nbformat
import pytest

from aisci.cli import main
from tests.fake_llm_server import reply
from tests.study_helpers import init_study, set_config

USER_BIB = """@article{chen2021large,
  title = {Large learning rates and the final loss of gradient descent on quadratic problems},
  author = {Chen, Li and Okafor, Ada}, journal = {Optimization Letters}, year = {2021},
  abstract = {We study how the learning rate of gradient descent changes the final loss on quadratic fits.}
}
@article{gupta2019steps,
  title = {How many gradient steps does a fit need?},
  author = {Gupta, Ravi}, journal = {Numerical Notes}, year = {2019},
  abstract = {Fewer gradient steps leave a quadratic fit short of its optimum.}
}
"""


def idea(name, title, hypothesis, parameters, experiments=("compare final_loss with the baseline",)):
    return {"name": name, "title": title, "hypothesis": hypothesis, "related_work": "", "abstract": f"About {title}.",
            "experiments": list(experiments), "risks": ["one seed"], "parameters": parameters, "differences": []}


HIGH_LR = idea("high_lr", "A larger learning rate", "A learning rate of 0.3 lowers final_loss relative to the baseline.",
               {"lr": 0.3})
SAME_SETTING = idea("faster_lr", "Step bigger", "Bigger steps reach a lower final_loss.", {"lr": 0.3})
LIKE_THE_SEED = idea("tiny_lr", "A smaller learning rate", "A smaller learning rate raises final_loss relative to "
                     "the baseline.", {"lr": 0.03})
WEAK = idea("few_steps", "Fewer gradient steps", "Fewer steps might matter.", {"steps": 10}, experiments=("try it",))
COMBINED = idea("combined", "A larger rate and fewer steps", "With lr 0.3 and 10 steps final_loss stays below the "
                "baseline's.", {"lr": 0.3, "steps": 10})


def between(text: str, start: str, end: str):
    return json.loads(text.split(start, 1)[1].split(end, 1)[0])


class ScriptedIdeation:
    def __init__(self):
        self.prompts: dict[str, list[str]] = {}

    def __call__(self, request: dict):
        task = request["response_format"]["json_schema"]["name"]
        prompt = request["messages"][-1]["content"]
        self.prompts.setdefault(task, []).append(prompt)
        if task == "ideation_propose":
            if '"high_lr"' in prompt:  # an earlier run proposed it: the model repeats one idea, adds one
                return reply({"ideas": [HIGH_LR, COMBINED]})
            return reply({"ideas": [HIGH_LR, SAME_SETTING, LIKE_THE_SEED, WEAK]})
        if task == "ideation_reflect":
            current = between(prompt, "The idea:\n", "\n\nIts checklist score")
            papers = between(prompt, "(key, title, year, abstract):\n", "\n\nThis is reflection round")
            if current["differences"]:  # revised once already: nothing more to change
                return reply(current)
            revised = {**current, "differences": [{"key": p["key"], "how": f"we vary {list(current['parameters'])} "
                                                   f"on a toy fit, not the setting of {p['key']}"} for p in papers]}
            if current["name"] == "few_steps":
                revised.update(hypothesis="Ten gradient steps instead of 20 raise final_loss relative to the baseline.",
                               experiments=["compare final_loss with the baseline"])
            return reply(revised)
        raise AssertionError(f"unexpected task {task}")


@pytest.fixture
def study(tmp_path, toy_template, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    root = init_study(tmp_path / "s", toy_template, "--llm", f"openai:fake-model@{fake_llm.base_url}")
    (tmp_path / "zotero.bib").write_text(USER_BIB)
    set_config(root, "literature", user_library=str(tmp_path / "zotero.bib"))
    return root


def test_model_ideas_reflected_scored_and_deduplicated(study, fake_llm):
    scripted = ScriptedIdeation()
    fake_llm.respond_with(scripted)
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0

    propose = scripted.prompts["ideation_propose"][0]
    assert '"small_lr"' in propose and '"origin": "seed"' in propose  # the seed ideas go into the task
    assert "chen2021large" in propose  # so do the library's papers closest to the topic (here: the user library)

    data = json.loads((study / "ideas" / "ideas.json").read_text())
    ideas = {i["name"]: i for i in data["ideas"]}
    assert list(ideas) == ["high_lr", "few_steps"]
    dropped = {d["name"]: d for d in data["dropped"]}
    assert dropped["faster_lr"]["duplicate_of"] == "high_lr"
    assert dropped["faster_lr"]["reason"] == "sets the same parameters as high_lr (lr=0.3)"
    assert dropped["tiny_lr"]["duplicate_of"] == "small_lr" and dropped["tiny_lr"]["duplicate_origin"] == "seed"
    assert "alike with small_lr's (threshold 85%)" in dropped["tiny_lr"]["reason"]

    # K = 3 rounds by default for a model; the second changed nothing, so the third never ran
    assert data["reflections"] == 3 and len(scripted.prompts["ideation_reflect"]) == 4
    steps = ideas["few_steps"]["reflections"]
    assert [s["kept"] for s in steps] == [True, False]
    assert steps[0]["score_after"] > steps[0]["score_before"] and "changed nothing" in steps[1]["note"]
    assert ideas["few_steps"]["hypothesis"].startswith("Ten gradient steps")

    # the library search per idea, and the rubric point it feeds: one point per criterion, each with a reason
    retrieval = ideas["few_steps"]["retrieval"]
    assert "gupta2019steps" in [p["key"] for p in retrieval["papers"]] and "user library" in retrieval["searched"]
    assert all(0 <= p["overlap"] <= 1 for p in retrieval["papers"])
    rubric = {r["criterion"]: r for r in ideas["few_steps"]["rubric"]}
    assert all(r["reason"] for r in rubric.values()) and len(rubric) == 7
    differs = rubric["differs from every retrieved paper in a stated way"]
    assert differs["passed"] and "gupta2019steps" in differs["reason"]
    assert sum(r["passed"] for r in rubric.values()) == 7

    nb = nbformat.read(str(study / "ideas" / "ideation.ipynb"), 4)
    assert "Written by model:fake-model" in nb.cells[0].source and "up to 3 per idea" in nb.cells[0].source
    assert any("Dropped ideas" in c.source and "faster_lr" in c.source for c in nb.cells)
    rerun = next(c for c in nb.cells if c.cell_type == "code" and "rerun_retrieval('..', 'few_steps')" in c.source)
    shown = json.dumps(rerun.outputs)
    assert "gupta2019steps" in shown and "True" in shown  # the query ran again and found what was recorded


def test_a_replay_sends_nothing_and_a_new_run_avoids_the_archive(study, fake_llm):
    scripted = ScriptedIdeation()
    fake_llm.respond_with(scripted)
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0
    first = json.loads((study / "ideas" / "ideas.json").read_text())

    # The same request again: the archive holds this run's ideas, yet the task's inputs are unchanged.
    (study / ".aisci" / "phases.json").unlink()
    sent = fake_llm.request_count
    assert main(["run", str(study), "--quiet", "--until", "ideation", "--cache", "replay"]) == 0
    assert fake_llm.request_count == sent
    assert json.loads((study / "ideas" / "ideas.json").read_text())["ideas"] == first["ideas"]

    # A new topic is a new request: the earlier run's ideas go into the task, and a repeat is dropped.
    set_config(study, "study", topic="how few steps a toy fit needs")
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0
    propose = scripted.prompts["ideation_propose"][-1]
    earlier = between(propose, "nearby values of\nthe same parameter):\n", "\n\nPapers in the study's")
    assert {"name": "high_lr", "origin": "earlier run"}.items() <= next(
        e for e in earlier if e["name"] == "high_lr").items()
    data = json.loads((study / "ideas" / "ideas.json").read_text())
    assert [i["name"] for i in data["ideas"]] == ["combined"]
    assert data["dropped"] == [{**data["dropped"][0], "name": "high_lr", "duplicate_of": "high_lr",
                                "duplicate_origin": "earlier run"}]
    archive = json.loads((study / "ideas" / "archive.json").read_text())
    assert [[i["name"] for i in run["ideas"]] for run in archive["runs"]] == [["high_lr", "few_steps"], ["combined"]]

