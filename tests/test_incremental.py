"""Exact incremental reruns (issue 15, item 2) and the runner's hooks, on one toy study.

A phase's fingerprint covers only what it declares it reads (aisci/runner.py); a phase whose
outputs come out byte-identical does not make the phases after it rerun."""

from __future__ import annotations

from unittest import mock

import pytest

from aisci import api
from aisci.artifacts import ExperimentSummary
from aisci.cli import main
from aisci.config import Section, StudyConfig
from aisci.constants import PHASE_NAMES
from aisci.hooks import Hooks
from aisci.runner import run_study
from aisci.study import Study
from tests.study_helpers import copy_study, executed_notebooks, init_study, set_config

NEW_PAPER = """@article{zhang2099quadratic,
  title = {Learning Rates for Noisy Quadratic Fits},
  author = {Zhang, Wei and Okafor, Ada},
  journal = {Journal of Toy Problems},
  year = {2099},
  abstract = {We study gradient descent with a learning rate on a toy quadratic fit with noisy gradients.}
}
"""


class Recorder:
    """Every hook call, in order, as (hook, detail)."""

    def __init__(self):
        self.calls: list[tuple[str, object]] = []

    def hooks(self) -> Hooks:
        def note(name, detail):
            return lambda *args: self.calls.append((name, detail(*args)))
        return Hooks(on_phase_start=note("phase_start", lambda e: (e.phase, e.up_to_date)),
                     on_phase_end=note("phase_end", lambda e: (e.phase, e.ran)),
                     on_phase_error=note("phase_error", lambda e, error: (e.phase, type(error).__name__)),
                     on_node_start=note("node_start", lambda node: node.id),
                     on_node_end=note("node_end", lambda node: (node.id, str(node.status))),
                     on_gate=note("gate", lambda stop: stop.gate),
                     on_message=note("message", lambda text: text))

    def of(self, name: str) -> list:
        return [detail for hook, detail in self.calls if hook == name]


class ConfigReads:
    """Which aisci.toml keys each phase reads while it runs (every attribute read of a config
    section, attributed to the phase the hooks say is running)."""

    def __init__(self):
        self.phase: str | None = None
        self.reads: dict[str, set[str]] = {}
        self.names = {field.annotation: name for name, field in StudyConfig.model_fields.items()}

    def hooks(self) -> Hooks:
        def start(event):
            self.phase = event.phase
        return Hooks(on_phase_start=start, on_phase_end=lambda event: setattr(self, "phase", None))

    def patch(self):
        original = Section.__getattribute__
        recorder = self

        def reading(section, name):
            cls = original(section, "__class__")
            if recorder.phase and name in cls.model_fields and cls in recorder.names:
                recorder.reads.setdefault(recorder.phase, set()).add(f"{recorder.names[cls]}.{name}")
            return original(section, name)
        return mock.patch.object(Section, "__getattribute__", reading)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    from tests.conftest import TOY_TEMPLATE

    study = init_study(tmp_path_factory.mktemp("incremental") / "s", TOY_TEMPLATE)
    recorder, config_reads = Recorder(), ConfigReads()
    with config_reads.patch():
        outcome = api.run(study, progress=False, hooks=recorder.hooks().extend(config_reads.hooks()))
    assert outcome.finished and outcome.ran == list(PHASE_NAMES)
    return study, recorder, config_reads


@pytest.fixture
def study(first_run, tmp_path):
    return copy_study(first_run[0], tmp_path / "s")


def rerun(study) -> tuple[list[str], list[str]]:
    """(phases that ran, notebooks executed) by a plain rerun."""
    before = len(executed_notebooks(study))
    report = run_study(Study.open(study), say=lambda _message: None)
    return report.ran, executed_notebooks(study)[before:]


# how calls are made, not what they answer: left out of every fingerprint on purpose
HOW_CALLS_ARE_MADE = {"llm.cache", "llm.timeout_s", "llm.max_retries", "llm.backoff_s", "llm.max_backoff_s",
                      "llm.prices", "budget.max_usd", "budget.max_tokens"}


def test_each_phase_declares_every_config_key_it_reads(first_run):
    """The fingerprint covers only what a phase declares (CONFIG, plus the model of its role),
    so a key it reads undeclared would leave a stale result after a change: none may."""
    from aisci.phases import PHASES
    from aisci.runner import LLM_KEYS

    reads = first_run[2].reads
    assert set(reads) == set(PHASE_NAMES)
    for name, keys in reads.items():
        declared = (*PHASES[name].CONFIG, *LLM_KEYS, "llm.default", "llm.roles", "llm.endpoints")
        undeclared = {k for k in keys - HOW_CALLS_ARE_MADE
                      if not any(k == d or k.startswith(d + ".") for d in declared)}
        assert undeclared == set(), f"{name} reads {sorted(undeclared)} without declaring them in CONFIG"


def test_hooks_report_every_phase_and_node_in_order(first_run):
    study, recorder, _ = first_run
    assert recorder.of("phase_start") == [(name, False) for name in PHASE_NAMES]
    assert recorder.of("phase_end") == [(name, True) for name in PHASE_NAMES]
    nodes = ExperimentSummary.load(study).nodes
    assert sorted(recorder.of("node_start")) == sorted(n.id for n in nodes)
    assert sorted(recorder.of("node_end")) == sorted((n.id, str(n.status)) for n in nodes)
    # a node's end comes after its start, and inside the experiments phase
    order = [(hook, detail) for hook, detail in recorder.calls if hook != "message"]
    experiments = (order.index(("phase_start", ("experiments", False))), order.index(("phase_end", ("experiments", True))))
    for node in nodes:
        start, end = order.index(("node_start", node.id)), order.index(("node_end", (node.id, str(node.status))))
        assert experiments[0] < start < end < experiments[1]
    assert any(f"running {nodes[0].id}" in text for text in recorder.of("message"))
    assert recorder.of("gate") == [] and recorder.of("phase_error") == []


def test_a_finished_study_reruns_nothing_and_says_each_phase_is_up_to_date(study):
    recorder = Recorder()
    outcome = api.run(study, progress=False, hooks=recorder.hooks())
    assert outcome.ran == [] and outcome.skipped == list(PHASE_NAMES)
    assert recorder.of("phase_start") == [(name, True) for name in PHASE_NAMES]
    assert recorder.of("node_start") == []


def test_a_review_setting_reruns_the_review_only(study):
    set_config(study, "review", num_reviews=2)
    ran, notebooks = rerun(study)
    assert ran == ["review"] and notebooks == ["reviews/review.ipynb"]
    assert (study / "reviews" / "meta-review.json").exists()


def test_how_the_nodes_run_is_no_config_change(study):
    """workers, executor, dask_scheduler and threads say how nodes run, not what they compute:
    nothing reruns (had the experiments phase run, it would have tried the scheduler and failed)."""
    set_config(study, "experiments", workers=2, threads=2, executor="dask", dask_scheduler="tcp://127.0.0.1:9")
    ran, notebooks = rerun(study)
    assert ran == [] and notebooks == []
    # a node's time limit is what it may compute: the phase reruns (and runs no node again)
    set_config(study, "experiments", executor="local", timeout_s=901)
    report = run_study(Study.open(study), until="experiments", say=lambda _message: None)
    assert report.ran == ["experiments"]


def test_a_writeup_setting_reruns_writeup_and_what_its_changed_outputs_reach(study):
    set_config(study, "paper", author="A. Person")
    ran, _ = rerun(study)
    assert ran[0] == "writeup" and set(ran) <= {"writeup", "review"}


def test_a_phase_rerun_with_byte_identical_outputs_does_not_rerun_what_follows(study):
    before = (study / "experiments" / "summary.json").read_bytes()
    report = run_study(Study.open(study), redo=["experiments"], say=lambda _message: None)
    assert report.ran == ["experiments"]  # no node executed again, the same summary written
    assert (study / "experiments" / "summary.json").read_bytes() == before
    assert report.skipped == ["ideation", "novelty", "analysis", "writeup", "review"]


def test_lit_add_reruns_novelty_and_only_what_its_changed_outputs_reach(study, capsys):
    (study.parent / "new.bib").write_text(NEW_PAPER, encoding="utf-8")
    assert main(["lit", "add", str(study), str(study.parent / "new.bib")]) == 0
    novelty_before = (study / "ideas" / "novelty.json").read_bytes()
    summary_before = (study / "experiments" / "summary.json").read_bytes()
    ran, notebooks = rerun(study)
    assert ran[0] == "novelty" and "ideation" not in ran
    assert not any(n.startswith("experiments/") for n in notebooks)  # no node runs again
    if (study / "ideas" / "novelty.json").read_bytes() == novelty_before:
        assert "experiments" not in ran
    # the experiments' summary is byte-identical, so the analysis, which reads only it, stays
    assert (study / "experiments" / "summary.json").read_bytes() == summary_before
    assert "analysis" not in ran
    # the writeup reads the library (its references), so it is the one other phase that may rerun
    assert set(ran) <= {"novelty", "experiments", "writeup", "review"}


def test_a_gate_stop_is_told_to_the_hooks_with_its_fields(tmp_path, toy_template):
    study = init_study(tmp_path / "g", toy_template)
    set_config(study, "gates", ideas="stop")
    recorder = Recorder()
    outcome = api.run(study, progress=False, hooks=recorder.hooks())
    assert outcome.stopped_at == "ideas" and outcome.ran == ["ideation"]
    assert outcome.waiting_items  # the ideas waiting for a decision
    assert recorder.of("gate") == ["ideas"]
    assert recorder.of("phase_end") == [("ideation", True)]  # novelty stopped: it did not end


def test_a_subscriber_to_an_unknown_hook_is_refused():
    with pytest.raises(TypeError, match="unknown hook 'on_cell_start'"):
        Hooks(on_cell_start=print)
