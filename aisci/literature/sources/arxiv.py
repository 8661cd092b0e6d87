"""arXiv: the Atom API (`GET /query?search_query=…`), at most one request every 3 seconds
as arXiv asks. The API reports a bad query as an Atom entry titled "Error" whose summary
gives the reason (sent with HTTP 400 now, with 200 before); the reason is what the user
sees. Titles and abstracts are TeX: their $math$ stays math."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import SourceError
from aisci.literature.identifiers import normalize_arxiv_id
from aisci.literature.model import Reference
from aisci.literature.sources.base import Source

_NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset("a an and are as at be by for from in is it of on or that the to with".split())


def arxiv_search_query(text: str) -> str:
    """Free text -> arXiv query syntax: every word and "phrase" must appear (AND)."""
    terms = []
    for phrase in _PHRASE.findall(text):
        words = _WORD.findall(phrase)
        if words:
            terms.append('all:"' + " ".join(words) + '"')
    words = [w for w in _WORD.findall(_PHRASE.sub(" ", text)) if w.lower() not in _STOPWORDS]
    terms += [f"all:{w}" for w in dict.fromkeys(words)]
    return " AND ".join(terms)


class ArXiv(Source):
    name = "arxiv"
    label = "arXiv"
    default_base_url = "https://export.arxiv.org/api"
    min_interval_s = 3.0

    def search(self, query: str, limit: int = 10) -> list[Reference]:
        search_query = arxiv_search_query(query)
        if not search_query:
            return []
        root = self.fetcher.get(f"{self.base_url}/query",
                                params={"search_query": search_query, "start": 0,
                                        "max_results": max(1, min(limit, 100)), "sortBy": "relevance"},
                                accept="application/atom+xml", parse=_parse_feed, error_reason=error_reason)
        reason = _error_in_feed(root)
        if reason:
            raise SourceError(self.name, reason)
        refs = []
        for entry in root.findall("atom:entry", _NS):
            ref = self._reference(entry, _text(entry, "atom:id"))
            if ref:
                refs.append(ref)
        return refs

    def _reference(self, entry: ET.Element, entry_id: str) -> Reference | None:
        title = " ".join(_text(entry, "atom:title").split())
        arxiv_id = normalize_arxiv_id(entry_id)
        if not title or not arxiv_id:
            return None
        published = _text(entry, "atom:published")
        category = entry.find("arxiv:primary_category", _NS)
        return reference_from_metadata(
            title=title,
            authors=[_text(a, "atom:name") for a in entry.findall("atom:author", _NS)],
            year=int(published[:4]) if published[:4].isdigit() else None,
            doi=_text(entry, "arxiv:doi") or None,
            arxiv_id=arxiv_id,
            howpublished=" ".join(_text(entry, "arxiv:journal_ref").split()) or None,
            abstract=" ".join(_text(entry, "atom:summary").split()) or None,
            url=f"https://arxiv.org/abs/{arxiv_id}",
            primary_class=category.get("term") if category is not None else None,
            source=self.name,
            markup="tex",
        )


def error_reason(body: str) -> str | None:
    """The one-line reason of arXiv's error feed, or None if `body` is not one."""
    return _error_in_feed(ET.fromstring(body))


def _error_in_feed(root: ET.Element) -> str | None:
    for entry in root.findall("atom:entry", _NS):
        if "/api/errors" in _text(entry, "atom:id"):
            summary = " ".join(_text(entry, "atom:summary").split()) or "no reason given"
            return f"query rejected: {summary}"
    return None


def _parse_feed(body: str) -> ET.Element:
    root = ET.fromstring(body)
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise ValueError(f"expected an Atom feed, got <{root.tag}>")
    return root


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path, _NS)
    return (found.text or "").strip() if found is not None else ""
