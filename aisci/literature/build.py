"""BibTeX entries built from metadata, for sources that return none (OpenAlex, arXiv, …).

Keys follow the familiar `surname + year + first title word` shape (vaswani2017attention),
so a key alone already says what it cites.
"""

from __future__ import annotations

import re

from aisci.literature.identifiers import fold_accents, normalize_arxiv_id, normalize_doi
from aisci.literature.latex import text_to_bibtex_value
from aisci.literature.model import Reference

_TITLE_STOPWORDS = frozenset("a an the on of in for and to with from by at is are towards toward via".split())
_KEY_SAFE = re.compile(r"[^a-z0-9]+")


def make_citekey(authors: list[str], year: int | None, title: str) -> str:
    surname = ""
    if authors:
        first = authors[0]
        surname = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
    surname = _KEY_SAFE.sub("", fold_accents(surname).lower()) or "anon"
    words = [_KEY_SAFE.sub("", w) for w in fold_accents(title or "").lower().split()]
    word = next((w for w in words if w and w not in _TITLE_STOPWORDS), "") or "untitled"
    return f"{surname}{year or ''}{word}"


def reference_from_metadata(
    *,
    title: str,
    authors: list[str] = (),
    year: int | None = None,
    venue: str | None = None,
    entry_type: str | None = None,
    doi: str | None = None,
    arxiv_id: str | None = None,
    abstract: str | None = None,
    url: str | None = None,
    volume: str | None = None,
    number: str | None = None,
    pages: str | None = None,
    publisher: str | None = None,
    primary_class: str | None = None,
    source: str | None = None,
    key: str | None = None,
) -> Reference:
    """A Reference with a complete BibTeX entry from plain-text metadata.

    `authors` are plain names ("Ashish Vaswani" or "Vaswani, Ashish"; "{PDP Research Group}"
    for an organisation, kept whole). Without a venue
    the entry becomes @misc (an arXiv preprint gets eprint/archivePrefix fields).
    """
    doi = normalize_doi(doi)
    arxiv_id = normalize_arxiv_id(arxiv_id)
    if entry_type is None:
        entry_type = "article" if venue else "misc"
    fields: dict[str, str] = {"title": text_to_bibtex_value(title)}
    names = [_bibtex_name(a) for a in authors if a and a.strip()]
    if names:
        fields["author"] = " and ".join(names)
    if year:
        fields["year"] = str(year)
    if venue:
        venue_field = {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle",
                       "phdthesis": "school", "mastersthesis": "school", "techreport": "institution",
                       "book": "publisher"}.get(entry_type, "howpublished")
        fields[venue_field] = text_to_bibtex_value(venue)
    for name, value in (("volume", volume), ("number", number), ("pages", pages)):
        if value:
            fields[name] = text_to_bibtex_value(str(value))
    if "pages" in fields:  # BibTeX page ranges use an en dash
        fields["pages"] = re.sub(r"\s*[-\u2013]+\s*", "--", fields["pages"])
    if publisher and "publisher" not in fields:
        fields["publisher"] = text_to_bibtex_value(publisher)
    if doi:
        fields["doi"] = doi
    if arxiv_id:
        fields["eprint"] = arxiv_id
        fields["archiveprefix"] = "arXiv"
        if primary_class:
            fields["primaryclass"] = primary_class
    if url:
        fields["url"] = url.replace("{", "%7B").replace("}", "%7D")
    if abstract:
        fields["abstract"] = text_to_bibtex_value(abstract)
    key = key or make_citekey(list(authors), year, title)
    return Reference(key=key, entry_type=entry_type, fields=fields, source=source)


def _bibtex_name(name: str) -> str:
    """"Ashish Vaswani" -> "Vaswani, Ashish"; corporate or odd names are braced whole."""
    name = " ".join(name.split())
    if name.lower() == "others":  # BibTeX's own "and others", never braced
        return "others"
    if name.startswith("{") and name.endswith("}"):  # an organisation, protected by the caller
        return "{" + text_to_bibtex_value(name[1:-1]) + "}"
    if "," in name:
        return text_to_bibtex_value(name)
    parts = name.split(" ")
    if len(parts) == 1:
        return "{" + text_to_bibtex_value(name) + "}"
    return text_to_bibtex_value(f"{parts[-1]}, {' '.join(parts[:-1])}")
