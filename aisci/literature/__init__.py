"""The literature library: BibTeX import/export, a BM25 search index per study, online
sources (Semantic Scholar, OpenAlex, arXiv, Crossref) behind one interface, and the
canonical attribution table that catches mis-attributed citations.

    from aisci.literature import Library, read_bib, check_citation
    from aisci.literature.sources import make_sources, search_all

    lib = Library.for_study("my-study")            # my-study/literature/{library.bib,index.sqlite}
    report = lib.add_bib("zotero-export.bib")      # kept / skipped (line, reason) / merged
    hits = lib.search('grokking "weight decay"', limit=10)
"""

from aisci.literature.attribution import check_citation, check_text, find_mentions, load_table
from aisci.literature.bibfile import format_bibtex, parse_bib, read_bib, write_bib
from aisci.literature.build import reference_from_metadata
from aisci.literature.errors import BibImportError, LibraryError, LiteratureError, SourceError
from aisci.literature.library import Library
from aisci.literature.model import Hit, ImportReport, Reference

__all__ = ["BibImportError", "Hit", "ImportReport", "Library", "LibraryError", "LiteratureError", "Reference",
           "SourceError", "check_citation", "check_text", "find_mentions", "format_bibtex", "load_table",
           "parse_bib", "read_bib", "reference_from_metadata", "write_bib"]
