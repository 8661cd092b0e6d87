"""BibTeX entries built from metadata, for sources that return none (OpenAlex, arXiv, …).

Keys follow the familiar `surname + year + first title word` shape (vaswani2017attention),
so a key alone already says what it cites.
"""

from __future__ import annotations

import re

from aisci.literature.casing import protect_case
from aisci.literature.encoding import Encoded, encode_text
from anyascii import anyascii

from aisci.literature.identifiers import normalize_arxiv_id, normalize_doi
from aisci.literature.markup import Markup, plain_name, to_latex
from aisci.literature.model import Reference

_TITLE_STOPWORDS = frozenset("a an the on of in for and to with from by at is are towards toward via".split())
_KEY_SAFE = re.compile(r"[^a-z0-9]+")
_SUFFIX = re.compile(r"^(?:jr|sr|[IVX]{2,4}|[2-9](?:nd|rd|th))\.?$", re.IGNORECASE)
VENUE_FIELDS = {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle",
                "phdthesis": "school", "mastersthesis": "school", "techreport": "institution", "book": "publisher"}
ENCODING_NOTE = "x-aisci-encoding"  # characters written as ASCII stand-ins, for the writeup to report


def make_citekey(authors: list[str], year: int | None, title: str) -> str:
    surname = ""
    if authors:
        first = authors[0]
        words = first.split()
        if len(words) > 2 and _SUFFIX.match(words[-1]):  # "Donald Hora Jr." -> hora
            words = words[:-1]
        surname = first.split(",")[0] if "," in first else (words or [""])[-1]
    surname = _KEY_SAFE.sub("", anyascii(surname).lower()) or "anon"
    words = [_KEY_SAFE.sub("", w) for w in anyascii(title or "").lower().split()]
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
    markup: Markup = "text",
    howpublished: str | None = None,
) -> Reference:
    """A Reference with a complete BibTeX entry from a source's metadata.

    Title, venue and abstract are in the source's `markup` (see `markup.to_latex`); every
    value is encoded so that pdflatex typesets it, and the title's capitals are protected.
    `authors` are plain names ("Ashish Vaswani", "Vaswani, Ashish", "Donald Hora Jr.";
    "{PDP Research Group}" for an organisation, kept whole). The venue goes in the field
    its entry type prints (journal, booktitle, school, institution, ...); without a venue
    the entry becomes @misc (an arXiv preprint gets eprint/archivePrefix fields).
    """
    doi = normalize_doi(doi)
    arxiv_id = normalize_arxiv_id(arxiv_id)
    if entry_type is None:
        entry_type = "article" if venue else "misc"
    substitutes: list[str] = []

    def encoded(value: str, kind: Markup = "text", what: str = "") -> str:
        result: Encoded = to_latex(str(value), kind) if kind != "text" else encode_text(str(value))
        substitutes.extend(f"{what}: {s}" for s in result.substitutes)
        return result.latex

    fields: dict[str, str] = {"title": protect_case(encoded(title, markup, "title"))}
    names = [_bibtex_name(plain_name(a, markup), encoded) for a in authors if a and a.strip()]
    if names:
        fields["author"] = " and ".join(names)
    if year:
        fields["year"] = str(year)
    if venue:
        fields[VENUE_FIELDS.get(entry_type, "howpublished")] = encoded(venue, markup, "venue")
    if howpublished and "howpublished" not in fields:
        fields["howpublished"] = encoded(howpublished, markup, "howpublished")
    for name, value in (("volume", volume), ("number", number), ("pages", pages)):
        if value:
            fields[name] = encoded(value, "text", name)
    if "pages" in fields:  # BibTeX page ranges use an en dash
        fields["pages"] = re.sub(r"\s*(?:-|\\textendash\{\}|\{\\textendash\})+\s*", "--", fields["pages"])
    if publisher and "publisher" not in fields:
        fields["publisher"] = encoded(publisher, "text", "publisher")
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
        fields["abstract"] = encoded(abstract, markup, "abstract")
    if substitutes:
        fields[ENCODING_NOTE] = "; ".join(substitutes)
    key = key or make_citekey(list(authors), year, title)
    return Reference(key=key, entry_type=entry_type, fields=fields, source=source)


def _bibtex_name(name: str, encoded) -> str:
    """"Ashish Vaswani" -> "Vaswani, Ashish"; "Donald Hora Jr." -> "Hora, Jr., Donald";
    corporate or odd names are braced whole."""
    name = " ".join(name.split())
    if name.lower() == "others":  # BibTeX's own "and others", never braced
        return "others"
    if name.startswith("{") and name.endswith("}"):  # an organisation, protected by the caller
        return "{" + encoded(name[1:-1], "text", "author") + "}"
    if "," in name:
        return ", ".join(encoded(part.strip(), "text", "author") for part in name.split(","))
    parts = name.split(" ")
    suffix = parts.pop() if len(parts) > 2 and _SUFFIX.match(parts[-1]) else None
    if len(parts) == 1:
        return "{" + encoded(name, "text", "author") + "}"
    last, first = encoded(parts[-1], "text", "author"), encoded(" ".join(parts[:-1]), "text", "author")
    return f"{last}, {encoded(suffix, 'text', 'author')}, {first}" if suffix else f"{last}, {first}"
