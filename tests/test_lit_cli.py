"""`aisci lit add/search/show/check` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest

from aisci.cli import main
from tests.fake_literature_server import FakeLiteratureServer, FakePaper

BIB = """@article{hochreiter1997long,
  title = {Long Short-Term Memory},
  author = {Hochreiter, Sepp and Schmidhuber, J{\\"u}rgen},
  journal = {Neural Computation}, year = {1997}, doi = {10.1162/neco.1997.9.8.1735}
}
@article{broken,
  title = {Never {closed,
  year = {2020}
}
@misc{power2022grokking,
  title = {Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets},
  author = {Power, Alethea}, year = {2022}, eprint = {2201.02177}, archivePrefix = {arXiv}
}
@misc{grokking-again, title = {Grokking: generalization beyond overfitting on small algorithmic datasets},
  eprint = {2201.02177v2}}
"""


@pytest.fixture
def study(tmp_path):
    root = tmp_path / "study"
    root.mkdir()
    (tmp_path / "refs.bib").write_text(BIB)
    return root


def test_lit_add_reports_kept_skipped_with_lines_and_merged(study, capsys):
    assert main(["lit", "add", str(study), str(study.parent / "refs.bib")]) == 0
    out = capsys.readouterr().out
    assert "2 kept, 1 merged, 1 skipped" in out
    assert "skipped line 6 (broken): entry is not closed" in out
    assert "grokking-again merged into power2022grokking (same arXiv id 2201.02177)" in out
    assert (study / "literature" / "library.bib").exists() and (study / "literature" / "index.sqlite").exists()


def test_lit_search_prints_ranked_results_and_says_it_is_offline(study, capsys):
    main(["lit", "add", str(study), str(study.parent / "refs.bib")])
    capsys.readouterr()
    assert main(["lit", "search", str(study), 'grokking "small algorithmic" (a+b)', "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("note: offline: searched the local library only")
    assert " 1. [" in out and "power2022grokking" in out and "hochreiter1997long" not in out
    assert main(["lit", "search", str(study), "memory", "--offline", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["offline"] is True and result["hits"][0]["key"] == "hochreiter1997long"
    assert result["hits"][0]["authors"] == ["Sepp Hochreiter", "Jürgen Schmidhuber"]


def test_lit_search_online_against_the_fake_sources(study, capsys, monkeypatch):
    papers = [FakePaper("Omnigrok: Grokking Beyond Algorithmic Data", ["Ziming Liu", "Eric J. Michaud"], 2023,
                        arxiv="2210.01117", abstract="Grokking on images.")]
    with FakeLiteratureServer(papers) as server:
        for name, url in server.base_urls.items():
            monkeypatch.setenv(f"AISCI_{name.upper()}_URL", url)
        server.fail("openalex", 500)
        code = main(["lit", "search", str(study), "grokking", "--online", "--sources", "arxiv,openalex", "--add",
                     "--max-wait", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: openalex failed (server error (HTTP 500)" in out
    assert "liu2023omnigrok" in out and "[arxiv]" in out
    assert main(["lit", "show", str(study), "liu2023omnigrok"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("@misc{liu2023omnigrok,") and "eprint = {2210.01117}" in shown
    assert (study / "literature" / "cache.sqlite").exists()


def test_lit_check_flags_a_misattributed_lstm(study, tmp_path, capsys):
    main(["lit", "add", str(study), str(study.parent / "refs.bib")])
    (tmp_path / "extra.bib").write_text("@book{goodfellow2016deep, title={Deep Learning}, "
                                        "author={Goodfellow, Ian}, year={2016}}")
    tex = tmp_path / "paper.tex"
    tex.write_text("We use an LSTM~\\cite{goodfellow2016deep}. Another LSTM~\\cite{hochreiter1997long} is fine.\n")
    capsys.readouterr()
    assert main(["lit", "check", str(study), str(tex), "--bib", str(tmp_path / "extra.bib")]) == 1
    out = capsys.readouterr().out
    assert "credited to Goodfellow (2016)" in out and "Hochreiter & Schmidhuber (1997)" in out
    assert "1 possible mis-attribution(s)" in out


@pytest.mark.parametrize("argv, message", [
    (["lit", "add", "{missing}", "refs.bib"], "no such study folder"),
    (["lit", "add", "{study}", "{study}/none.bib"], "no such file"),
    (["lit", "search", "{study}", "x", "--limit", "0"], "--limit must be at least 1"),
    (["lit", "show", "{study}", "nokey"], "no entry 'nokey'"),
    (["lit", "search", "{study}", "x", "--online", "--sources", "google"], "unknown literature source"),
    (["lit", "search", "{study}", "x", "--user-library", "{study}/nope.bib"], "no such .bib file"),
])
def test_bad_input_is_one_line_not_a_traceback(study, capsys, argv, message):
    argv = [a.format(study=study, missing=study / "missing") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aisci: error:") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_new_study_library_holds_the_templates_references(tmp_path, toy_template, capsys):
    assert main(["init", str(tmp_path / "s"), "--template", str(toy_template), "--topic", "step sizes"]) == 0
    capsys.readouterr()
    assert main(["lit", "search", str(tmp_path / "s"), "stochastic approximation"]) == 0
    assert "robbins1951stochastic" in capsys.readouterr().out
