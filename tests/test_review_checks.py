"""Grounded checks on small paper and study folders made here: the train/test overlap probe, the
attribution check, citation forms, the method-vs-code findings' quote verification."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest

from aisci.paper.checks import (
    check_attribution,
    check_citations,
    check_method_code,
    check_split_overlap,
)
from aisci.records import RECORD_MIME
from aisci.review.method_code import offline_comparison, quoted_in, study_sources
from aisci.review.overlap import overlap_fraction

MANIFEST = 'name = "t"\ntitle = "T"\n'


def make_study(root, overlaps: dict[str, float | None], data: str | None) -> None:
    """A study folder with finished runs whose notebooks record the given train/test overlaps."""
    (root / "template").mkdir(parents=True)
    (root / "aisci.toml").write_text('[study]\ntopic = "splits"\ntemplate = "template"\n')
    (root / "template" / "manifest.toml").write_text(MANIFEST + (data or ""))
    nodes = []
    for run, overlap in overlaps.items():
        notebook = f"experiments/{run}/node-0/experiment.ipynb"
        outputs = [nbformat.v4.new_output("display_data", data={
            RECORD_MIME: {"name": "final_loss", "value": 0.5}, "text/plain": "loss"})]
        if overlap is not None:
            outputs.append(nbformat.v4.new_output("display_data", data={
                RECORD_MIME: {"name": "train_test_overlap", "value": overlap}, "text/plain": "overlap"}))
        cell = nbformat.v4.new_code_cell("aisci.record(...)")
        cell.outputs = outputs
        (root / notebook).parent.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(root / notebook))
        nodes.append({"id": f"{run}/node-0", "idea": run, "kind": "draft", "status": "done", "notebook": notebook})
    (root / "experiments" / "summary.json").write_text(json.dumps({"nodes": nodes, "best": nodes[0]["id"]}))


DECLARED = '\n[data]\nsplits = ["train", "test"]\nmax_overlap = 0.05\n'


def test_overlap_probe_passes_fails_and_asks_for_the_record(tmp_path):
    make_study(tmp_path, {"baseline": 0.0, "leaky": 0.57, "silent": None}, DECLARED)
    findings = {f.detail.split(":")[0]: f for f in check_split_overlap(tmp_path)}
    assert findings["baseline/node-0"].ok and "0.0% of the test examples" in findings["baseline/node-0"].detail
    leaky = findings["leaky/node-0"]
    assert not leaky.ok and "57.0% of the test examples also appear in the training split" in leaky.detail
    assert "above the allowed 5.0%" in leaky.detail and leaky.evidence["cell_index"] == 0
    silent = findings["silent/node-0"]
    assert not silent.ok and "records no train_test_overlap" in silent.detail and "overlap_fraction" in silent.detail


def test_overlap_probe_is_skipped_when_no_split_is_declared_or_measured(tmp_path):
    make_study(tmp_path / "a", {"baseline": None}, None)
    [finding] = check_split_overlap(tmp_path / "a")
    assert finding.skipped and "declares no data splits" in finding.detail
    make_study(tmp_path / "b", {"baseline": 0.2}, None)  # undeclared, but measured: still checked
    [finding] = check_split_overlap(tmp_path / "b")
    assert not finding.ok and not finding.skipped


@pytest.mark.parametrize("data, message", [
    ('\n[data]\nsplits = ["train"]\n', "splits"),
    ('\n[data]\nsplits = ["train", "test"]\nmax_overlap = 2\n', "max_overlap"),
    ('\n[data]\nsplits = ["train", "test"]\nspilts = 1\n', "spilts"),
])
def test_a_malformed_data_table_is_a_failed_finding_naming_the_key(tmp_path, data, message):
    make_study(tmp_path, {"baseline": 0.0}, data)
    [finding] = check_split_overlap(tmp_path)
    assert not finding.ok and "manifest.toml [data]" in finding.detail and message in finding.detail


def test_overlap_fraction_on_frames_arrays_and_lists():
    assert overlap_fraction(pd.DataFrame({"x": [1, 2, 3]}), pd.DataFrame({"x": [3, 4]})) == 0.5
    train = np.arange(12).reshape(6, 2)
    assert overlap_fraction(train, np.array([[0, 1], [2, 3], [7, 7]])) == pytest.approx(2 / 3)
    assert overlap_fraction(["a", "b"], ["c"]) == 0.0 and overlap_fraction([1], []) == 0.0
    with pytest.raises(TypeError):
        overlap_fraction(3, [1])


BIB = """@book{goodfellow2016deep, title={Deep Learning}, author={Goodfellow, Ian and Bengio, Yoshua and
Courville, Aaron}, year={2016}, publisher={MIT Press}}
@article{hochreiter1997long, title={Long short-term memory}, author={Hochreiter, Sepp and Schmidhuber,
J{\\"u}rgen}, journal={Neural computation}, year={1997}}
"""


def make_paper(root, sections: dict[str, str]):
    paper = root / "paper"
    (paper / "sections").mkdir(parents=True)
    (paper / "references.bib").write_text(BIB)
    for name, text in sections.items():
        (paper / "sections" / f"{name}.tex").write_text(text)
    return paper


def test_attribution_flags_a_method_credited_to_the_wrong_work(tmp_path):
    paper = make_paper(tmp_path, {"method": "We model sequences with an LSTM~\\citep{goodfellow2016deep}.\n",
                                  "related_work": "Recurrent nets \\citep{hochreiter1997long} remember.\n"})
    [finding] = check_attribution(paper)
    assert not finding.ok and finding.section == "method" and "sections/method.tex" in finding.detail
    assert "Hochreiter" in finding.detail and finding.evidence["suggested_key"] == "hochreiter1997long"
    fixed = make_paper(tmp_path / "fixed", {"method": "We use an LSTM~\\citep{hochreiter1997long}.\n"})
    [finding] = check_attribution(fixed)
    assert finding.ok and "1 mention(s)" in finding.detail


def test_every_cite_form_must_resolve(tmp_path):
    paper = make_paper(tmp_path, {"intro": "As in \\citealp[p.~3]{goodfellow2016deep} and \\citet*{nobody2020}; "
                                           "% \\cite{commented2019}\n"})
    results = {f.detail: f.ok for f in check_citations(paper)}
    assert results == {"\\cite{goodfellow2016deep} resolves": True,
                       "\\cite{nobody2020} is not in references.bib": False}


def test_method_code_is_skipped_before_the_review_phase_compared(tmp_path):
    make_study(tmp_path, {"baseline": None}, None)
    [finding] = check_method_code(tmp_path)
    assert finding.skipped and "no comparison" in finding.detail
    (tmp_path / "reviews").mkdir()
    (tmp_path / "reviews" / "method_code.json").write_text('{"author": "person", "comparison": {"items": 3}}')
    [finding] = check_method_code(tmp_path)
    assert finding.skipped and "not a comparison aisci can read" in finding.detail


def test_offline_comparison_and_quote_verification():
    inputs = {"method_text": "## Method\nWe set `lr` $= 0.10$ and steps of 50 with seed: 0.",
              "run_parameters": "# baseline/node-0 (parameters cell, done)\nlr = 0.1\nsteps = 20\nseed = 0\n\n"
                                "# big/node-0 (parameters cell, timed_out)\nlr = 0.3\nsteps = 20\nseed = 0",
              "code": "", "best_run": "big/node-0"}
    items = {item.claim: item for item in offline_comparison(inputs).items}
    assert set(items) == {"lr = 0.10", "steps = 50", "seed = 0"}
    assert items["lr = 0.10"].verdict == "consistent" and items["lr = 0.10"].run == "baseline/node-0"
    assert items["steps = 50"].verdict == "mismatch" and items["steps = 50"].code_quote == "steps = 20"
    assert "20 (baseline/node-0), 20 (big/node-0)" in items["steps = 50"].explanation
    assert quoted_in("we  SET `lr`", inputs["method_text"]) and quoted_in("We set ... seed: 0", inputs["method_text"])
    assert not quoted_in("seed: 0 ... We set", inputs["method_text"]) and not quoted_in("", inputs["method_text"])


def test_offline_comparison_comes_out_the_same_under_every_hash_seed():
    """Names of equal length used to follow a set's order, which the hash seed changes: a replayed
    review must be the same review."""
    script = ("import json, sys\nfrom aisci.review.method_code import offline_comparison\n"
              "inputs = json.loads(sys.argv[1])\n"
              "print(json.dumps([item.claim for item in offline_comparison(inputs).items]))")
    inputs = {"method_text": "We set lr = 0.1, wd = 0.5, bs = 64, ep = 3, mo = 0.9 and dr = 0.2.",
              "run_parameters": "# baseline/node-0 (parameters cell, done)\nlr = 0.1\nwd = 0.5\nbs = 64\nep = 3\n"
                                "mo = 0.9\ndr = 0.2",
              "code": "", "best_run": "baseline/node-0"}
    orders = {subprocess.run([sys.executable, "-c", script, json.dumps(inputs)], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
              for seed in range(6)}
    assert len(orders) == 1, orders


def test_sources_hold_every_run_that_executed_best_first(tmp_path):
    """A run that timed out still ran with its parameters; a paper may describe it."""
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "paper.md").write_text("# T\n\n## Introduction\nlr = 9\n\n## Method\n`lr` $= 0.01$\n")
    nodes = []
    for run, lr, status in (("baseline", 0.1, "done"), ("small_lr", 0.01, "timed_out"), ("big", 0.3, "done")):
        notebook = f"experiments/{run}/node-0/experiment.ipynb"
        cells = [nbformat.v4.new_code_cell(f"lr = {lr}", metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell("train(lr)")]
        (tmp_path / notebook).parent.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=cells), str(tmp_path / notebook))
        nodes.append({"id": f"{run}/node-0", "idea": run, "kind": "draft", "status": status, "notebook": notebook})
    (tmp_path / "experiments" / "summary.json").write_text(json.dumps({"nodes": nodes, "best": "big/node-0"}))
    sources = study_sources(tmp_path)
    assert sources.method_text == "## Method\n`lr` $= 0.01$" and sources.best_run == "big/node-0"
    assert list(sources.parameter_cells) == ["big/node-0", "baseline/node-0", "small_lr/node-0"]
    assert "# small_lr/node-0 (parameters cell, timed_out)\nlr = 0.01" in sources.run_parameters
    assert "# --- cell 2 ---\ntrain(lr)" in sources.code
    [item] = offline_comparison(sources.task_inputs()).items
    assert item.verdict == "consistent" and item.run == "small_lr/node-0"
