"""OpenAlex: `GET /works?search=…`. OpenAlex gives no BibTeX; entries are built from the
metadata, the abstract rebuilt from its inverted index, the arXiv id read off the locations.

The entry type follows `type_crossref` where given (OpenAlex's own `type` calls conference
papers "article"), else `type` and the kind of source. A thesis's school is the author's
institution; a report's institution is the organisation that hosts its source."""

from __future__ import annotations

import json
import os

from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import SourceError
from aisci.literature.identifiers import normalize_arxiv_id
from aisci.literature.model import Reference
from aisci.literature.sources.base import Source

_ENTRY_TYPES = {"book": "book", "book-chapter": "incollection", "dissertation": "phdthesis",
                "report": "techreport", "preprint": "misc", "dataset": "misc", "proceedings-article": "inproceedings",
                "journal-article": "article", "posted-content": "misc", "monograph": "book", "edited-book": "book",
                "book-section": "incollection", "book-part": "incollection", "reference-entry": "incollection"}


class OpenAlex(Source):
    name = "openalex"
    label = "OpenAlex"
    default_base_url = "https://api.openalex.org"
    min_interval_s = 0.2  # OpenAlex allows 10 requests a second
    key_env = ("OPENALEX_API_KEY",)

    def search(self, query: str, limit: int = 10) -> list[Reference]:
        secret = {}
        if self._api_key:
            secret["api_key"] = self._api_key
        mailto = os.environ.get("OPENALEX_MAILTO") or os.environ.get("AISCI_CONTACT_EMAIL")
        if mailto:
            secret["mailto"] = mailto  # the "polite pool"; personal, so kept out of the cache key
        payload = self.fetcher.get(f"{self.base_url}/works",
                                   params={"search": " ".join(query.split()), "per_page": max(1, min(limit, 200))},
                                   secret_params=secret, parse=json.loads)
        if not isinstance(payload, dict):
            raise SourceError(self.name, "unexpected answer (not a JSON object)")
        items = payload.get("results") or []
        return [ref for ref in (self._reference(item) for item in items[:limit] if isinstance(item, dict)) if ref]

    def _reference(self, work: dict) -> Reference | None:
        title = (work.get("display_name") or work.get("title") or "").strip()
        if not title:
            return None
        location = work.get("primary_location") or {}
        source = location.get("source") or {}
        source_name = (source.get("display_name") or "").strip()
        arxiv_id = _arxiv_id(work)
        on_arxiv = "arxiv" in source_name.lower()
        repository = source.get("type") == "repository"
        entry_type = _ENTRY_TYPES.get(work.get("type_crossref") or "") or _ENTRY_TYPES.get(work.get("type") or "")
        if entry_type is None or (entry_type == "article" and source.get("type") == "conference"):
            if source_name and not repository and not on_arxiv:
                entry_type = "inproceedings" if source.get("type") == "conference" else "article"
            else:
                entry_type = "misc"
        if entry_type == "phdthesis":
            venue = _first_institution(work) or source.get("host_organization_name") or source_name
        elif entry_type == "techreport":
            venue = source.get("host_organization_name") or source_name or _first_institution(work)
        elif entry_type == "misc" or repository or on_arxiv:
            venue = None
        else:
            venue = source_name
        if entry_type in ("article", "inproceedings", "incollection") and not venue:
            entry_type = "misc"
        biblio = work.get("biblio") or {}
        first, last = biblio.get("first_page"), biblio.get("last_page")
        pages = f"{first}--{last}" if first and last and first != last else first
        return reference_from_metadata(
            title=title,
            authors=[(a.get("author") or {}).get("display_name", "") for a in work.get("authorships") or []
                     if isinstance(a, dict)],
            year=work.get("publication_year"),
            venue=(venue or "").strip() or None,
            howpublished=source_name if entry_type == "misc" and source_name and not on_arxiv else None,
            entry_type=entry_type,
            doi=work.get("doi"),
            arxiv_id=arxiv_id,
            abstract=abstract_from_inverted_index(work.get("abstract_inverted_index")),
            url=work.get("id"),
            volume=biblio.get("volume"),
            number=biblio.get("issue"),
            pages=pages,
            source=self.name,
            markup="html",  # OpenAlex titles carry <i>, <sup>, <sub> and entities
        )


def _first_institution(work: dict) -> str | None:
    for authorship in work.get("authorships") or []:
        for institution in (authorship or {}).get("institutions") or []:
            name = (institution or {}).get("display_name")
            if name:
                return name
    return None


def abstract_from_inverted_index(index: dict | None) -> str | None:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if not isinstance(index, dict) or not index:
        return None
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for pos in positions or []:
            if isinstance(pos, int):
                slots[pos] = word
    return " ".join(slots[i] for i in sorted(slots)) or None


def _arxiv_id(work: dict) -> str | None:
    candidates = [work.get("doi") or ""]
    for location in [work.get("primary_location") or {}, *(work.get("locations") or [])]:
        if isinstance(location, dict):
            candidates += [location.get("landing_page_url") or "", location.get("pdf_url") or ""]
    for text in candidates:
        if "arxiv" in text.lower():
            found = normalize_arxiv_id(text)
            if found:
                return found
    return None
