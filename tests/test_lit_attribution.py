"""The canonical attribution table and the mis-attribution check (the v2 workshop paper
credited LSTMs to a 2016 textbook)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from aisci.literature.attribution import check_citation, check_text, find_citations, find_mentions, load_table
from aisci.literature.bibfile import parse_bib
from aisci.literature.identifiers import normalize_title

GOODFELLOW_BOOK = parse_bib("@book{goodfellow2016deep, title={Deep Learning}, author={Goodfellow, Ian and Bengio, "
                            "Yoshua and Courville, Aaron}, publisher={MIT Press}, year={2016}}").references[0]


def test_table_ships_in_the_package_with_at_least_40_identified_methods():
    raw = json.loads(resources.files("aisci").joinpath("data/attribution.json").read_text(encoding="utf-8"))
    table = load_table()
    assert len(table) == len(raw["methods"]) >= 40
    identified = [m for m in table.methods if any(r.doi or r.arxiv for r in m.references)]
    assert len(identified) >= 40
    assert len({m.id for m in table.methods}) == len(table.methods)


def test_every_reference_bibtex_parses_and_agrees_with_its_metadata():
    for method in load_table().methods:
        assert method.aliases, method.id
        for canon in method.references:
            parsed = parse_bib(canon.bibtex)
            assert not parsed.report.skipped, canon.key
            ref = parsed.references[0]
            assert ref.key == canon.key
            assert ref.year == canon.year
            assert normalize_title(ref.title) == normalize_title(canon.title)
            assert ref.doi == canon.doi and ref.arxiv_id == canon.arxiv
            assert ref.surnames[:1] == canon.surnames[:1]


@pytest.mark.parametrize("method_id, surname, year, doi, arxiv", [
    ("lstm", "hochreiter", 1997, "10.1162/neco.1997.9.8.1735", None),
    ("transformer", "vaswani", 2017, None, "1706.03762"),
    ("adam", "kingma", 2015, None, "1412.6980"),
    ("grokking", "power", 2022, None, "2201.02177"),
    ("resnet", "he", 2016, "10.1109/cvpr.2016.90", "1512.03385"),
    ("ddpm", "ho", 2020, None, "2006.11239"),
    ("backprop", "rumelhart", 1986, "10.1038/323533a0", None),
])
def test_well_known_attributions(method_id, surname, year, doi, arxiv):
    canon = load_table().method(method_id).canonical
    assert (canon.surnames[0], canon.year, canon.doi, canon.arxiv) == (surname, year, doi, arxiv)


def test_lstm_credited_to_the_textbook_is_flagged_with_hochreiter_suggested():
    issues = check_citation("We model the sequence with an LSTM (Goodfellow et al., 2016).")
    assert len(issues) == 1
    issue = issues[0]
    assert issue.method.id == "lstm" and issue.mention.text == "LSTM"
    assert issue.suggestion.key == "hochreiter1997long"
    assert "Hochreiter & Schmidhuber (1997)" in issue.message and "10.1162/neco.1997.9.8.1735" in issue.message
    assert issue.to_dict()["suggested_bibtex"].startswith("@article{hochreiter1997long,")


def test_latex_cite_resolved_through_the_entries_given():
    sentence = r"Our baseline is a two-layer LSTM~\cite{goodfellow2016deep}."
    issues = check_citation(sentence, [GOODFELLOW_BOOK])
    assert [i.suggestion.key for i in issues] == ["hochreiter1997long"]
    assert issues[0].cited[0].reference is GOODFELLOW_BOOK
    # without the entry, the key's shape (surname + year) is enough to judge
    assert [i.method.id for i in check_citation(sentence)] == ["lstm"]


@pytest.mark.parametrize("sentence", [
    "We model the sequence with an LSTM (Hochreiter & Schmidhuber, 1997).",
    "We model the sequence with an LSTM (Hochreiter and Schmidhuber 1997; Goodfellow et al., 2016).",
    "Long short-term memory networks were introduced by Hochreiter and Schmidhuber (1997).",
    r"We train with Adam~\citep{kingma2014adam} and dropout \citep{srivastava2014dropout}.",
    "Grokking (Power et al., 2022) was first seen on modular arithmetic.",
    "Adam Paszke et al. (2019) wrote PyTorch.",  # a person, not the optimizer
    "We apply Monte Carlo dropout (Gal and Ghahramani, 2016) at test time.",  # a different method
    "A Vision Transformer (Dosovitskiy et al., 2021) is used.",  # ViT, not the Transformer
    "The LSTM baseline follows earlier work on many other tasks (Smith, 2020).",  # citation not about the LSTM
    r"An LSTM~\cite{unknownkey} is used.",  # unresolvable key: nothing to judge
])
def test_correct_or_unrelated_citations_are_not_flagged(sentence):
    assert check_citation(sentence) == []


def test_correct_citation_given_as_entries_is_not_flagged():
    canon = load_table().method("lstm").canonical.reference
    assert check_citation("We use an LSTM.", [canon]) == []
    assert [i.method.id for i in check_citation("We use an LSTM.", [GOODFELLOW_BOOK])] == ["lstm"]
    assert check_citation("We use an LSTM.", [{"title": "Long Short-Term Memory", "authors": ["Sepp Hochreiter"],
                                               "year": 1997}]) == []


def test_each_citation_goes_to_the_nearest_method():
    sentence = "We train a Transformer with dropout (Srivastava et al., 2014) and Adam (Kingma and Welling, 2014)."
    issues = check_citation(sentence)
    assert [(i.method.id, i.suggestion.key) for i in issues] == [("adam", "kingma2015adam")]


def test_mentions_prefer_the_longest_name_and_skip_look_alikes():
    found = [(m.method.id, m.text) for m in find_mentions(
        "A VQ-VAE, a vision transformer, decoupled weight decay, Sentence-BERT and long short term memory nets.")]
    assert found == [("vit", "vision transformer"), ("adamw", "decoupled weight decay"),
                     ("lstm", "long short term memory")]


def test_citations_are_read_in_their_usual_forms():
    cits = find_citations(r"As in \citet[p.~3]{kim2019deep,ICML-2020-xyz} and (see Smith & Jones, 2018; "
                          "Lee et al. 2017a), Brown et al. (2020) showed it.")
    # an unresolved key is read as surname + year when it has that shape (kim2019deep), else left unknown
    assert [(c.key, c.surnames, c.year) for c in cits] == [
        ("kim2019deep", ["kim"], 2019), ("ICML-2020-xyz", [], None),
        (None, ["smith", "jones"], 2018), (None, ["lee"], 2017), (None, ["brown"], 2020)]


def test_check_text_walks_the_sentences_of_a_section():
    text = ("Recurrent models such as LSTMs (Goodfellow et al., 2016) struggle with long contexts. "
            "Transformers (Vaswani et al., 2017) do not, e.g. on translation. "
            "We optimise with Adam (Kingma & Ba, 2015).")
    issues = check_text(text)
    assert [(i.mention.text, i.suggestion.key) for i in issues] == [("LSTMs", "hochreiter1997long")]
    assert issues[0].sentence.startswith("Recurrent models")


def test_a_cited_paper_whose_title_names_the_method_is_not_a_misattribution():
    """A list of the papers read, each by its title: "Progress Measures for Grokking" cited to
    Nanda et al. names that paper; it does not credit grokking to them."""
    bib = {ref.key: ref for ref in parse_bib(
        "@article{nanda2023progress, title = {Progress Measures for {G}rokking via Mechanistic Interpretability},"
        " author = {Nanda, Neel and Chan, Lawrence}, year = 2023}\n"
        "@article{power2022grokking, title = {Grokking: Generalization Beyond Overfitting on Small Algorithmic"
        " Datasets}, author = {Power, Alethea and Burda, Yuri}, year = 2022}\n").references}
    listing = ("The papers read:\n\\begin{itemize}\n"
               "  \\item Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets~\\cite{power2022grokking}\n"
               "  \\item Progress Measures for Grokking via Mechanistic Interpretability~\\cite{nanda2023progress}\n"
               "\\end{itemize}")
    assert check_text(listing, bib=bib) == []
    # the same paper credited for grokking itself is still flagged, also inside a list item
    claim = "\\begin{itemize}\n  \\item Grokking was first seen by \\cite{nanda2023progress}.\n\\end{itemize}"
    assert [i.suggestion.key for i in check_text(claim, bib=bib)] == ["power2022grokking"]


def test_an_author_year_citation_inside_a_link_is_read_whole():
    """Notebook Markdown "[Loshchilov & Hutter, 2019](url)" becomes \\href{url}{Loshchilov \\& Hutter, 2019}."""
    right = r"Full-batch AdamW with decoupled weight decay (\href{https://arxiv.org/abs/1711.05101}{Loshchilov \& Hutter, 2019})."
    assert check_text(right) == []
    wrong = r"We use an LSTM (\href{https://example.org/book}{Goodfellow et al., 2016})."
    assert [i.suggestion.key for i in check_text(wrong)] == ["hochreiter1997long"]
