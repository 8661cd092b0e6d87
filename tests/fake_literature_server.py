"""A local stand-in for the online sources, for tests.

One HTTP server on 127.0.0.1 answers the way Semantic Scholar, OpenAlex, arXiv, Crossref
and doi.org do (same paths, parameters and response shapes, a tiny corpus), and can be
told to misbehave: answer 429 with Retry-After, fail with 500, stall, or send garbage.

    with FakeLiteratureServer(papers) as server:
        sources = make_sources(tmp, base_urls=server.base_urls)
        server.fail("semantic_scholar", 429, headers={"Retry-After": "1"})   # every request
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from aisci.literature.build import reference_from_metadata

SOURCE_PREFIXES = {"s2": "semantic_scholar", "openalex": "openalex", "arxiv": "arxiv", "crossref": "crossref",
                   "doi": "doi"}
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset("a an and are as at be by for from in is it of on or that the to with all".split())


@dataclass
class FakePaper:
    title: str
    authors: list[str]  # "First Last"
    year: int
    venue: str | None = None
    doi: str | None = None
    arxiv: str | None = None
    abstract: str | None = None


@dataclass
class RecordedRequest:
    source: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class _Script:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    times: int | None = None  # None: every request from now on
    delay_s: float = 0.0


class FakeLiteratureServer:
    def __init__(self, papers: list[FakePaper] | None = None):
        self.papers = list(papers) if papers is not None else default_papers()
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[str, list[_Script]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeLiteratureServer:
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-literature", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeLiteratureServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_urls(self) -> dict[str, str]:
        return {"semantic_scholar": f"{self.root}/s2/graph/v1", "openalex": f"{self.root}/openalex",
                "arxiv": f"{self.root}/arxiv/api", "crossref": f"{self.root}/crossref", "doi": f"{self.root}/doi"}

    # --- misbehaviour on demand --------------------------------------------------------------
    def fail(self, source: str, status: int, *, times: int | None = None, headers: dict | None = None,
             body: str = "", delay_s: float = 0.0) -> None:
        """The next `times` requests to `source` (all, if None) get this answer instead."""
        with self._lock:
            self._scripts.setdefault(source, []).append(_Script(status, dict(headers or {}), body, times, delay_s))

    def stall(self, source: str, seconds: float, *, times: int | None = None) -> None:
        """Answer normally, but only after `seconds` (to exercise client timeouts)."""
        self.fail(source, 0, times=times, delay_s=seconds)

    def heal(self, source: str | None = None) -> None:
        with self._lock:
            if source is None:
                self._scripts.clear()
            else:
                self._scripts.pop(source, None)

    def count(self, source: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.source == source)

    def _next_script(self, source: str) -> _Script | None:
        with self._lock:
            scripts = self._scripts.get(source) or []
            if not scripts:
                return None
            script = scripts[0]
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    scripts.pop(0)
            return script

    # --- the corpus ----------------------------------------------------------------------------
    def matching(self, query: str, limit: int) -> list[FakePaper]:
        words = {w.lower() for w in _WORD.findall(query)} - _STOPWORDS
        scored = []
        for order, paper in enumerate(self.papers):
            text = {w.lower() for w in _WORD.findall(f"{paper.title} {paper.abstract or ''}")}
            score = len(words & text)
            if score:
                scored.append((-score, order, paper))
        return [paper for _, _, paper in sorted(scored)[:limit]]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLiteratureServer

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        prefix, _, rest = parts.path.lstrip("/").partition("/")
        source = SOURCE_PREFIXES.get(prefix, prefix)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.fake._lock:
            self.fake.requests.append(RecordedRequest(source, "/" + rest, params, dict(self.headers.items()),
                                                      time.monotonic()))
        script = self.fake._next_script(source)
        if script is not None:
            if script.delay_s:
                time.sleep(script.delay_s)
            if script.status:
                return self._send(script.status, script.body, "text/plain", script.headers)
        try:
            handler = {"semantic_scholar": self._s2, "openalex": self._openalex, "arxiv": self._arxiv,
                       "crossref": self._crossref, "doi": self._doi}[source]
        except KeyError:
            return self._send(404, "unknown service", "text/plain")
        handler(rest, params)

    def _send(self, status: int, body: str, content_type: str, headers: dict | None = None) -> None:
        data = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _json(self, payload: dict) -> None:
        self._send(200, json.dumps(payload), "application/json")

    # --- Semantic Scholar ----------------------------------------------------------------------
    def _s2(self, path: str, params: dict) -> None:
        if path != "graph/v1/paper/search":
            return self._send(404, '{"error":"not found"}', "application/json")
        papers = self.fake.matching(params.get("query", ""), int(params.get("limit", 10)))
        if not papers:  # like the real API: no "data" key at all
            return self._json({"total": 0, "offset": 0})
        data = [{"paperId": f"p{i}", "title": p.title, "year": p.year, "venue": p.venue or "",
                 "abstract": p.abstract, "authors": [{"name": a} for a in p.authors],
                 "externalIds": {k: v for k, v in (("DOI", p.doi), ("ArXiv", p.arxiv)) if v},
                 "journal": {"name": p.venue} if p.venue else None, "publicationTypes": ["JournalArticle"]}
                for i, p in enumerate(papers)]
        self._json({"total": len(data), "offset": 0, "data": data})

    # --- OpenAlex --------------------------------------------------------------------------------
    def _openalex(self, path: str, params: dict) -> None:
        if path != "works":
            return self._send(404, '{"error":"not found"}', "application/json")
        limit = int(params.get("per_page") or params.get("per-page") or 25)
        results = []
        for i, p in enumerate(self.fake.matching(params.get("search", ""), limit)):
            words = (p.abstract or "").split()
            inverted: dict[str, list[int]] = {}
            for pos, word in enumerate(words):
                inverted.setdefault(word, []).append(pos)
            locations = [{"landing_page_url": f"https://arxiv.org/abs/{p.arxiv}",
                          "source": {"display_name": "arXiv (Cornell University)", "type": "repository"}}] \
                if p.arxiv else []
            results.append({
                "id": f"https://openalex.org/W{i}", "display_name": p.title, "title": p.title,
                "publication_year": p.year, "type": "article",
                "doi": f"https://doi.org/{p.doi}" if p.doi else None,
                "authorships": [{"author": {"display_name": a}} for a in p.authors],
                "primary_location": {"source": {"display_name": p.venue, "type": "journal"}} if p.venue
                else (locations[0] if locations else None),
                "locations": locations, "abstract_inverted_index": inverted or None, "biblio": {},
            })
        self._json({"meta": {"count": len(results)}, "results": results})

    # --- arXiv -------------------------------------------------------------------------------------
    def _arxiv(self, path: str, params: dict) -> None:
        if path != "api/query":
            return self._send(404, "not found", "text/plain")
        query = re.sub(r"\b(all|ti|abs|au):", " ", params.get("search_query", "")).replace(" AND ", " ")
        entries = []
        for p in self.fake.matching(query, int(params.get("max_results", 10))):
            if not p.arxiv:
                continue
            authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in p.authors)
            doi = f"<arxiv:doi>{escape(p.doi)}</arxiv:doi>" if p.doi else ""
            entries.append(
                f"<entry><id>http://arxiv.org/abs/{p.arxiv}v1</id><published>{p.year}-01-01T00:00:00Z</published>"
                f"<title>{escape(p.title)}</title><summary>{escape(p.abstract or '')}</summary>{authors}{doi}"
                f'<arxiv:primary_category term="cs.LG"/></entry>')
        feed = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
                'xmlns:arxiv="http://arxiv.org/schemas/atom"><title>arXiv Query</title>' + "".join(entries) + "</feed>")
        self._send(200, feed, "application/atom+xml")

    # --- Crossref and doi.org ------------------------------------------------------------------------
    def _crossref(self, path: str, params: dict) -> None:
        if path != "works":
            return self._send(404, "Resource not found.", "text/plain")
        items = []
        for p in self.fake.matching(params.get("query", ""), int(params.get("rows", 20))):
            if not p.doi:
                continue
            items.append({"DOI": p.doi, "title": [p.title], "type": "journal-article",
                          "author": [{"given": " ".join(a.split()[:-1]), "family": a.split()[-1]} for a in p.authors],
                          "issued": {"date-parts": [[p.year]]}, "container-title": [p.venue] if p.venue else [],
                          "abstract": f"<jats:p>{escape(p.abstract)}</jats:p>" if p.abstract else None})
        self._json({"status": "ok", "message-type": "work-list",
                    "message": {"total-results": len(items), "items": items}})

    def _doi(self, path: str, params: dict) -> None:
        doi = unquote(path).lower()
        paper = next((p for p in self.fake.papers if p.doi and p.doi.lower() == doi), None)
        if paper is None:
            return self._send(404, "DOI Not Found", "text/html")
        ref = reference_from_metadata(title=paper.title, authors=paper.authors, year=paper.year, venue=paper.venue,
                                      doi=paper.doi, key=f"{paper.authors[0].split()[-1]}_{paper.year}")
        self._send(200, " " + ref.to_bibtex().replace("\n", " "), "application/x-bibtex")


def default_papers() -> list[FakePaper]:
    """The canonical papers of the attribution table: enough for demos and smoke tests."""
    from aisci.literature.attribution import load_table

    papers, seen = [], set()
    for method in load_table().methods:
        for ref in method.references:
            if ref.key in seen:
                continue
            seen.add(ref.key)
            papers.append(FakePaper(title=ref.title, authors=ref.authors, year=ref.year, venue=ref.venue,
                                    doi=ref.doi, arxiv=ref.arxiv,
                                    abstract=f"{ref.title}. Introduces {method.name}."))
    return papers
