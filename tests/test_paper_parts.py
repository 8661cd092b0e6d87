"""The paper's parts: stamped section files, value macros, references.bib from the template
and the library, figures without duplicates, venue styles, the Markdown rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisci.errors import ConfigError
from aisci.literature import parse_bib
from aisci.paper import bibliography, render, style
from aisci.paper.figures import Figure, select
from aisci.paper.sections import read_section, write_section
from aisci.paper.values import collect_values, parse_values_tex, values_tex
from aisci.records import Record
from aisci.study import Study

TOY = "tests/fixtures/toy"


def test_a_section_file_knows_whether_a_person_edited_it(tmp_path):
    written = write_section(tmp_path, "results", "The baseline reaches \\RBaseline.", "model:m")
    assert not written.by_person and read_section(tmp_path, "results").author == "model:m"
    path = tmp_path / "results.tex"
    path.write_text(path.read_text() + "\n\n")  # blank lines are not an edit
    assert not read_section(tmp_path, "results").by_person
    path.write_text(path.read_text().replace("reaches", "attains"))
    edited = read_section(tmp_path, "results")
    assert edited.by_person and edited.author == "model:m" and "attains" in edited.body
    path.write_text("My own words.\n")  # no stamp at all: a person's file
    assert read_section(tmp_path, "results").by_person and read_section(tmp_path, "results").author is None
    assert not read_section(tmp_path, "missing").exists


def test_every_record_gets_one_macro_with_its_provenance():
    rec = lambda name, value: Record(name=name, value=value, notebook="nb.ipynb", cell_index=4, cell_id="c4")
    values = collect_values({"a/node-0": [rec("loss", 0.5)], "a/node-1": [rec("loss", -0.25)]},
                            [rec("num_runs", 2)])
    assert [v.macro for v in values] == ["RALoss", "RANodeOneLoss", "RAnalysisNumRuns"]
    tex = values_tex(values)
    assert "% loss from nb.ipynb, cell 4 (id c4)" in tex
    assert "\\newcommand{\\RANodeOneLoss}{\\ensuremath{-}0.250\\xspace}" in tex
    assert parse_values_tex(tex) == {"RALoss": "0.500", "RANodeOneLoss": "-0.250", "RAnalysisNumRuns": "2"}


def test_references_come_from_the_template_and_the_library_only(tmp_path):
    (tmp_path / "literature").mkdir()
    (tmp_path / "literature" / "library.bib").write_text(
        "@article{robbins_again, title={A Stochastic Approximation Method}, author={Robbins, Herbert and Monro, "
        "Sutton}, year={1951}, doi={10.1214/aoms/1177729586}, x-aisci-source={semantic_scholar}}\n"
        "@misc{power2022grokking, title={Grokking}, author={Power, Alethea}, year={2022}, x-aisci-source={arxiv}}\n"
        "@misc{robbins1951stochastic, title={Another work}, author={Other, A.}, year={2000}}\n")
    bib = bibliography.collect(f"{TOY}/references.bib", tmp_path / "literature", query="grokking", limit=10)
    assert [(e.reference.key, e.origin) for e in bib.entries] == [("robbins1951stochastic", "template"),
                                                                  ("power2022grokking", "library")]
    assert any("key is taken by another work" in note for note in bib.notes)
    bib.write(tmp_path / "references.bib")
    written = (tmp_path / "references.bib").read_text()
    assert "x-aisci-source" not in written
    assert [r.key for r in parse_bib(written).references] == ["robbins1951stochastic", "power2022grokking"]


def test_figures_are_copied_once_each_with_a_caption(tmp_path):
    study = Study.create(tmp_path / "s", TOY, "a topic")
    figures = study.path("analysis", "figures")
    figures.mkdir(parents=True)
    (figures / "a.png").write_bytes(b"one image")
    (figures / "b.png").write_bytes(b"one image")  # the same file content under another name
    (figures / "c.png").write_bytes(b"another image")
    listed = [{"name": "a", "path": "analysis/figures/a.png", "caption": "First."},
              {"name": "b", "path": "analysis/figures/b.png", "caption": "Same."},
              {"name": "c", "path": "analysis/figures/c.png", "caption": ""},
              {"name": "d", "path": "analysis/figures/d.png", "caption": "Gone."}]
    chosen, problems = select(study, listed, study.path("paper"))
    assert [f.name for f in chosen] == ["a", "c"] and chosen[1].caption == "c"
    assert sorted(p.name for p in study.path("paper", "figures").iterdir()) == ["a.png", "c.png"]
    assert any("same image as figure a" in p for p in problems)
    assert any("c has no caption" in p for p in problems) and any("d.png does not exist" in p for p in problems)
    study.record_decision("figures", "drop", items=["c"])
    chosen, _ = select(study, listed, study.path("paper"))
    assert [f.name for f in chosen] == ["a"] and not study.path("paper", "figures", "c.png").exists()


def test_a_venue_style_folder_is_checked_and_used(tmp_path):
    assert style.load_style("", tmp_path).folder is None
    with pytest.raises(ConfigError, match="is not a folder"):
        style.load_style("nowhere", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no .sty or .cls file"):
        style.load_style("empty", tmp_path)
    venue = tmp_path / "venue"
    venue.mkdir()
    for name in ("iclr2026_conference.sty", "iclr2026_conference.bst", "math_commands.tex"):
        (venue / name).write_text("% style\n")
    loaded = style.load_style(str(venue), tmp_path)
    assert loaded.packages == ["iclr2026_conference"] and loaded.bibliography_style == "iclr2026_conference"
    main = style.main_tex(loaded, title="T", title_note="", author="A", options="final")
    assert "\\usepackage[final]{iclr2026_conference}" in main and "\\bibliographystyle{iclr2026_conference}" in main
    assert "geometry" not in main and "\\@ifpackageloaded{natbib}" in main
    (tmp_path / "paper").mkdir()
    style.install(loaded, tmp_path / "paper")
    assert sorted(p.name for p in (tmp_path / "paper").iterdir()) == ["iclr2026_conference.bst",
                                                                     "iclr2026_conference.sty"]
    neutral = style.main_tex(style.Style(), title="T", title_note="", author="A")
    assert "\\documentclass[11pt]{article}" in neutral and "\\bibliographystyle{plainnat}" in neutral


def test_the_markdown_rendering_numbers_references_and_fills_values():
    bib = {r.key: r for r in parse_bib(Path(TOY, "references.bib").read_text()).references}
    figure = Figure("curves", "figures/curves.png", "Loss curves.", "analysis/figures/curves.png")
    bodies = {name: "" for name in render.SECTIONS}
    bodies["results"] = ("% stamp\nTable~\\ref{tab:results} and Figure~\\ref{fig:curves}: \\RBest{} "
                         "as in~\\cite{robbins1951stochastic}; see Section~\\ref{sec:method}.")
    md = render.paper_markdown(title="A title", note="note", bodies=bodies, values={"RBest": "0.5"},
                               table_tex="", figures=[figure], bib=bib, cited=["robbins1951stochastic"],
                               appendix_mark="<!-- mark -->", appendix="## Disclosure\n")
    assert "Table 1 and Figure 1: 0.5 as in [Robbins & Monro, 1951]; see Section 3." in md
    assert "## 5 Results" in md and "![Loss curves.](figures/curves.png)" in md
    assert "- Herbert Robbins, Sutton Monro (1951). A Stochastic Approximation Method." in md
    assert md.index("## References") < md.index("<!-- mark -->") < md.index("## Disclosure")
    assert "stamp" not in md
    html = render.paper_html(md, "A title")
    assert html.startswith("<!DOCTYPE html>") and "<h2>5 Results</h2>" in html


def test_notebook_markdown_becomes_latex_that_chktex_accepts():
    from aisci.paper.latex import prose
    text = ('The residues `a` and `b` (ids `0 … p-1`, see `n_layers`), **no dropout**, "grokking" at 50% of d_model; '
            'a prime $p$, labels $(a + b) \\bmod p$, weight decay ([Loshchilov & Hutter, 2019](https://arxiv.org/abs/1711.05101))')
    assert prose(text) == (r"The residues \texttt{a} and \texttt{b} (ids \texttt{0 … p-1}, see \texttt{n\_layers}), "
                           r"\textbf{no dropout}, ``grokking'' at 50\% of d\_model; a prime $p$, labels $(a + b) \bmod p$, "
                           r"weight decay (\href{https://arxiv.org/abs/1711.05101}{Loshchilov \& Hutter, 2019})")
    assert prose('regresses the noise ("$L_\\text{simple}$" in DDPM)') == r"regresses the noise (``$L_\text{simple}$'' in DDPM)"
