"""The search index on a library larger than its ranking budget (here lowered to a few rows):
the rows ranked are those holding the rarest terms or a term in the title, each scored by the
whole query's BM25 exactly as a full search scores it; a query of common words only falls back
to the newest papers; and an index written by an older aisci is rebuilt from library.bib."""

from __future__ import annotations

import sqlite3

import pytest

from aisci.literature import index as index_module
from aisci.literature.index import SearchIndex, fts_terms
from aisci.literature.library import Library
from aisci.literature.model import Reference

BUDGET = 12


def _ref(i: int, title: str, abstract: str) -> Reference:
    return Reference(key=f"r{i:03d}", entry_type="article", fields={"title": title, "abstract": abstract})


def _corpus() -> list[Reference]:
    """60 papers: "network" in every abstract (common), "pruning" in 20 abstracts (common for
    the budget) and in 3 titles, "lottery" in 4 abstracts (rare)."""
    refs = []
    for i in range(60):
        title = "Pruning sparse nets" if i in (7, 30, 51) else f"Study number {i} of filler"
        words = ["network", "filler"] + (["pruning"] * (1 + i % 3) if i % 3 == 0 else []) + (
            ["lottery", "ticket"] if i in (2, 18, 33, 47) else [])
        refs.append(_ref(i, title, " ".join(words)))
    return refs


@pytest.fixture
def index(tmp_path, monkeypatch):
    monkeypatch.setattr(index_module, "RANK_BUDGET", BUDGET)
    idx = SearchIndex(tmp_path / "index.sqlite")
    idx.rebuild(_corpus(), bib_digest=None)
    yield idx
    idx.close()


def _full(idx: SearchIndex, query: str, limit: int) -> list[tuple[str, float]]:
    """What a search without a budget returns: BM25 of every term over every row."""
    return [(ref.key, score) for ref, score in idx.search_exhaustive(query, limit)]


def test_rare_and_title_rows_are_ranked_with_the_full_searchs_scores(index):
    query = "lottery pruning network"
    match = index._candidates(fts_terms(query))
    # lottery (4 rows) anywhere, pruning through the titles (3 rows), network only scores
    assert match == '("lottery" OR {heading}: "pruning") AND ("pruning" OR "network" OR aisciallrows)'
    found = [(ref.key, score) for ref, score in index.search(query, limit=7)]
    assert [key for key, _ in found] == [key for key, _ in _full(index, query, 7)]
    assert [score for _, score in found] == pytest.approx([score for _, score in _full(index, query, 7)])
    assert {key for key, _ in found} == {"r002", "r018", "r033", "r047", "r007", "r030", "r051"}
    # found by their titles only, the rows hold the term: no EVERY_ROW needed
    assert index._candidates(fts_terms("pruning network")) == '({heading}: "pruning") AND ("pruning" OR "network")'
    found = [(ref.key, score) for ref, score in index.search("pruning network", limit=3)]
    assert found == pytest.approx(_full(index, "pruning network", 3)) and {k for k, _ in found} == {"r007", "r030", "r051"}


def test_fewer_candidates_than_asked_are_filled_from_the_newest_rows(index, monkeypatch):
    monkeypatch.setattr(index_module, "RECENT_ROWS", 10)
    found = [ref.key for ref, _ in index.search("lottery network", limit=6)]
    assert found[:4] == [key for key, _ in _full(index, "lottery", 4)]  # the four rare rows first
    assert len(found) == 6 and all(int(key[1:]) >= 50 for key in found[4:])


def test_a_query_of_common_words_only_ranks_the_newest_rows(index, monkeypatch):
    monkeypatch.setattr(index_module, "RECENT_ROWS", 10)
    assert index._candidates(fts_terms("network filler")) is None  # in every row: no weight in BM25
    found = [ref.key for ref, _ in index.search("network filler", limit=5)]
    assert len(found) == 5 and all(int(key[1:]) >= 50 for key in found)


def test_a_phrase_counts_as_its_rarest_word_and_selects_by_its_words_in_the_title(index):
    assert index._rows_at_most('"lottery ticket"') == 4
    assert index._heading_option('"pruning sparse"') == (3, '{heading}: ("pruning" AND "sparse")', '"pruning sparse"')
    found = [ref.key for ref, _ in index.search('"sparse nets" network', limit=3)]
    assert found == [key for key, _ in _full(index, '"sparse nets" network', 3)] == ["r007", "r030", "r051"]


def test_an_index_of_the_first_schema_is_rebuilt_from_library_bib(tmp_path):
    folder = tmp_path / "literature"
    library = Library(folder)
    library.add_bibtex("@article{a1, title={Lottery tickets in pruning}, year={2019}}", origin="t.bib")
    library.close()
    # what aisci wrote before: five FTS columns, no heading, schema "1"
    db = sqlite3.connect(folder / "index.sqlite")
    db.executescript("DROP TRIGGER refs_ai; DROP TRIGGER refs_ad; DROP TABLE refs_fts; DROP TABLE refs;"
                     "CREATE TABLE refs (id INTEGER PRIMARY KEY, key TEXT, entry_type TEXT, fields TEXT, source TEXT,"
                     " line INTEGER, title TEXT, abstract TEXT, keywords TEXT, venue TEXT, authors TEXT, year INTEGER,"
                     " doi TEXT, arxiv TEXT, norm_title TEXT, ids TEXT);"
                     "CREATE VIRTUAL TABLE refs_fts USING fts5(title, abstract, keywords, venue, authors,"
                     " content='refs', content_rowid='id');"
                     "UPDATE meta SET value = '1' WHERE name = 'schema';")
    db.commit()
    db.close()
    again = Library(folder)
    assert [hit.key for hit in again.search("lottery")] == ["a1"]
    assert again.index.get_meta("schema") == index_module.SCHEMA_VERSION
    again.close()
