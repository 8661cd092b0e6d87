"""Online literature sources behind one interface, and `search_all` over them.

    from aisci.literature.sources import make_sources, search_all
    sources = make_sources(study / "literature")              # all four, cached in the study
    result = search_all("grokking weight decay", sources, library=Library.for_study(study))
"""

from __future__ import annotations

import os
from pathlib import Path

from aisci.literature.errors import LiteratureError
from aisci.literature.sources.arxiv import ArXiv
from aisci.literature.sources.base import Source
from aisci.literature.sources.cache import ResponseCache
from aisci.literature.sources.crossref import Crossref
from aisci.literature.sources.http import RetryPolicy
from aisci.literature.sources.openalex import OpenAlex
from aisci.literature.sources.search import SearchResult, search_all
from aisci.literature.sources.semantic_scholar import SemanticScholar

SOURCES: dict[str, type[Source]] = {cls.name: cls for cls in (SemanticScholar, OpenAlex, ArXiv, Crossref)}
CACHE_NAME = "cache.sqlite"

__all__ = [
    "SOURCES",
    "ArXiv",
    "Crossref",
    "OpenAlex",
    "ResponseCache",
    "RetryPolicy",
    "SearchResult",
    "SemanticScholar",
    "Source",
    "make_sources",
    "search_all",
]


def make_sources(literature_dir: Path | str | None, names: list[str] | None = None, *,
                 base_urls: dict[str, str] | None = None, policy: RetryPolicy | None = None,
                 **options) -> list[Source]:
    """Sources by name (default: all), sharing one response cache in `literature_dir`.

    A base URL comes from `base_urls[name]`, else $AISCI_<NAME>_URL (e.g. AISCI_ARXIV_URL,
    AISCI_DOI_URL for Crossref's DOI resolver), else the public service.
    """
    names = list(names or SOURCES)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise LiteratureError(f"unknown literature source(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    cache = ResponseCache(Path(literature_dir) / CACHE_NAME) if literature_dir is not None else None
    base_urls = base_urls or {}
    sources = []
    for name in names:
        cls = SOURCES[name]
        kwargs = dict(options)
        kwargs["base_url"] = base_urls.get(name) or os.environ.get(f"AISCI_{name.upper()}_URL")
        if cls is Crossref:
            kwargs["doi_base_url"] = base_urls.get("doi") or os.environ.get("AISCI_DOI_URL")
        sources.append(cls(cache=cache, policy=policy, **kwargs))
    return sources
