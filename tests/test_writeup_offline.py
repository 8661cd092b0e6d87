"""The offline study's paper: a real PDF (page count checked), every check passing, a
hand-edited section that survives reruns and is disclosed as written by a person, a locked
section, a venue style folder, and the paper without TeX."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from aisci.errors import ConfigError
from aisci.paper.compile import tex_available
from aisci.phases import writeup
from aisci.runner import make_context, run_study
from aisci.study import Study
from tests.study_helpers import set_config

pytestmark = pytest.mark.slow  # one offline toy study (shared), then reruns of the writeup
needs_tex = pytest.mark.skipif(not tex_available(),
                               reason="no LaTeX installed (latexmk or pdflatex + bibtex); CI installs TeX")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("writeup-offline") / "study"
    Study.create(root, str(Path(__file__).parent / "fixtures" / "toy"), "learning rate on a toy fit")
    run_study(Study.open(root), say=lambda m: None)
    return root


@pytest.fixture
def study(finished, tmp_path) -> Path:
    root = tmp_path / "study"
    shutil.copytree(finished, root)
    return root


def checks_of(root: Path) -> dict:
    return json.loads((root / "paper" / "checks.json").read_text())


def rerun(root: Path):
    return run_study(Study.open(root), say=lambda m: None)


def run_writeup(root: Path):
    ctx = make_context(Study.open(root), say=lambda m: None)
    writeup.run(ctx)
    return ctx


@needs_tex
def test_the_offline_study_builds_a_real_pdf(finished):
    pdf = finished / "paper" / "paper.pdf"
    pages = len(PdfReader(str(pdf)).pages)
    assert 3 <= pages <= 12, f"{pages} pages"
    text = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "Disclosure: how this paper was made" in text and "offline engine" in text
    assert "Robbins" in text  # the bibliography was built by BibTeX
    checks = checks_of(finished)
    assert checks["compile"]["status"] == "ok"
    assert checks["open"] == 0 and checks["warnings"] == 0, [f["detail"] for f in checks["findings"] if not f["ok"]]


def test_the_offline_paper_is_complete_and_grounded(finished):
    paper = finished / "paper"
    sections = {p.stem for p in (paper / "sections").glob("*.tex")}
    assert sections == set(writeup.SECTIONS)
    values = (paper / "values.tex").read_text()
    assert "% baseline_final_loss from analysis/analysis.ipynb, cell" in values
    markdown = (paper / "paper.md").read_text()
    above, below = markdown.split(writeup.APPENDIX_MARK)
    assert "## 5 Results" in above and "Table 1" in above and "![" in above
    assert "seconds" not in above.split("## 4 Experimental Setup")[0]  # nothing volatile above the mark
    assert "Notebooks and cells" in below and "experiments/baseline/node-0/experiment.ipynb" in below
    assert "cells by the template toy" in below and "No language model was used" in below
    assert (paper / "paper.html").read_text().startswith("<!DOCTYPE html>")
    notebook = (paper / "paper.ipynb").read_text()
    assert "0 open problem(s), 0 warning(s); PDF:" in notebook  # the checks, shown in paper.ipynb
    assert '"section": "results"' in notebook  # one cell per section, tagged
    figures = sorted(p.name for p in (paper / "figures").iterdir())
    assert figures == ["curves.png", "primary_metric.png"]
    assert (finished / "reviews" / "meta-review.json").exists()  # the review read the paper


def test_a_hand_edited_section_survives_reruns_and_is_disclosed(study):
    path = study / "paper" / "sections" / "discussion.tex"
    edited = path.read_text().replace("The single-factor design", "In our reading, the single-factor design")
    edited += "The loss of the best run is 0.777 in our notes.\n"  # a person's wrong number: reported, not rewritten
    path.write_text(edited)

    report = rerun(study)
    assert report.ran == ["writeup", "review"]  # the fingerprint noticed the edit; nothing upstream reran
    assert path.read_text() == edited
    authors = json.loads((study / "paper" / "sections.json").read_text())
    assert authors["discussion"]["author"] == "person" and authors["discussion"]["based_on"] == "offline-engine"
    assert authors["results"]["author"] == "offline-engine"
    appendix = (study / "paper" / "paper.md").read_text().split(writeup.APPENDIX_MARK)[1]
    assert "Discussion: edited by a person (from a draft by aisci's offline engine" in appendix
    assert "Discussion: edited by a person" in (study / "paper" / "generated" / "disclosure.tex").read_text()
    [number] = [f for f in checks_of(study)["findings"] if f["check"] == "number" and not f["ok"]]
    assert number["section"] == "discussion" and "0.777" in number["detail"]

    assert rerun(study).ran == []  # and a finished study reruns nothing
    assert path.read_text() == edited


def test_a_section_without_its_stamp_is_a_persons_and_a_deleted_one_is_written_again(study):
    method = study / "paper" / "sections" / "method.tex"
    results = study / "paper" / "sections" / "results.tex"
    mine = "We describe the method in our own words.\n"
    method.write_text(mine)
    results.unlink()
    rerun(study)
    assert method.read_text() == mine
    assert results.read_text().startswith("% aisci: written by offline-engine")
    authors = json.loads((study / "paper" / "sections.json").read_text())
    assert authors["method"]["author"] == "person" and authors["results"]["author"] == "offline-engine"


def test_a_locked_section_is_kept_even_when_its_facts_change(study):
    Study.open(study).record_decision("paper", "lock", items=["experimental_setup"])
    set_config(study, "experiments", timeout_s=600)
    run_writeup(study)
    setup = (study / "paper" / "sections" / "experimental_setup.tex").read_text()
    assert "300 seconds" in setup  # kept as it was (a new toy study's limit: 15x its 10 s budget, at least 300 s)
    authors = json.loads((study / "paper" / "sections.json").read_text())
    assert authors["experimental_setup"]["locked"] and authors["experimental_setup"]["author"] == "offline-engine"
    assert "locked by a person" in (study / "paper" / "paper.md").read_text()
    [stale] = [f for f in checks_of(study)["findings"] if f["check"] == "number" and not f["ok"]]
    assert stale["section"] == "experimental_setup" and "300" in stale["detail"]


@needs_tex
def test_a_venue_style_folder_is_copied_and_used(study, tmp_path):
    venue = tmp_path / "venue"
    venue.mkdir()
    (venue / "myvenue.sty").write_text("\\ProvidesPackage{myvenue}\n\\RequirePackage[margin=0.6in]{geometry}\n"
                                       "\\RequirePackage{natbib}\n\\newcommand{\\venuename}{My Venue 2026}\n")
    plainnat = subprocess.run(["kpsewhich", "plainnat.bst"], capture_output=True, text=True,
                              check=False).stdout.strip()
    if not plainnat:
        pytest.skip("plainnat.bst is not installed")
    shutil.copyfile(plainnat, venue / "myvenue.bst")
    set_config(study, "paper", style_dir=str(venue), preamble="\\newcommand{\\venuecheck}{}")
    run_writeup(study)
    main = (study / "paper" / "main.tex").read_text()
    assert "\\usepackage{myvenue}" in main and "\\bibliographystyle{myvenue}" in main
    assert "geometry" not in main.split("\\usepackage{myvenue}")[0]  # aisci's own layout is not loaded
    assert (study / "paper" / "myvenue.sty").exists() and (study / "paper" / "myvenue.bst").exists()
    assert checks_of(study)["compile"]["status"] == "ok"
    assert "myvenue" in checks_of(study)["style"]


def test_a_missing_style_folder_is_a_one_line_error(study):
    set_config(study, "paper", style_dir="no/such/folder")
    with pytest.raises(ConfigError, match=r"paper\.style_dir: .*no/such/folder is not a folder"):
        run_writeup(study)


def test_without_tex_the_paper_is_still_readable(study, monkeypatch):
    monkeypatch.setattr("aisci.writeup.typesetting.tex_available", lambda: False)
    ctx = run_writeup(study)
    assert any("no LaTeX found, so no PDF was built" in note and "paper/paper.md" in note for note in ctx.notes)
    paper = study / "paper"
    assert not (paper / "paper.pdf").exists()
    assert (paper / "main.tex").exists() and (paper / "paper.md").exists() and (paper / "paper.html").exists()
    assert checks_of(study)["compile"]["status"] == "no-tex"
