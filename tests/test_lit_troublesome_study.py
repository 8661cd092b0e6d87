"""A study whose library holds the eight kinds of records that used to stop the paper from
compiling (issue 18) still gets its PDF, cites them all, and reports what it had to change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisci.literature.build import reference_from_metadata
from aisci.literature.library import Library
from aisci.paper.compile import tex_available
from aisci.runner import run_study
from aisci.study import Study

pytestmark = pytest.mark.slow  # one offline toy study
needs_tex = pytest.mark.skipif(not tex_available(), reason="no LaTeX installed (CI installs TeX)")

# (kind, the record as a source gives it)
TROUBLESOME = [
    ("a Greek letter and a radical", dict(title="Turing machines in the λ-Calculus and √n lower bounds",
                                          authors=["Alan Church"], year=2012)),
    ("e followed by a combining acute accent", dict(title="Gradient noise in small networks",
                                                    authors=["Jose\u0301 Ramo\u0301n"], year=2019)),
    ("a dotless i with a combining accent", dict(title="Learning rates for toy fits",
                                                 authors=["Mario D\u0131\u0301az"], year=2020)),
    ("a control character in a source name", dict(title="Warm restarts for curve fitting", authors=["Ana Lee"],
                                                   year=2018, venue="Revista de Qu\u0098mica Computacional")),
    ("TeX math in an arXiv title", dict(title=r"Sparse $\ell_1$ recovery of learning-rate schedules",
                                        authors=["Terence Tao"], year=2008, arxiv_id="0805.0510", markup="tex")),
    ("Unicode math inside arXiv math", dict(title="$ω$Test: fitting toy curves with $\\Omega(n)$ steps",
                                            authors=["Bo Li"], year=2023, arxiv_id="2301.00001", markup="tex")),
    ("HTML markup and entities", dict(title="Enhanced <i>in vivo</i> H<sub>2</sub>O &amp; <sup>13</sup>C fits",
                                      authors=["Dar\u00edo Lopez"], year=2021, venue="Big Data &amp; Society",
                                      markup="html")),
    ("characters no pdflatex font has", dict(title="深度学习 for learning rates 😀", authors=["Wei Zhang"],
                                              year=2022)),
]


@needs_tex
def test_a_library_of_troublesome_records_still_compiles(tmp_path):
    root = tmp_path / "study"
    Study.create(root, str(Path(__file__).parent / "fixtures" / "toy"), "learning rate on a toy fit")
    refs = [reference_from_metadata(**record, source="openalex") for _, record in TROUBLESOME]
    with Library.for_study(root) as library:
        report = library.add_entries(refs)
        # and one a person added by hand, with a command of their own preamble
        report.extend(library.add_bibtex("@article{hand2020, title={A \\mymacro{hand} entry on rates}, "
                                         "author={Hand, Ann}, journal={J. Fits}, year={2020}}"))
    assert len(report.kept) == len(TROUBLESOME) + 1, report.lines()

    run_study(Study.open(root), say=lambda m: None)

    paper = root / "paper"
    checks = json.loads((paper / "checks.json").read_text())
    assert checks["compile"]["status"] == "ok", checks["compile"]
    pdfs = [p.name for p in paper.glob("paper*.pdf")]
    assert pdfs, "no PDF was written"
    bbl = (paper / "main.bbl").read_text(encoding="utf-8")
    for ref in refs:
        assert f"{{{ref.key}}}" in bbl, f"{ref.key} is not in the bibliography"
    assert "{hand2020}" in bbl
    notes = checks["bibliography_notes"]
    assert any(n.startswith("hand2020: title: written as plain text") for n in notes), notes
    assert any("深 as Shen" in n for n in notes), notes
