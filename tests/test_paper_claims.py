"""The detector of claims about experiments no notebook ran."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from aisci.artifacts import ExperimentSummary
from aisci.paper.claims import Evidence, seeds_per_configuration, unrun_claims
from aisci.manifest import load_template

TOY = "tests/fixtures/toy"
EVIDENCE = Evidence("import torch nn batchnorm1d self mlp nn linear lr 0 1 mnist loader", False, 1)


def kinds(tex: str, evidence: Evidence = EVIDENCE) -> list[tuple[str, str]]:
    return [(c.kind, c.term) for c in unrun_claims(tex, evidence)]


def test_an_injected_claim_about_an_experiment_never_run_is_flagged():
    found = kinds("We also train a ResNet on CIFAR-10, averaged over five seeds.")
    assert ("dataset", "CIFAR-10") in found and ("model", "ResNet") in found
    assert ("seeds", "averaged over five seeds") in found or ("seeds", "five seeds") in found


def test_what_the_notebooks_ran_is_not_flagged():
    assert kinds("We train an MLP with BatchNorm on MNIST.") == []  # BatchNorm1d in the code counts


def test_negated_hedged_and_others_work_is_not_a_claim():
    assert kinds("We did not evaluate on ImageNet.") == []
    assert kinds("Future work could run an ablation on CIFAR-100 with five seeds.") == []
    assert kinds("Unlike prior work on ImageNet, we use a toy problem.") == []
    assert kinds("Transformers are popular for language.") == []  # no claim about this study


def test_ablation_and_spread_need_the_runs_behind_them():
    assert kinds("Our ablation removes the noise.") == [("ablation", "ablation")]
    assert kinds("We report the standard deviation across runs.") == [("seeds", "standard deviation")]
    replicated = Evidence(EVIDENCE.text, True, 3)
    assert kinds("Our ablation over three seeds reports the standard deviation.", replicated) == []


def test_a_longer_name_is_not_read_as_a_shorter_one():
    found = kinds("We fine-tune a Vision Transformer.")
    assert found == [("model", "Vision Transformer")]


def test_evidence_from_a_study_reads_notebooks_parameters_and_the_template(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# Fit"), new_code_cell("model = nn.LSTM(4, 8)\nopt = Adam(lr)")])
    nbformat.write(nb, str(tmp_path / "n.ipynb"))
    summary = {"nodes": [
        {"id": "baseline/node-0", "idea": "baseline", "kind": "baseline", "status": "done", "notebook": "n.ipynb",
         "parameters": {"lr": 0.1, "seed": 0}},
        {"id": "a/node-0", "idea": "a", "kind": "draft", "status": "done", "notebook": "n.ipynb",
         "parameters": {"lr": 0.3, "seed": 0}},
        {"id": "a/node-1", "idea": "a", "kind": "replica", "status": "done", "notebook": "n.ipynb",
         "parameters": {"lr": 0.3, "seed": 1}},
        {"id": "b/node-0", "idea": "b", "kind": "draft", "status": "failed", "notebook": "missing.ipynb",
         "parameters": {"dataset": "cifar10"}}]}
    summary = ExperimentSummary.model_validate(summary)
    evidence = Evidence.from_study(tmp_path, summary, load_template(TOY).manifest)
    assert evidence.seeds == 2 and not evidence.has_ablation
    assert kinds("We train an LSTM with Adam on the toy quadratic fit.", evidence) == []
    assert kinds("We train on CIFAR-10.", evidence) == [("dataset", "CIFAR-10")]  # only a failed node named it
    assert kinds("We report the mean over two seeds.", evidence) == []
    assert json.loads(json.dumps(seeds_per_configuration(summary.nodes))) == 2
