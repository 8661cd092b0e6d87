"""What makes two bibliography records the same work: DOI, arXiv id, normalised title.

All functions take plain text (already LaTeX-decoded where that matters) and return a
canonical form, or None when the input holds no such identifier.
"""

from __future__ import annotations

import re
import unicodedata

_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[^\s\"'<>{}]+")

# New-style ids (0704.0001 onwards, 4+4 or 4+5 digits) and old-style ids (hep-th/9901001).
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_ID = re.compile(rf"^(?:arxiv:\s*)?({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?$", re.IGNORECASE)
_ARXIV_IN_TEXT = re.compile(
    rf"(?:arxiv[:\s./]*(?:abs/|pdf/)?|arxiv\.org/(?:abs|pdf)/|10\.48550/arxiv\.)({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?",
    re.IGNORECASE,
)
_ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.({_ARXIV_NEW}|{_ARXIV_OLD})$", re.IGNORECASE)

_NON_WORD = re.compile(r"[^\w]+")
_MIN_TITLE_WORDS = 3  # "Introduction" or "Editorial" must not merge unrelated records


def normalize_doi(value: str | None) -> str | None:
    """`https://doi.org/10.1162/NECO.1997.9.8.1735.` -> `10.1162/neco.1997.9.8.1735` (DOIs are case-insensitive)."""
    if not value:
        return None
    text = _DOI_PREFIXES.sub("", value.strip()).strip().rstrip(".,;")
    if not _DOI_SHAPE.match(text):
        found = _DOI_IN_TEXT.search(value)
        if not found:
            return None
        text = found.group(0).rstrip(".,;")
    return text.lower()


def normalize_arxiv_id(value: str | None) -> str | None:
    """`arXiv:1706.03762v7` -> `1706.03762`; versions are dropped, they are the same work."""
    if not value:
        return None
    text = value.strip()
    match = _ARXIV_ID.match(text)
    if match:
        return match.group(1).lower() if "/" in match.group(1) else match.group(1)
    found = _ARXIV_IN_TEXT.search(text)
    return found.group(1) if found else None


def arxiv_id_from_doi(doi: str | None) -> str | None:
    """arXiv's own DOIs (10.48550/arXiv.1706.03762) name an arXiv id."""
    if not doi:
        return None
    match = _ARXIV_DOI.match(doi)
    return match.group(1) if match else None


def arxiv_year(arxiv_id: str | None) -> int | None:
    """The year an arXiv id was issued: 1706.03762 -> 2017, hep-th/9901001 -> 1999."""
    if not arxiv_id:
        return None
    digits = arxiv_id.split("/")[-1][:2]
    if not digits.isdigit():
        return None
    yy = int(digits)
    return 1900 + yy if yy >= 91 else 2000 + yy


def fold_accents(text: str) -> str:
    """`Müller` -> `Muller`: accents are not part of a name's identity."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_title(title: str | None) -> str | None:
    """Case-, accent- and punctuation-free title; None for titles too short to identify a work."""
    if not title:
        return None
    words = _NON_WORD.sub(" ", fold_accents(title).casefold()).replace("_", " ").split()
    if len(words) < _MIN_TITLE_WORDS:
        return None
    return " ".join(words)


def normalize_surname(name: str | None) -> str | None:
    """`de la Fuente` / `Schmidhuber,` / `Müller` -> `fuente` / `schmidhuber` / `muller`."""
    if not name:
        return None
    words = _NON_WORD.sub(" ", fold_accents(name).casefold()).split()
    return words[-1] if words else None
