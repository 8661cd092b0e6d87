"""The literature library: BibTeX import/export, a BM25 search index per study, online
sources (Semantic Scholar, OpenAlex, arXiv, Crossref) behind one interface, and the
canonical attribution table that catches mis-attributed citations.

    from aisci.literature import Library, read_bib, check_citation
    from aisci.literature.sources import make_sources, search_all

    lib = Library.for_study("my-study")            # my-study/literature/{library.bib,index.sqlite}
    report = lib.add_bib("zotero-export.bib")      # kept / skipped (line, reason) / merged
    hits = lib.search('grokking "weight decay"', limit=10)
"""

from __future__ import annotations

import importlib

# each public name and the submodule that defines it: loaded on first use, so importing
# `aisci.literature.errors` (the CLI does) does not load bibtexparser and the index
_EXPORTS = {
    "attribution": ("check_citation", "check_text", "find_mentions", "load_table"),
    "bibfile": ("format_bibtex", "parse_bib", "read_bib", "write_bib"),
    "build": ("reference_from_metadata",),
    "errors": ("BibImportError", "LibraryError", "LiteratureError", "SourceError"),
    "library": ("Library",),
    "model": ("Hit", "ImportReport", "Reference"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
