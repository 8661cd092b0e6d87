"""Online sources against a fake server on 127.0.0.1 (real HTTP, no internet): parsing,
empty results, fallback when a source fails, 429 storms and stalls ending in bounded time,
the response cache, API keys that are sent but never stored, and offline mode."""

from __future__ import annotations

import sqlite3
import time

import pytest

from aisci.literature.errors import SourceError, SourceNotFound
from aisci.literature.fakeserver import FakeLiteratureServer, FakePaper
from aisci.literature.library import Library
from aisci.literature.sources import RetryPolicy, make_sources, search_all
from aisci.literature.sources.http import parse_retry_after

PAPERS = [
    FakePaper("Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
              ["Alethea Power", "Yuri Burda"], 2022, arxiv="2201.02177",
              abstract="Networks generalize long after overfitting on modular arithmetic."),
    FakePaper("Long Short-Term Memory", ["Sepp Hochreiter", "Jürgen Schmidhuber"], 1997, venue="Neural Computation",
              doi="10.1162/neco.1997.9.8.1735", abstract="Learning to store information over extended time intervals."),
    FakePaper("Omnigrok: Grokking Beyond Algorithmic Data", ["Ziming Liu", "Eric J. Michaud"], 2023,
              venue="International Conference on Learning Representations", doi="10.48550/arXiv.2210.01117",
              arxiv="2210.01117", abstract="Grokking on images and molecules via the weight norm."),
]
FAST = RetryPolicy(max_attempts=4, max_total_s=2.0, timeout_s=0.5, backoff_s=0.05, max_backoff_s=0.2)


@pytest.fixture
def server():
    with FakeLiteratureServer(PAPERS) as fake:
        yield fake


@pytest.fixture
def sources(server, tmp_path):
    made = make_sources(tmp_path / "literature", base_urls=server.base_urls, policy=FAST, min_interval_s=0)
    yield {s.name: s for s in made}
    for s in made:
        s.close()


def test_each_source_parses_its_answer_into_references_with_bibtex(sources):
    for name, source in sources.items():
        refs = source.search("grokking", limit=5)
        assert refs, name
        for ref in refs:
            assert ref.source == name
            assert ref.to_bibtex().startswith(f"@{ref.entry_type}{{{ref.key},")
    s2 = sources["semantic_scholar"].search("long short-term memory")
    lstm = next(r for r in s2 if r.doi == "10.1162/neco.1997.9.8.1735")
    assert lstm.key == "hochreiter1997long" and lstm.surnames == ["hochreiter", "schmidhuber"]
    assert lstm.get("journal") == "Neural Computation"
    oa = sources["openalex"].search("grokking algorithmic")
    power = next(r for r in oa if r.arxiv_id == "2201.02177")
    assert power.abstract == "Networks generalize long after overfitting on modular arithmetic."  # inverted index
    arxiv = sources["arxiv"].search("grokking algorithmic")
    assert {r.arxiv_id for r in arxiv} == {"2201.02177", "2210.01117"}
    assert all(r.get("archiveprefix") == "arXiv" and r.get("primaryclass") == "cs.LG" for r in arxiv)
    crossref = sources["crossref"].search("long short-term memory")
    assert crossref[0].doi == "10.1162/neco.1997.9.8.1735" and crossref[0].year == 1997


def test_crossref_doi_to_bibtex_by_content_negotiation(sources, server):
    ref = sources["crossref"].bibtex_for_doi("https://doi.org/10.1162/NECO.1997.9.8.1735")
    assert ref.title == "Long Short-Term Memory" and ref.doi == "10.1162/neco.1997.9.8.1735"
    request = [r for r in server.requests if r.source == "doi"][-1]
    assert request.headers["Accept"] == "application/x-bibtex"
    with pytest.raises(SourceNotFound):
        sources["crossref"].bibtex_for_doi("10.9999/does-not-exist")


def test_an_empty_result_set_is_not_an_error(sources, server):
    for source in sources.values():
        assert source.search("zzzz nothing matches this") == []
    result = search_all("zzzz nothing matches this", list(sources.values()))
    assert result.hits == [] and result.warnings == [] and not result.sources_failed
    s2_answer = [r for r in server.requests if r.source == "semantic_scholar"]
    assert s2_answer  # the fake answered {"total": 0} with no "data" key, as the real API does


def test_results_are_merged_across_sources_and_fused_by_rank(sources):
    result = search_all("grokking", list(sources.values()), limit=5)
    keys = [h.key for h in result.hits]
    assert len(keys) == len(set(keys)) == 2  # every source's copies of a paper became one hit
    power = next(h for h in result.hits if h.reference.arxiv_id == "2201.02177")
    assert set(power.origin.split("+")) == {"semantic_scholar", "openalex", "arxiv"}
    assert result.hits[0].score >= result.hits[1].score
    assert result.sources_ok == ["semantic_scholar", "openalex", "arxiv", "crossref"]


def test_a_500_on_one_source_falls_back_to_the_others(sources, server):
    server.fail("semantic_scholar", 500)
    result = search_all("grokking", list(sources.values()))
    assert {h.reference.arxiv_id for h in result.hits} == {"2201.02177", "2210.01117"}
    assert "semantic_scholar" in result.sources_failed and "HTTP 500" in result.sources_failed["semantic_scholar"]
    assert any(w.startswith("semantic_scholar failed") for w in result.warnings)
    assert not result.local_only
    assert server.count("semantic_scholar") == FAST.max_attempts  # retried, but boundedly


def test_a_storm_of_429s_ends_in_bounded_time_with_a_warning(sources, server):
    server.fail("semantic_scholar", 429, headers={"Retry-After": "1"})
    started = time.monotonic()
    with pytest.raises(SourceError, match="rate limited .*server asks to wait 1s"):
        sources["semantic_scholar"].search("grokking")
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed <= FAST.max_total_s + 0.5  # honoured Retry-After once, then the budget ran out
    assert server.count("semantic_scholar") == 2


def test_a_429_storm_on_every_source_falls_back_to_the_local_library(sources, server, tmp_path):
    for name in ("semantic_scholar", "openalex", "arxiv", "crossref"):
        server.fail(name, 429)  # no Retry-After: exponential backoff until attempts or budget run out
    library = Library(tmp_path / "literature")
    library.add_bibtex("@misc{local, title={Grokking notes kept locally}, year={2024}}")
    started = time.monotonic()
    result = search_all("grokking", list(sources.values()), library=library)
    assert time.monotonic() - started <= FAST.max_total_s + 1.0  # sources run in parallel, each bounded
    assert result.local_only and not result.offline
    assert [h.key for h in result.hits] == ["local"]
    assert "every online source failed" in result.warnings[0] and "rate limited" in result.warnings[0]
    assert set(result.sources_failed) == {"semantic_scholar", "openalex", "arxiv", "crossref"}


def test_cached_answers_are_served_during_a_storm(sources, server):
    first = sources["openalex"].search("grokking")
    server.fail("openalex", 429, headers={"Retry-After": "30"})
    again = sources["openalex"].search("grokking")
    assert [r.key for r in again] == [r.key for r in first]
    assert server.count("openalex") == 1  # the storm never saw a request: the cache answered


def test_a_retry_after_beyond_the_budget_is_not_waited_for(sources, server):
    server.fail("arxiv", 429, headers={"Retry-After": "3600"})
    started = time.monotonic()
    with pytest.raises(SourceError, match="server asks to wait 3600s"):
        sources["arxiv"].search("grokking")
    assert time.monotonic() - started < 1.0 and server.count("arxiv") == 1


def test_a_stalled_server_times_out_in_bounded_time(sources, server):
    server.stall("crossref", 5.0)
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        sources["crossref"].search("long short-term memory")
    assert time.monotonic() - started <= FAST.max_total_s + 0.5


def test_a_transient_failure_is_retried_and_then_succeeds(sources, server):
    server.fail("crossref", 503, times=2)
    refs = sources["crossref"].search("long short-term memory")
    assert refs and server.count("crossref") == 3


def test_the_cache_prevents_a_second_request(sources, server, tmp_path):
    sources["arxiv"].search("grokking algorithmic", limit=5)
    sources["arxiv"].search("grokking algorithmic", limit=5)
    assert server.count("arxiv") == 1
    sources["arxiv"].search("grokking algorithmic", limit=6)  # a different request is sent
    assert server.count("arxiv") == 2
    # a new process (new source objects) reads the same cache from the study folder
    fresh = make_sources(tmp_path / "literature", ["arxiv"], base_urls=server.base_urls, policy=FAST,
                         min_interval_s=0)[0]
    fresh.search("grokking algorithmic", limit=5)
    assert server.count("arxiv") == 2
    assert [q["params"]["search_query"] for q in fresh.fetcher.cache.queries("arxiv")][0] == \
        "all:grokking AND all:algorithmic"


def test_unreadable_answers_are_reported_and_not_cached(sources, server):
    server.fail("openalex", 200, body="<html>maintenance</html>", times=1)
    with pytest.raises(SourceError, match="unreadable answer"):
        sources["openalex"].search("grokking")
    assert sources["openalex"].search("grokking")  # the next try goes out again and succeeds
    assert server.count("openalex") == 2


def test_api_keys_are_sent_but_never_cached_or_shown(server, tmp_path, monkeypatch):
    monkeypatch.setenv("S2_API_KEY", "sekrit-s2-key")
    monkeypatch.setenv("OPENALEX_API_KEY", "sekrit-oa-key")
    made = {s.name: s for s in make_sources(tmp_path / "lit", ["semantic_scholar", "openalex"],
                                            base_urls=server.base_urls, policy=FAST, min_interval_s=0)}
    made["semantic_scholar"].search("grokking")
    made["openalex"].search("grokking")
    s2_request = [r for r in server.requests if r.source == "semantic_scholar"][-1]
    assert s2_request.headers["x-api-key"] == "sekrit-s2-key"
    oa_request = [r for r in server.requests if r.source == "openalex"][-1]
    assert oa_request.params["api_key"] == "sekrit-oa-key"
    dump = "\n".join(sqlite3.connect(tmp_path / "lit" / "cache.sqlite").iterdump())
    assert "sekrit" not in dump
    assert "sekrit" not in repr(made["semantic_scholar"])
    server.fail("semantic_scholar", 403)
    with pytest.raises(SourceError) as refused:
        made["semantic_scholar"].search("another query")
    assert "$S2_API_KEY" in str(refused.value) and "sekrit" not in str(refused.value)


def test_offline_uses_the_local_library_only_and_says_so(sources, server, tmp_path):
    library = Library(tmp_path / "literature")
    library.add_bibtex("@misc{mine, title={My grokking experiments}, year={2024}}")
    result = search_all("grokking", list(sources.values()), offline=True, library=library)
    assert result.offline and result.local_only
    assert [h.key for h in result.hits] == ["mine"]
    assert result.warnings == ["offline: searched the local library only; no online source was asked"]
    assert server.requests == []


def test_online_hits_already_in_the_library_carry_the_library_key(sources, tmp_path):
    library = Library(tmp_path / "literature")
    library.add_bibtex("@article{lstm97, title={Long Short-Term Memory}, author={Hochreiter, Sepp}, year={1997},"
                       " doi={10.1162/neco.1997.9.8.1735}}")
    result = search_all("long short-term memory", list(sources.values()), library=library)
    lstm = next(h for h in result.hits if h.reference.doi == "10.1162/neco.1997.9.8.1735")
    assert lstm.in_library and lstm.key == "lstm97"


@pytest.mark.parametrize("value, expected", [("5", 5.0), ("0", 0.0), (None, None), ("soon", None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after_parsing(value, expected):
    assert parse_retry_after(value) == expected
