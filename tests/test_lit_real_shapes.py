"""The four literature sources on response shapes typed out from their APIs' documentation
(tests/fixtures/literature), with the records that used to break references.bib: every
entry they produce compiles with pdflatex + bibtex, and the rendered bibliography keeps
its capitals."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from aisci.literature.build import ENCODING_NOTE, reference_from_metadata
from aisci.literature.errors import SourceError
from aisci.literature.latex_safety import latex_problem
from aisci.literature.sources import ArXiv, Crossref, OpenAlex, RetryPolicy, SemanticScholar
from aisci.paper.bibliography import Bibliography, Entry
from aisci.paper.style import NEUTRAL_LAYOUT

FIXTURES = Path(__file__).parent / "fixtures" / "literature"
FAST = RetryPolicy(max_attempts=1, max_total_s=5, timeout_s=5)
needs_tex = pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("bibtex")), reason="needs pdflatex")


def _source(cls, fixture: str, *, status: int = 200, content_type: str = "application/json", seen=None, **kwargs):
    body = (FIXTURES / fixture).read_text(encoding="utf-8")

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        return httpx.Response(status, text=body, headers={"Content-Type": content_type})

    return cls(client=httpx.Client(transport=httpx.MockTransport(handler)), min_interval_s=0, policy=FAST, **kwargs)


def _by_title(refs, start: str):
    return next(r for r in refs if r.title.startswith(start) or start in r.title)


@pytest.fixture(scope="module")
def s2():
    return _source(SemanticScholar, "semantic_scholar_search.json").search("q", limit=20)


@pytest.fixture(scope="module")
def openalex():
    return _source(OpenAlex, "openalex_works.json").search("q", limit=20)


@pytest.fixture(scope="module")
def crossref():
    return _source(Crossref, "crossref_works.json").search("q", limit=20)


@pytest.fixture(scope="module")
def arxiv():
    return _source(ArXiv, "arxiv_query.xml", content_type="application/atom+xml").search("sparse", limit=20)


def test_semantic_scholar_types_and_venues(s2):
    gans = _by_title(s2, "Improved Techniques")  # journal "ArXiv", NeurIPS in venue
    assert (gans.entry_type, gans.get("booktitle"), gans.arxiv_id) == (
        "inproceedings", "Neural Information Processing Systems", "1606.03498")
    bert = _by_title(s2, "BERT")  # ["JournalArticle", "Conference"]
    assert (bert.entry_type, bert.get("pages")) == ("inproceedings", "4171--4186")
    assert bert.get("booktitle").startswith("North American Chapter") and "journal" not in bert.fields
    megatron = _by_title(s2, "Using DeepSpeed")  # a preprint: misc with eprint, no journal "ArXiv"
    assert (megatron.entry_type, megatron.get("eprint"), megatron.get("archiveprefix")) == ("misc", "2201.11990",
                                                                                             "arXiv")
    assert not set(megatron.fields) & {"journal", "booktitle", "volume"}
    turing = _by_title(s2, "Turing machines")  # journal "arXiv: Learning" is no journal
    assert turing.entry_type == "misc" and "journal" not in turing.fields
    assert _by_title(s2, "-Regular Objectives").entry_type == "inproceedings"  # AAAI, publicationTypes null
    nature = _by_title(s2, "Deep learning")
    assert (nature.entry_type, nature.get("journal"), nature.get("pages")) == ("article", "Nature", "436--444")
    soda = _by_title(s2, "A Simple Algorithm")  # no journal, no types: the symposium is still kept
    assert (soda.entry_type, soda.get("booktitle")) == ("inproceedings", "ACM-SIAM Symposium on Discrete Algorithms")


def test_name_suffixes_accents_and_escaped_line_breaks(s2, crossref):
    assert _by_title(s2, "-Regular Objectives").get("author").startswith("Hora, Jr., Donald and ")
    assert _by_title(s2, "A Simple Algorithm").get("author") == "Lovelace, III, Ada"
    assert _by_title(crossref, "Evaluation of").get("author") == "Hora, Jr., Donald"
    turing = _by_title(s2, "Turing machines")
    assert turing.get("author") == r"D{\'{\i}}az, Mario and Ram{\'o}n, Jos{\'e}"  # ı + U+0301, e + U+0301
    assert turing.authors == ["Mario Díaz", "José Ramón"]
    # "\nare" in an abstract is a line break that lost its meaning, not a command eating "are"
    assert "accuracies. are these models" in _by_title(s2, "Using DeepSpeed").abstract


def test_openalex_types_markup_and_control_characters(openalex):
    resnet = _by_title(openalex, "Deep Residual")
    assert (resnet.entry_type, resnet.arxiv_id, resnet.get("pages")) == ("inproceedings", "1512.03385", "770--778")
    html = _by_title(openalex, "Enhanced")
    assert r"\textit{in vivo}" in html.get("title") and r"{H}\textsubscript{2}{O}\textsubscript{2}" in html.get("title")
    assert r"\textsuperscript{13}" in html.get("title") and r"\& {Raman}" in html.get("title")
    assert html.get("journal") == r"Revista de Qu{\'\i}mica \& Biolog{\'\i}a"  # U+0098 dropped, &amp; decoded
    thesis = _by_title(openalex, "Learning to See")
    assert (thesis.entry_type, thesis.get("school")) == ("phdthesis", "Massachusetts Institute of Technology")
    report = _by_title(openalex, "GPU Acceleration")
    assert (report.entry_type, report.get("institution")) == ("techreport", "Office of Scientific and Technical "
                                                                            "Information")
    lora = _by_title(openalex, "LoRA")
    assert (lora.entry_type, lora.get("eprint"), lora.get("howpublished")) == ("misc", "2106.09685", None)
    biorxiv = _by_title(openalex, "Single-cell")
    assert biorxiv.entry_type == "misc" and biorxiv.get("howpublished").startswith("bioRxiv")


def test_crossref_types_entities_and_institutions(crossref):
    kitchin = _by_title(crossref, "Big Data")
    assert kitchin.get("journal") == r"Big Data \& Society"
    report = _by_title(crossref, "Evaluation of")
    assert report.entry_type == "techreport" and report.get("institution").startswith("Lawrence Livermore")
    assert r"\textit{in situ}" in report.get("title") and r"{CO}\textsubscript{2}" in report.get("title")
    thesis = _by_title(crossref, "Sparse")
    assert (thesis.entry_type, thesis.get("school")) == ("phdthesis", "Hong Kong University of Science and Technology")
    assert r"{$\ell_1$}" in thesis.get("title") and r"\omega" in thesis.get("title")
    chapter = _by_title(crossref, "Visualizing")
    assert (chapter.entry_type, chapter.get("booktitle")) == ("incollection",
                                                              r"Computer Vision {\textendash} ECCV 2014")
    graves = _by_title(crossref, "Speech recognition")
    assert graves.entry_type == "inproceedings" and graves.get("author") == "Graves, Alex and {Google DeepMind}"
    assert "<" not in _by_title(crossref, "ImageNet").abstract


def test_arxiv_math_stays_math_and_unknown_commands_are_written_plainly(arxiv):
    sparse = _by_title(arxiv, "Sparse")
    assert sparse.get("title").startswith(r"{Sparse} {$\ell_1$} recovery with {$\Omega(k \log n)$}") or \
        sparse.get("title").startswith(r"Sparse {$\ell_1$} recovery with {$\Omega(k \log n)$}")
    assert sparse.get("author").startswith(r"Cand{\`e}s, Emmanuel J.")
    assert sparse.get("howpublished") == "IEEE Trans. Inf. Theory 52 (2006) 5406"  # the journal_ref is kept
    assert "Erdős--Rényi" in sparse.abstract or "Erdős–Rényi" in sparse.abstract
    assert "tight? We" in sparse.abstract and "minimisation recovers" in sparse.abstract
    omega = _by_title(arxiv, "WebAssembly")
    assert omega.get("title").startswith(r"{${\omega}$}") and r"$\mathcal{O}(\sqrt{n})$" in omega.get("title")
    assert omega.get("author") == r"{\O}stergaard, Jos{\'e} Mar{\'\i}a"
    maldacena = _by_title(arxiv, "Large")
    assert latex_problem(maldacena.get("title")) is None and "notarealmacro" not in maldacena.get("title")
    assert "written as text" in maldacena.get(ENCODING_NOTE) and r"unknown command \foo dropped" in \
        maldacena.get(ENCODING_NOTE)


def test_capitals_are_brace_protected(s2, openalex, crossref):
    assert _by_title(s2, "Improved").get("title").endswith("{GANs}")
    assert "{NLG} {530B}" in _by_title(s2, "Using DeepSpeed").get("title")
    simple = _by_title(s2, "A Simple").get("title")
    assert "{REST} {APIs}" in simple and "{DNA}" in simple
    assert _by_title(crossref, "ImageNet").get("title").startswith("{ImageNet} classification with deep")
    assert _by_title(openalex, "Learning to See").get("title").endswith("{Bayesian} {Priors}")
    assert _by_title(openalex, "LoRA").get("title").startswith("{LoRA}: Low-{Rank}")


def test_arxiv_error_feed_sent_with_http_400_gives_its_reason_in_one_line():
    source = _source(ArXiv, "arxiv_error.xml", status=400, content_type="application/atom+xml")
    with pytest.raises(SourceError) as caught:
        source.search("id:1234.12345")
    assert str(caught.value) == "arxiv: query rejected: incorrect id format for 1234.12345"


def test_the_doi_look_up_goes_through_the_injected_client_and_the_cache(tmp_path):
    from aisci.literature.sources import ResponseCache

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text="@article{k, title={A Title on GANs}, author={Doe, Jane}, year={2020}}")

    cache = ResponseCache(tmp_path / "cache.sqlite")
    crossref = Crossref(client=httpx.Client(transport=httpx.MockTransport(handler)), min_interval_s=0, policy=FAST,
                        cache=cache, doi_base_url="https://doi.example")
    assert crossref.bibtex_for_doi("10.1000/xyz").title == "A Title on GANs"
    again = crossref.bibtex_for_doi("10.1000/xyz")
    assert (again.doi, again.get("title")) == ("10.1000/xyz", "A {Title} on {GANs}")
    assert seen == ["https://doi.example/10.1000/xyz"]  # the injected client, once: the second came from the cache
    assert cache.queries("crossref")[0]["url"] == "https://doi.example/10.1000/xyz"


# --- the bibliography these entries make compiles, capitals intact ---------------------------------
def _all_references(s2, openalex, crossref, arxiv):
    repro = reference_from_metadata(title="Turing machines in the λ-Calculus", authors=["Mario Dı́az"], year=2020)
    return [*s2, *openalex, *crossref, *arxiv, repro]


def _compile(tmp: Path, bib_text: str, layout: str) -> tuple[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "references.bib").write_text(bib_text, encoding="utf-8")
    (tmp / "main.tex").write_text("\n".join([
        r"\documentclass[11pt]{article}", r"\usepackage[utf8]{inputenc}", layout, r"\usepackage{amsmath,amssymb}",
        r"\usepackage{url}", r"\usepackage[hidelinks]{hyperref}", r"\begin{document}", r"\nocite{*}",
        r"\bibliographystyle{plainnat}", r"\bibliography{references}", r"\end{document}", ""]), encoding="utf-8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"]
    for command in (latex, ["bibtex", "main"], latex, latex):
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, errors="replace", timeout=180,
                              check=False)
        log = done.stdout + done.stderr
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{log[-3000:]}"
        if command[0] == "bibtex":  # no errors, and no warning such as "empty institution in ..."
            assert "error message" not in log and "Warning--" not in log, log[-3000:]
    pdftext = subprocess.run(["pdftotext", "-layout", "main.pdf", "-"], cwd=tmp, capture_output=True, text=True,
                             check=True).stdout if shutil.which("pdftotext") else ""
    return (tmp / "main.bbl").read_text(encoding="utf-8"), pdftext


CAPITALS = ["GANs", "NLG", "530B", "DeepSpeed", "BERT", "ImageNet", "REST", "APIs", "DNA", "LoRA", "GPU",
            "WebAssembly", "Bayesian", "Drosophila", "RNA", "Turing", "ECCV"]


@needs_tex
@pytest.mark.parametrize("layout", [NEUTRAL_LAYOUT, r"\usepackage[numbers]{natbib}"], ids=["T1", "OT1"])
def test_every_entry_compiles_and_the_bibliography_keeps_its_capitals(s2, openalex, crossref, arxiv, tmp_path, layout):
    from aisci.literature.bibfile import format_bibtex

    refs = _all_references(s2, openalex, crossref, arxiv)
    bbl, pdf = _compile(tmp_path / "raw", format_bibtex(refs), layout)  # the entries exactly as built
    assert bbl.count(r"\bibitem") == len(refs)
    bibliography = Bibliography([Entry(ref, "library") for ref in refs])
    (tmp_path / "paper").mkdir()
    bibliography.write(tmp_path / "paper" / "references.bib")
    bbl, pdf = _compile(tmp_path / "paper", (tmp_path / "paper" / "references.bib").read_text(), layout)
    words = set(re.findall(r"[\w]+", re.sub(r"-\n\s*", "", pdf)))
    for word in CAPITALS:
        assert word in words, f"{word!r} lost its capitals in the rendered bibliography"
    assert "gans" not in words and "nlg" not in words and "imagenet" not in words
    # what could not be kept as the source gave it is reported, for the writeup to show
    assert any(n.startswith("maldacena1999large: title: math") for n in bibliography.notes), bibliography.notes
