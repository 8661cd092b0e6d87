"""BibTeX text from references, written by bibtexparser. Kept apart from the reader
(bibfile.py) so that a Reference can write itself without importing the reader, which
imports the Reference model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bibtexparser
from bibtexparser import model as bp
from bibtexparser.middlewares import AddEnclosingMiddleware

if TYPE_CHECKING:
    from aisci.literature.model import Reference

_MONTH_MACROS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}


def format_bibtex(references: list[Reference]) -> str:
    """BibTeX text for the references, written by bibtexparser."""
    library = bibtexparser.Library()
    blocks = []
    for ref in references:
        fields = []
        for name, value in ref.fields.items():
            if value in (None, ""):
                continue
            fld = bp.Field(name, value)
            if name == "month" and value.strip().lower() in _MONTH_MACROS:
                fld.enclosing = "no-enclosing"  # `month = jun` is a BibTeX macro, not the text "jun"
            fields.append(fld)
        blocks.append(bp.Entry(ref.entry_type or "misc", ref.key, fields))
    library.add(blocks, fail_on_duplicate_key=False)
    fmt = bibtexparser.BibtexFormat()
    fmt.indent = "  "
    fmt.block_separator = "\n"
    stack = [AddEnclosingMiddleware(reuse_previous_enclosing=False, enclose_integers=False,
                                    default_enclosing="{", allow_inplace_modification=True)]
    return bibtexparser.write_string(library, unparse_stack=stack, bibtex_format=fmt)
