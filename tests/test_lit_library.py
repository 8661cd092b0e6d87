"""The study library: library.bib + FTS5 index, BM25 ranking, safe queries, merging into
what is there, hand edits picked up, and a user-level library searched alongside."""

from __future__ import annotations

import threading

import pytest

from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import LibraryError
from aisci.literature.index import fts_query
from aisci.literature.library import Library

CORPUS = r"""
@article{power2022grokking, title={Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets},
  author={Power, Alethea and Burda, Yuri}, year={2022}, eprint={2201.02177}, archivePrefix={arXiv},
  abstract={Neural networks generalize long after overfitting on modular arithmetic tasks; weight decay helps.},
  keywords={grokking, generalization}}
@inproceedings{loshchilov2019decoupled, title={Decoupled Weight Decay Regularization},
  author={Loshchilov, Ilya and Hutter, Frank}, booktitle={ICLR}, year={2019},
  abstract={L2 regularization and weight decay are not identical for adaptive gradient methods such as Adam.}}
@article{krogh1991simple, title={A Simple Weight Decay Can Improve Generalization},
  author={Krogh, Anders and Hertz, John}, year={1991}, journal={NeurIPS},
  abstract={It has been observed that a weight decay can improve generalization in a feed-forward network.}}
@article{he2016deep, title={Deep Residual Learning for Image Recognition}, author={He, Kaiming}, year={2016},
  doi={10.1109/CVPR.2016.90}, journal={CVPR}, abstract={Deeper neural networks are more difficult to train.}}
@article{nanda2023progress, title={Progress measures for grokking via mechanistic interpretability},
  author={Nanda, Neel}, year={2023}, abstract={We reverse engineer a transformer trained on modular addition.}}
@article{mueller2001, title={{\"U}ber neuronale Netze}, author={M{\"u}ller, Hans}, year={2001},
  abstract={Eine Einf{\"u}hrung.}}
"""


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "literature")
    report = lib.add_bibtex(CORPUS, origin="corpus.bib")
    assert len(report.kept) == 6
    yield lib
    lib.close()


def test_layout_and_round_trip(library):
    assert library.bib_path.name == "library.bib" and library.index_path.name == "index.sqlite"
    assert library.bib_path.read_text().count("@") == 6
    assert len(library) == 6
    ref = library.get("he2016deep")
    assert ref.doi == "10.1109/cvpr.2016.90" and ref.source == "corpus.bib"
    assert [r.key for r in library.entries()][:2] == ["power2022grokking", "loshchilov2019decoupled"]


def test_bm25_ranks_the_title_match_first(library):
    hits = library.search("grokking", limit=5)
    assert [h.key for h in hits] == ["power2022grokking", "nanda2023progress"]
    assert hits[0].score > hits[1].score > 0
    hits = library.search('"weight decay" generalization', limit=3)
    assert hits[0].key in {"krogh1991simple", "power2022grokking"}
    assert {h.key for h in hits} == {"krogh1991simple", "power2022grokking", "loshchilov2019decoupled"}
    assert hits[0].bibtex.startswith("@")


def test_search_is_accent_and_stem_insensitive(library):
    assert library.search("uber", limit=1)[0].key == "mueller2001"
    assert library.search("muller", limit=1)[0].key == "mueller2001"
    assert library.search("regularizations", limit=1)[0].key == "loshchilov2019decoupled"


@pytest.mark.parametrize("query", [
    'grokking "weight decay" (a+b)', 'NOT', 'AND OR NEAR(', '"unclosed quote', "title:grokking", "weight-decay*",
    "^grokking", "a'b\"c", "()", "", "   ", "-", "é", "{\\\"u}ber", "SELECT * FROM refs; --",
])
def test_user_text_never_breaks_the_fts_query(library, query):
    hits = library.search(query, limit=5)
    assert isinstance(hits, list)
    if fts_query(query) is None:
        assert hits == []


def test_fts_query_quotes_every_term():
    assert fts_query('grokking "weight decay" (a+b)') == '"weight decay" OR "grokking" OR "b"'  # "a": stop word
    assert fts_query("the of") == '"the" OR "of"'  # only stop words: keep them rather than nothing
    assert fts_query("!!!") is None


def test_adding_merges_into_existing_entries_and_renames_taken_keys(library):
    report = library.add_bibtex(r"""
@misc{resnet-preprint, title={Deep residual learning for image recognition}, author={He, Kaiming},
  eprint={1512.03385}, archivePrefix={arXiv}, url={https://arxiv.org/abs/1512.03385}}
@article{he2016deep, title={Some Other Paper With The Same Key}, author={Other, Person}, year={2020}}
""", origin="second.bib")
    assert [(m.dropped, m.kept, m.reason) for m in report.merged] == [("resnet-preprint", "he2016deep", "same title")]
    assert [(r.old, r.new) for r in report.renamed] == [("he2016deep", "he2016deep_2")]
    assert report.kept == ["he2016deep_2"]
    merged = library.get("he2016deep")
    assert merged.arxiv_id == "1512.03385" and merged.doi == "10.1109/cvpr.2016.90"
    assert library.get("resnet-preprint").key == "he2016deep"  # the dropped key still resolves
    assert library.get("he2016deep_2").title == "Some Other Paper With The Same Key"
    # a fresh Library on the same folder sees the same state, without re-parsing
    with Library(library.directory) as again:
        assert len(again) == 7 and again.load_report is None


def test_add_entries_from_an_online_source_records_where_they_came_from(library):
    ref = reference_from_metadata(title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
                                  authors=["Arthur Jacot", "Franck Gabriel"], year=2018, arxiv_id="1806.07572")
    report = library.add_entries([ref, ref.copy(key="dup")], source="semantic_scholar")
    assert report.kept == ["jacot2018neural"] and report.merged[0].dropped == "dup"
    assert library.get("jacot2018neural").source == "semantic_scholar"
    assert "x-aisci-source = {semantic_scholar}" in library.bib_path.read_text()


def test_hand_edits_to_library_bib_are_picked_up(library):
    text = library.bib_path.read_text()
    library.bib_path.write_text(text + "\n@misc{handmade, title={Hand added reference about grokking}}\n")
    with Library(library.directory) as again:
        assert "handmade" in again
        assert again.load_report is not None and not again.load_report.skipped
        assert "handmade" in {h.key for h in again.search("grokking")}


def test_a_broken_hand_edit_blocks_writes_instead_of_losing_the_entry(library):
    library.bib_path.write_text(library.bib_path.read_text() + "\n@article{broken, title={oops\n")
    with Library(library.directory) as again:
        assert len(again) == 6  # the good entries still search
        with pytest.raises(LibraryError, match="do not parse; fix them first"):
            again.add_bibtex("@misc{new, title={A brand new entry here}}")
    assert "@article{broken" in library.bib_path.read_text()


def test_user_library_is_searched_alongside_and_never_written(tmp_path, library):
    user_bib = tmp_path / "zotero.bib"
    user_bib.write_text(r"""
@article{userpaper, title={Grokking beyond algorithmic data}, author={Liu, Ziming}, year={2023}}
@misc{grokdup, title={Grokking: Generalization beyond overfitting on small algorithmic datasets}, author={Power, A.}}
""")
    before = user_bib.read_bytes()
    with Library(library.directory, user_library=user_bib) as combined:
        hits = combined.search("grokking", limit=10)
        origins = {h.key: h.origin for h in hits}
        assert origins["userpaper"] == "user" and origins["power2022grokking"] == "study"
        assert "grokdup" not in origins  # the study already holds that work
        assert combined.get("userpaper").title == "Grokking beyond algorithmic data"
        with pytest.raises(LibraryError, match="read-only"):
            combined.user.add_bibtex("@misc{x, title={Should not be written}}")
    assert user_bib.read_bytes() == before
    assert (library.directory / "user-index.sqlite").exists()
    assert not (tmp_path / "index.sqlite").exists()  # nothing written next to the user's file


def test_missing_user_library_is_a_clear_error(tmp_path):
    with pytest.raises(LibraryError, match="no such .bib file"):
        Library(tmp_path / "lit", user_library=tmp_path / "nope.bib")


def test_concurrent_writers_do_not_lose_entries(tmp_path):
    directory = tmp_path / "literature"
    Library(directory).add_bibtex("@misc{seed, title={Seed entry for the library}}")

    def add(n: int) -> None:
        with Library(directory) as lib:
            for i in range(5):
                lib.add_bibtex(f"@misc{{w{n}e{i}, title={{Paper number {i} from writer {n} here}}}}")

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Library(directory) as lib:
        assert len(lib) == 21
        assert lib.bib_path.read_text().count("@misc") == 21
