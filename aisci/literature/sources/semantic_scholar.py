"""Semantic Scholar graph API: `GET /paper/search`.

A search with no match answers `{"total": 0}` without a `data` list; that is an empty
result, not an error. Hyphens are replaced by spaces, as the API documentation advises.

Semantic Scholar tags a conference paper ["JournalArticle", "Conference"] and files a
preprint under the journal "ArXiv" (or "arXiv: Learning"), often while `venue` names the
conference it appeared at. A conference (by type, by `publicationVenue.type`, or by its
name) makes @inproceedings; an arXiv "journal" is never a venue; any other venue the record
carries is kept.
"""

from __future__ import annotations

import json
import re

from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import SourceError
from aisci.literature.model import Reference
from aisci.literature.sources.base import Source

_FIELDS = "title,authors,year,venue,publicationVenue,journal,abstract,externalIds,publicationTypes,url"
_ARXIV_VENUE = re.compile(r"^\s*arxiv\b", re.IGNORECASE)
_CONFERENCE_NAME = re.compile(r"conference|proceedings|symposium|workshop|meeting|congress|colloquium|"
                              r"information processing systems", re.IGNORECASE)


class SemanticScholar(Source):
    name = "semantic_scholar"
    label = "Semantic Scholar"
    default_base_url = "https://api.semanticscholar.org/graph/v1"
    min_interval_s = 1.0  # the rate granted to an API key; unauthenticated use shares a pool
    key_env = ("S2_API_KEY", "SEMANTIC_SCHOLAR_API_KEY")

    def search(self, query: str, limit: int = 10) -> list[Reference]:
        params = {"query": " ".join(query.replace("-", " ").split()), "limit": max(1, min(limit, 100)),
                  "fields": _FIELDS}
        payload = self.fetcher.get(f"{self.base_url}/paper/search", params=params, parse=json.loads,
                                   secret_headers={"x-api-key": self._api_key} if self._api_key else None)
        if not isinstance(payload, dict):
            raise SourceError(self.name, "unexpected answer (not a JSON object)")
        items = payload.get("data") or []
        return [ref for ref in (self._reference(item) for item in items if isinstance(item, dict)) if ref]

    def _reference(self, item: dict) -> Reference | None:
        title = (item.get("title") or "").strip()
        if not title:
            return None
        ids = item.get("externalIds") or {}
        journal = item.get("journal") or {}
        venue_info = item.get("publicationVenue") or {}
        types = item.get("publicationTypes") or []
        journal_name = (journal.get("name") or "").strip()
        venue = (item.get("venue") or "").strip() or (venue_info.get("name") or "").strip()
        if _ARXIV_VENUE.match(journal_name):  # "ArXiv", volume "abs/1706.03762": a preprint, not a journal
            journal_name, journal = "", {}
        if _ARXIV_VENUE.match(venue):
            venue = ""
        conference = ("Conference" in types or venue_info.get("type") == "conference"
                      or (not journal_name and bool(_CONFERENCE_NAME.search(venue))))
        if conference and (venue or journal_name):
            entry_type, where = "inproceedings", venue or journal_name
        elif journal_name:
            entry_type, where = "article", journal_name
        elif "BookSection" in types and venue:
            entry_type, where = "incollection", venue
        elif venue and ("JournalArticle" in types or venue_info.get("type") == "journal"):
            entry_type, where = "article", venue
        else:
            entry_type, where = "misc", None
        return reference_from_metadata(
            title=title,
            authors=[a.get("name", "") for a in item.get("authors") or [] if isinstance(a, dict)],
            year=item.get("year"),
            venue=where,
            howpublished=venue if entry_type == "misc" and venue else None,
            entry_type=entry_type,
            doi=ids.get("DOI"),
            arxiv_id=ids.get("ArXiv"),
            abstract=item.get("abstract"),
            url=item.get("url"),
            volume=(journal.get("volume") or "").strip() or None,
            pages=(journal.get("pages") or "").strip() or None,
            source=self.name,
            markup="tex",  # titles and abstracts taken over from arXiv keep their $math$
        )
