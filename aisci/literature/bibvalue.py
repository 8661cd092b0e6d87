"""Make a BibTeX entry safe to typeset: the last step before references.bib is written.

Entries come from the template, the user's .bib files and online sources. Each field is
normalised (NFC, no control characters), its non-ASCII characters encoded for pdflatex,
and checked against `latex_safety`; a field that still would not typeset is written as
plain text. Whatever was changed that a reader would notice is returned as a note for the
writeup to report.
"""

from __future__ import annotations

import re

from aisci.literature.build import ENCODING_NOTE
from aisci.literature.encoding import clean, encode_non_ascii, encode_text
from aisci.literature.latex_safety import latex_problem
from aisci.literature.markup import plain_text
from aisci.literature.model import Reference

# identifiers: typeset by \url / \doi / \eprint (or not at all), never as text
_VERBATIM_FIELDS = frozenset({"doi", "url", "eprint", "archiveprefix", "primaryclass", "eprinttype", "isbn", "issn",
                              "ids", "file", "pmid", "arxiv", "arxivid"})


def safe_reference(ref: Reference) -> tuple[Reference, list[str]]:
    """A copy of `ref` whose every field typesets, and notes on what could not be kept as it was."""
    notes = [f"{ref.key}: {note}" for note in (ref.get(ENCODING_NOTE) or "").split("; ") if note]
    fields = {}
    for name, value in ref.fields.items():
        if name.startswith("x-") or value in (None, ""):
            continue
        fields[name], note = safe_value(name, str(value))
        if note:
            notes.append(f"{ref.key}: {name}: {note}")
    return ref.copy(fields=fields), notes


def safe_value(name: str, value: str) -> tuple[str, str | None]:
    """(value to write, note) for one field."""
    if name in _VERBATIM_FIELDS:
        text = re.sub(r"[\s{}\\]", "", clean(value))
        return text, None if text == value.strip() else "spaces, braces or backslashes removed"
    encoded = encode_non_ascii(value)
    problem = latex_problem(encoded.latex)
    if problem is None:
        return encoded.latex, _substituted(encoded.substitutes)
    plain = encode_text(plain_text(encoded.latex))
    return plain.latex, f"written as plain text ({problem})" + (
        f"; {_substituted(plain.substitutes)}" if plain.substitutes else "")


def _substituted(substitutes: list[str]) -> str | None:
    if not substitutes:
        return None
    return "no LaTeX for " + ", ".join(dict.fromkeys(substitutes)) + " (written as ASCII)"
