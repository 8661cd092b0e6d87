"""Ideation on the offline engine (the library seeded with the template's references, no
reflection rounds and a notebook that says why, an archive-aware second run), and the
pieces it is made of: near-duplicate reasons, the word comparison, the rubric."""

from __future__ import annotations

import json

import nbformat
import pytest

from aisci.cli import main
from aisci.ideas import (
    Difference,
    Idea,
    Retrieval,
    RetrievedPaper,
    canonical_parameters,
    checklist_rubric,
    coverage,
    duplicate_reason,
    offline_differences,
    template_background,
    terms,
)
from aisci.manifest import load_template
from tests.study_helpers import init_study, set_config

CRITERION = "differs from every retrieved paper in a stated way"


def make(name, title, hypothesis, parameters, **extra) -> Idea:
    return Idea(name=name, title=title, hypothesis=hypothesis, abstract="a", parameters=parameters,
                experiments=["compare final_loss with the baseline"], **extra)


def test_offline_ideation_seeds_the_library_and_says_it_runs_no_reflection(tmp_path, toy_template, capsys):
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "ideation", num_ideas=1, reflections=2)
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0

    assert "@article{robbins1951stochastic," in (study / "literature" / "library.bib").read_text()
    data = json.loads((study / "ideas" / "ideas.json").read_text())
    assert data["reflections"] == 0 and data["library"] == "study library (1 entries)"
    (idea,) = data["ideas"]
    assert idea["name"] == "small_lr" and idea["origin"] == "seed" and idea["reflections"] == []
    assert idea["retrieval"]["query"].startswith("A smaller learning rate")
    assert len(idea["rubric"]) == 7 and all(r["reason"] for r in idea["rubric"])
    intro = nbformat.read(str(study / "ideas" / "ideation.ipynb"), 4).cells[0].source
    assert "Reflection rounds: none" in intro and "reflections = 2 is ignored here" in intro
    assert "1 seed idea(s) and 0 from earlier runs" in intro

    # Another topic is another request: the earlier run's idea goes into the task, so the
    # offline engine moves on to a setting nobody tried.
    set_config(study, "study", topic="step sizes on a toy fit")
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0
    data = json.loads((study / "ideas" / "ideas.json").read_text())
    assert [i["name"] for i in data["ideas"]] == ["lr_0_3"] and data["earlier_ideas"] == 2
    archive = json.loads((study / "ideas" / "archive.json").read_text())
    assert [[i["name"] for i in run["ideas"]] for run in archive["runs"]] == [["small_lr"], ["lr_0_3"]]
    assert "1 seed idea(s) and 1 from earlier runs" in nbformat.read(
        str(study / "ideas" / "ideation.ipynb"), 4).cells[0].source

    # A third request with nothing left to try says so rather than failing.
    set_config(study, "ideation", num_ideas=5)
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0
    assert "ideation kept 1 of the 5 ideas asked for" in capsys.readouterr().out
    assert [i["name"] for i in json.loads((study / "ideas" / "ideas.json").read_text())["ideas"]] == ["steps_10"]


def test_duplicates_are_explained():
    a = make("high_lr", "A larger learning rate", "A learning rate of 0.3 lowers final_loss.", {"lr": 0.3})
    same = make("other", "Something else entirely", "Different words.", {"lr": 0.30})
    assert duplicate_reason(same, a, 0.85) == "sets the same parameters as high_lr (lr=0.3)"
    assert canonical_parameters({"steps": 10}) == canonical_parameters({"steps": 10.0})
    reworded = make("larger_lr", "A larger learning rate", "A learning rate of 0.3 lowers final_loss!", {"lr": 0.2})
    assert duplicate_reason(reworded, a, 0.85).startswith("title and hypothesis 100% alike with high_lr's")
    other_knob = make("more_steps", "A larger learning rate", "A learning rate of 0.3 lowers final_loss.",
                      {"steps": 40})
    assert duplicate_reason(other_knob, a, 0.85) is None  # another parameter: another experiment
    assert duplicate_reason(reworded, a, threshold=1.01) is None  # a threshold above any similarity


def test_terms_and_the_scale_free_overlap():
    assert terms("Setting lr to 0.3 (higher than the baseline's 0.1) changes final_loss; learning rates") == {
        "lr", "0.3", "0.1", "final", "loss", "learning", "rate"}
    share, matched = coverage({"learning", "rate", "0.3", "lr"}, "Large learning rates on quadratic fits")
    assert (share, matched) == (0.5, ["learning", "rate"])
    background = template_background(load_template("tests/fixtures/toy").manifest)
    assert {"final", "loss", "0.1", "20"} <= background  # metric names and baseline values say nothing about an idea


def test_the_retrieved_papers_criterion():
    idea = make("high_lr", "A larger learning rate", "A learning rate of 0.3 lowers final_loss.", {"lr": 0.3})
    manifest = load_template("tests/fixtures/toy").manifest

    def item(candidate):
        return {r.criterion: r for r in checklist_rubric(candidate, manifest, [candidate])}[CRITERION]

    assert not item(idea).passed and item(idea).reason == "no library search was run for this idea"
    empty = idea.model_copy(update={"retrieval": Retrieval(query="q", searched="study library (0 entries)")})
    assert item(empty).passed and "nothing to differ from" in item(empty).reason
    papers = [RetrievedPaper(key="k1", title="t1", overlap=0.2, matched=["learning"]),
              RetrievedPaper(key="k2", title="t2", overlap=0.9, matched=["learning", "rate", "0.3", "lr"])]
    found = idea.model_copy(update={"retrieval": Retrieval(query="q", papers=papers),
                                    "differences": [Difference(key="k1", how="it tunes momentum, not the rate"),
                                                    Difference(key="k2", how="differs")]})
    assert not item(found).passed and item(found).reason == "no stated difference from k2 (retrieved: k1, k2)"
    stated = found.model_copy(update={"differences": [*found.differences[:1],
                                                      Difference(key="k2", how="it fits images, not quadratics")]})
    assert item(stated).passed

    # the offline engine states a difference only where the word overlap stays below the threshold
    assert [d.key for d in offline_differences(idea, papers, threshold=0.7)] == ["k1"]


@pytest.mark.parametrize("setting, message", [
    ({"reflections": -1}, "ideation.reflections"),
    ({"duplicate_threshold": 0}, "ideation.duplicate_threshold"),
])
def test_bad_ideation_settings_are_one_line_errors(tmp_path, toy_template, capsys, setting, message):
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "ideation", **setting)
    assert main(["run", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_seed_idea_over_the_compute_limit_is_dropped_and_said(tmp_path, toy_template, capsys):
    from aisci.artifacts import Ideas
    from aisci.writeup.facts import dropped_seeds_sentence

    study = init_study(tmp_path / "s", toy_template)
    seeds = study / "template" / "seed_ideas.json"
    seeds.write_text(json.dumps([*json.loads(seeds.read_text()), {
        "name": "long_run", "title": "Four times the steps", "hypothesis": "More steps lower final_loss.",
        "parameters": {"steps": 80}}]))
    set_config(study, "ideation", num_ideas=3)
    assert main(["run", str(study), "--quiet", "--until", "ideation"]) == 0
    printed = capsys.readouterr()
    assert "ideation: dropped long_run: seed idea over the compute limit: estimated 4x" in printed.out + printed.err
    data = json.loads((study / "ideas" / "ideas.json").read_text())
    assert "long_run" not in [i["name"] for i in data["ideas"]]
    (dropped,) = [d for d in data["dropped"] if d["name"] == "long_run"]
    assert dropped["stage"] == "feasibility" and dropped["duplicate_of"] is None
    nb = nbformat.read(str(study / "ideas" / "ideation.ipynb"), 4)
    assert any("Dropped ideas" in c.source and "long_run" in c.source for c in nb.cells)
    assert dropped_seeds_sentence(Ideas.load(study)) == (" The template's seed idea \\emph{Four times the steps} was not tested: "
                                           "the estimated compute is over the limit the ideas rubric allows, so "
                                           "ideation dropped it.")
