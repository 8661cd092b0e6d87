"""Semantic Scholar graph API: `GET /paper/search`.

A search with no match answers `{"total": 0}` without a `data` list; that is an empty
result, not an error. Hyphens are replaced by spaces, as the API documentation advises.
"""

from __future__ import annotations

import json

from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import SourceError
from aisci.literature.model import Reference
from aisci.literature.sources.base import Source

_FIELDS = "title,authors,year,venue,journal,abstract,externalIds,publicationTypes,url"


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
        types = item.get("publicationTypes") or []
        venue = (journal.get("name") or item.get("venue") or "").strip()
        on_arxiv_only = venue.lower() in ("arxiv", "arxiv.org")
        if on_arxiv_only:  # S2 files preprints under journal "ArXiv", volume "abs/1706.03762"
            venue, journal = "", {}
        entry_type = None
        if venue:
            entry_type = "inproceedings" if "Conference" in types and "JournalArticle" not in types else "article"
        return reference_from_metadata(
            title=title,
            authors=[a.get("name", "") for a in item.get("authors") or [] if isinstance(a, dict)],
            year=item.get("year"),
            venue=venue or None,
            entry_type=entry_type,
            doi=ids.get("DOI"),
            arxiv_id=ids.get("ArXiv"),
            abstract=item.get("abstract"),
            url=item.get("url"),
            volume=(journal.get("volume") or "").strip() or None,
            pages=(journal.get("pages") or "").strip() or None,
            source=self.name,
        )
