"""Crossref: work search (`GET /works?query=…`) and DOI -> BibTeX by content negotiation
(`GET https://doi.org/<doi>` with `Accept: application/x-bibtex`)."""

from __future__ import annotations

import json
import os
import re

from aisci.literature.bibfile import parse_bib
from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import SourceError
from aisci.literature.identifiers import normalize_doi
from aisci.literature.model import Reference
from aisci.literature.sources.base import Source
from aisci.literature.sources.http import Fetcher

_TAG = re.compile(r"<[^>]+>")
_ENTRY_TYPES = {"journal-article": "article", "proceedings-article": "inproceedings", "book-chapter": "incollection",
                "book": "book", "monograph": "book", "edited-book": "book", "dissertation": "phdthesis",
                "report": "techreport", "posted-content": "misc"}
_SELECT = "DOI,title,author,issued,container-title,type,abstract,volume,issue,page,publisher"


class Crossref(Source):
    name = "crossref"
    label = "Crossref"
    default_base_url = "https://api.crossref.org"
    default_doi_url = "https://doi.org"
    min_interval_s = 0.5
    key_env = ("CROSSREF_PLUS_API_TOKEN",)

    def __init__(self, *, doi_base_url: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.doi_base_url = (doi_base_url or self.default_doi_url).rstrip("/")
        # doi.org is another host: its own connection and its own rate limit, the same cache
        self.doi_fetcher = Fetcher(self.name, cache=self.fetcher.cache,
                                   min_interval_s=self.fetcher.limiter.min_interval_s, policy=self.fetcher.policy,
                                   limiter_name=f"{self.name}@{self.doi_base_url}", sleep=self.fetcher._sleep)

    def close(self) -> None:
        super().close()
        self.doi_fetcher.close()

    def _secrets(self) -> tuple[dict, dict]:
        params, headers = {}, {}
        mailto = os.environ.get("CROSSREF_MAILTO") or os.environ.get("AISCI_CONTACT_EMAIL")
        if mailto:
            params["mailto"] = mailto
        if self._api_key:
            headers["Crossref-Plus-API-Token"] = f"Bearer {self._api_key}"
        return params, headers

    def search(self, query: str, limit: int = 10) -> list[Reference]:
        secret_params, secret_headers = self._secrets()
        payload = self.fetcher.get(f"{self.base_url}/works",
                                   params={"query": " ".join(query.split()), "rows": max(1, min(limit, 100)),
                                           "select": _SELECT},
                                   secret_params=secret_params, secret_headers=secret_headers, parse=json.loads)
        message = payload.get("message") if isinstance(payload, dict) else None
        if not isinstance(message, dict):
            raise SourceError(self.name, "unexpected answer (no 'message' object)")
        items = message.get("items") or []
        return [ref for ref in (self._reference(item) for item in items if isinstance(item, dict)) if ref]

    def bibtex_for_doi(self, doi: str) -> Reference:
        """The publisher's BibTeX for a DOI, via content negotiation; SourceNotFound if the DOI is unknown."""
        clean = normalize_doi(doi)
        if not clean:
            raise SourceError(self.name, f"{doi!r} is not a DOI")
        text = self.doi_fetcher.get(f"{self.doi_base_url}/{clean}", accept="application/x-bibtex")
        parsed = parse_bib(text, origin=f"doi:{clean}", source=self.name)
        if not parsed.references:
            raise SourceError(self.name, f"no readable BibTeX for doi:{clean}")
        ref = parsed.references[0]
        ref.fields.setdefault("doi", clean)
        return ref

    def _reference(self, item: dict) -> Reference | None:
        title = _first(item.get("title"))
        if not title:
            return None
        authors = []
        for person in item.get("author") or []:
            if not isinstance(person, dict):
                continue
            if person.get("family"):
                authors.append(f"{person['family']}, {person.get('given', '')}".strip().rstrip(","))
            elif person.get("name"):  # an organisation: one name, never split into first/last
                authors.append("{" + person["name"] + "}")
        date_parts = ((item.get("issued") or {}).get("date-parts") or [[None]])[0] or [None]
        year = date_parts[0] if isinstance(date_parts[0], int) else None
        abstract = _TAG.sub(" ", item.get("abstract") or "").strip() or None
        entry_type = _ENTRY_TYPES.get(item.get("type") or "", "misc")
        return reference_from_metadata(
            title=_TAG.sub("", title),
            authors=authors,
            year=year,
            venue=_first(item.get("container-title")) or None,
            entry_type=entry_type,
            doi=item.get("DOI"),
            abstract=abstract,
            volume=item.get("volume"),
            number=item.get("issue"),
            pages=item.get("page"),
            publisher=item.get("publisher"),
            source=self.name,
        )


def _first(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return (value or "").strip() if isinstance(value, str) else ""
