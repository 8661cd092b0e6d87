"""Crossref: work search (`GET /works?query=…`) and DOI -> BibTeX by content negotiation
(`GET https://doi.org/<doi>` with `Accept: application/x-bibtex`)."""

from __future__ import annotations

import json
import os

from aisci.literature.bibfile import parse_bib
from aisci.literature.build import reference_from_metadata
from aisci.literature.casing import protect_case
from aisci.literature.errors import SourceError
from aisci.literature.identifiers import normalize_doi
from aisci.literature.model import Reference
from aisci.literature.sources.base import Source

_ENTRY_TYPES = {"journal-article": "article", "proceedings-article": "inproceedings", "book-chapter": "incollection",
                "book-section": "incollection", "book-part": "incollection", "reference-entry": "incollection",
                "book": "book", "monograph": "book", "edited-book": "book", "reference-book": "book",
                "dissertation": "phdthesis", "report": "techreport", "report-component": "techreport",
                "posted-content": "misc"}
_SELECT = "DOI,title,author,issued,container-title,type,abstract,volume,issue,page,publisher,institution"


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
        self.doi_fetcher = self.fetcher.for_host(f"{self.name}@{self.doi_base_url}")

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
        fields = {**ref.fields, "doi": ref.get("doi") or clean}
        if fields.get("title") and "{" not in fields["title"]:  # publishers' BibTeX protects no capitals
            fields["title"] = protect_case(fields["title"])
        # a copy, not setdefault: the parsed reference has already cached its (missing) DOI
        return ref.copy(fields=fields)

    def _reference(self, item: dict) -> Reference | None:
        title = _first(item.get("title"))
        if not title:
            return None
        authors = []
        for person in item.get("author") or []:
            if not isinstance(person, dict):
                continue
            if person.get("family"):
                parts = [person["family"], person.get("suffix") or "", person.get("given") or ""]
                authors.append(", ".join(p.strip() for p in parts if p and p.strip()))
            elif person.get("name"):  # an organisation: one name, never split into first/last
                authors.append("{" + person["name"] + "}")
        date_parts = ((item.get("issued") or {}).get("date-parts") or [[None]])[0] or [None]
        year = date_parts[0] if isinstance(date_parts[0], int) else None
        entry_type = _ENTRY_TYPES.get(item.get("type") or "", "misc")
        institution = _first([i.get("name") for i in item.get("institution") or [] if isinstance(i, dict)])
        # a chapter's containers are [series, book]: the book is the last
        containers = item.get("container-title") or []
        container = _first(list(reversed(containers)) if isinstance(containers, list) else containers)
        publisher = (item.get("publisher") or "").strip() or None
        # the issuer of a report or a thesis: the institution Crossref names, else the publisher
        if entry_type in ("techreport", "phdthesis"):
            venue = institution or publisher
        elif entry_type == "misc":
            venue = None
        else:
            venue = container or None
        return reference_from_metadata(
            title=title,
            authors=authors,
            year=year,
            venue=venue,
            howpublished=(container or institution or publisher) if entry_type == "misc" else None,
            entry_type=entry_type,
            doi=item.get("DOI"),
            abstract=item.get("abstract"),
            volume=item.get("volume"),
            number=item.get("issue"),
            pages=item.get("page"),
            publisher=publisher if venue != publisher else None,
            source=self.name,
            markup="html",  # Crossref carries HTML/JATS markup and entities in titles and abstracts
        )


def _first(value) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    return (value or "").strip() if isinstance(value, str) else ""
