"""Online sources against a fake server on 127.0.0.1 (real HTTP, no internet): parsing,
empty results, fallback when a source fails, 429 storms and stalls ending in bounded time,
the response cache, API keys that are sent but never stored, and offline mode."""

from __future__ import annotations

import sqlite3
from pathlib import Path
import time

import pytest

from aisci.literature.errors import SourceError, SourceNotFound
from tests.fake_literature_server import FakeLiteratureServer, FakePaper
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


# --- parsing real-world answer shapes (no network needed: httpx.MockTransport) ------------------
def _mock_source(cls, payload: str, content_type: str = "application/json", **kwargs):
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=payload, headers={"Content-Type": content_type})

    return cls(client=httpx.Client(transport=httpx.MockTransport(handler)), min_interval_s=0, policy=FAST, **kwargs)


def test_semantic_scholar_preprint_quirks():
    from aisci.literature.sources import SemanticScholar

    payload = """{"total": 2, "offset": 0, "next": 2, "data": [
      {"paperId": "204e3073", "externalIds": {"DBLP": "journals/corr/VaswaniSPUJGKP17", "ArXiv": "1706.03762",
       "CorpusId": 13756489}, "url": "https://www.semanticscholar.org/paper/204e3073", "title": "Attention is All you Need",
       "venue": "Neural Information Processing Systems", "year": 2017, "journal": {"name": "ArXiv",
       "volume": "abs/1706.03762"}, "publicationTypes": null, "abstract": null,
       "authors": [{"authorId": "40348417", "name": "Ashish Vaswani"}, {"authorId": "1846258", "name": "Noam M. Shazeer"}]},
      {"paperId": "x", "title": null, "authors": []}]}"""
    refs = _mock_source(SemanticScholar, payload).search("attention")
    assert len(refs) == 1  # the untitled record is dropped, not a crash
    ref = refs[0]
    # journal "ArXiv" is no venue; the conference in `venue` is kept (NeurIPS), with the eprint
    assert (ref.key, ref.entry_type, ref.arxiv_id, ref.year) == ("vaswani2017attention", "inproceedings", "1706.03762",
                                                                 2017)
    assert ref.get("booktitle") == "Neural Information Processing Systems" and ref.get("eprint") == "1706.03762"
    assert "volume" not in ref.fields and ref.surnames == ["vaswani", "shazeer"]


def test_openalex_conference_paper_with_inverted_abstract():
    from aisci.literature.sources import OpenAlex

    payload = """{"meta": {"count": 1}, "results": [{"id": "https://openalex.org/W2194775991",
      "doi": "https://doi.org/10.1109/cvpr.2016.90", "display_name": "Deep Residual Learning for Image Recognition",
      "publication_year": 2016, "type": "article",
      "authorships": [{"author": {"display_name": "Kaiming He"}}, {"author": {"display_name": "Xiangyu Zhang"}}],
      "primary_location": {"source": {"display_name": "2016 IEEE Conference on Computer Vision and Pattern Recognition (CVPR)",
       "type": "conference"}},
      "locations": [{"landing_page_url": "https://arxiv.org/abs/1512.03385"}],
      "biblio": {"volume": null, "issue": null, "first_page": "770", "last_page": "778"},
      "abstract_inverted_index": {"Deeper": [0], "neural": [1], "networks": [2], "are": [3], "hard": [4], "to": [5],
       "train.": [6]}}]}"""
    ref = _mock_source(OpenAlex, payload).search("resnet")[0]
    assert (ref.entry_type, ref.doi, ref.arxiv_id) == ("inproceedings", "10.1109/cvpr.2016.90", "1512.03385")
    assert ref.get("booktitle").startswith("2016 IEEE Conference") and ref.get("pages") == "770--778"
    assert ref.abstract == "Deeper neural networks are hard to train."


def test_arxiv_feed_with_old_style_ids_and_an_error_entry():
    from aisci.literature.sources import ArXiv

    feed = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <opensearch:totalResults>1</opensearch:totalResults>
  <entry><id>http://arxiv.org/abs/hep-th/9901001v2</id><published>1999-01-04T00:00:00Z</published>
    <title>A title broken
      over two lines</title><summary>  Abstract text.  </summary>
    <author><name>Jane Doe</name></author><arxiv:primary_category term="hep-th"/></entry>
</feed>"""
    ref = _mock_source(ArXiv, feed, "application/atom+xml").search("anything")[0]
    assert (ref.arxiv_id, ref.title, ref.year, ref.get("primaryclass")) == \
        ("hep-th/9901001", "A title broken over two lines", 1999, "hep-th")
    error_feed = feed.replace("http://arxiv.org/abs/hep-th/9901001v2", "http://arxiv.org/api/errors#bad_query")
    with pytest.raises(SourceError, match="query rejected"):
        _mock_source(ArXiv, error_feed, "application/atom+xml").search("anything")


def test_crossref_items_with_markup_and_date_parts():
    from aisci.literature.sources import Crossref

    payload = """{"status": "ok", "message": {"total-results": 1, "items": [{"DOI": "10.1038/323533a0",
      "title": ["Learning representations by back-propagating errors"], "type": "journal-article",
      "author": [{"given": "David E.", "family": "Rumelhart", "sequence": "first"}, {"name": "PDP Research Group"}],
      "issued": {"date-parts": [[1986, 10]]}, "container-title": ["Nature"], "volume": "323", "issue": "6088",
      "page": "533-536", "abstract": "<jats:p>We describe a new <jats:italic>learning</jats:italic> procedure.</jats:p>"}]}}"""
    ref = _mock_source(Crossref, payload).search("backprop")[0]
    assert (ref.key, ref.year, ref.get("journal"), ref.get("pages")) == ("rumelhart1986learning", 1986, "Nature",
                                                                         "533--536")
    assert ref.get("author") == "Rumelhart, David E. and {PDP Research Group}"
    assert "<" not in ref.abstract and "learning" in ref.abstract


def test_requests_to_one_source_are_spaced_by_its_minimum_interval(server, tmp_path):
    first, second = (make_sources(tmp_path / f"lit{i}", ["openalex"], base_urls=server.base_urls, policy=FAST,
                                  min_interval_s=0.3)[0] for i in range(2))
    for query in ("grokking", "memory", "omnigrok"):
        first.search(query)
    second.search("arithmetic")  # another instance for the same service shares the limiter
    times = [r.at for r in server.requests if r.source == "openalex"]
    assert len(times) == 4
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.28


def test_test_servers_live_with_the_tests_not_in_the_package():
    """Issue 19 item 6: the fake literature server is test scaffolding; the wheel ships none."""
    import importlib.util

    import aisci

    package = Path(aisci.__file__).parent
    assert importlib.util.find_spec("aisci.literature.fakeserver") is None
    assert not [p for p in package.rglob("*.py") if "fake" in p.stem.lower()]
    assert (Path(__file__).parent / "fake_literature_server.py").is_file()
