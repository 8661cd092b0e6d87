"""The records the literature library deals in: a reference (one BibTeX entry), a search
hit, and the report an import leaves behind.

A Reference keeps the BibTeX field values exactly as written (LaTeX and all); the
properties derive plain text from them for display, search and duplicate detection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from pydantic import BaseModel, Field

from aisci.literature.identifiers import (
    arxiv_id_from_doi,
    arxiv_year,
    normalize_arxiv_id,
    normalize_doi,
    normalize_surname,
    normalize_title,
)
from aisci.literature.latex import latex_to_text

VENUE_FIELDS = ("journal", "booktitle", "howpublished", "publisher", "school", "institution")
# Fields a reader or a citation style values most: they decide which duplicate is "richer".
_VALUABLE_FIELDS = {"author": 3, "title": 3, "year": 2, "doi": 3, "abstract": 2, "journal": 2,
                    "booktitle": 2, "eprint": 2, "url": 1, "pages": 1, "volume": 1, "keywords": 1}


@dataclass(eq=False)
class Reference:
    """One BibTeX entry. `fields` maps lower-case field names to raw values (outer braces removed)."""

    key: str
    entry_type: str = "misc"
    fields: dict[str, str] = field(default_factory=dict)
    line: int | None = None  # 1-based line of the entry in the file it was read from
    source: str | None = None  # the file, the online source, or "attribution-table"

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.fields.get(name)
        return value if value not in (None, "") else default

    # --- plain-text views --------------------------------------------------------------
    @cached_property
    def title(self) -> str:
        return latex_to_text(self.get("title"))

    @cached_property
    def author_names(self) -> list[str]:
        """Authors as written, one string each ("Hochreiter, Sepp")."""
        raw = self.get("author") or self.get("editor")
        if not raw:
            return []
        return [latex_to_text(name) for name in split_multiple_persons_names(raw)]

    @cached_property
    def authors(self) -> list[str]:
        """Authors for display: "Sepp Hochreiter" (and "others" kept as is)."""
        names = []
        for name in self.author_names:
            if "," in name:
                last, _, first = name.partition(",")
                name = f"{first.strip()} {last.strip()}".strip()
            names.append(name)
        return names

    @cached_property
    def surnames(self) -> list[str]:
        """Normalised surnames in author order (for matching "Hochreiter & Schmidhuber, 1997")."""
        raw = self.get("author") or self.get("editor")
        if not raw:
            return []
        out = []
        for name in split_multiple_persons_names(raw):
            if name.strip().lower() == "others":
                continue
            try:
                parts = parse_single_name_into_parts(name, strict=False)
                last = " ".join(parts.last) or name
            except Exception:  # a malformed name must not sink the entry
                last = name
            surname = normalize_surname(latex_to_text(last))
            if surname:
                out.append(surname)
        return out

    @cached_property
    def year(self) -> int | None:
        raw = latex_to_text(self.get("year") or self.get("date") or "")
        digits = "".join(ch for ch in raw[:4] if ch.isdigit())
        return int(digits) if len(digits) == 4 else None

    @cached_property
    def venue(self) -> str:
        for name in VENUE_FIELDS:
            if self.get(name):
                return latex_to_text(self.get(name))
        if self.arxiv_id:
            return "arXiv"
        return ""

    @cached_property
    def abstract(self) -> str:
        return latex_to_text(self.get("abstract"))

    @cached_property
    def keywords(self) -> str:
        return latex_to_text(self.get("keywords"))

    # --- identifiers ----------------------------------------------------------------------
    @cached_property
    def doi(self) -> str | None:
        return normalize_doi(self.get("doi"))

    @cached_property
    def arxiv_id(self) -> str | None:
        eprint = self.get("eprint")
        prefix = (self.get("archiveprefix") or self.get("eprinttype") or "").lower()
        if eprint and (prefix in ("arxiv", "") and normalize_arxiv_id(eprint)):
            return normalize_arxiv_id(eprint)
        for name in ("arxiv", "arxivid"):
            if self.get(name):
                return normalize_arxiv_id(self.get(name))
        found = arxiv_id_from_doi(self.doi)
        if found:
            return found
        for name in ("journal", "url", "note", "howpublished"):
            value = self.get(name)
            if value and "arxiv" in value.lower():
                found = normalize_arxiv_id(value)
                if found:
                    return found
        return None

    @cached_property
    def norm_title(self) -> str | None:
        return normalize_title(self.title)

    @property
    def years(self) -> set[int]:
        """Years this work may be cited with: its publication year and its arXiv year."""
        return {y for y in (self.year, arxiv_year(self.arxiv_id)) if y}

    def richness(self) -> int:
        return sum(_VALUABLE_FIELDS.get(name, 1) for name, value in self.fields.items() if value)

    def short_citation(self) -> str:
        """"Hochreiter & Schmidhuber (1997)" style, for messages."""
        names = self.surnames_display()
        year = self.year or "n.d."
        if not names:
            return f"{self.title or self.key} ({year})"
        if len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} & {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who} ({year})"

    def surnames_display(self) -> list[str]:
        out = []
        for name in self.author_names:
            if name.strip().lower() == "others":
                continue
            out.append(name.split(",")[0].strip() if "," in name else name.split()[-1])
        return out

    # --- serialisation --------------------------------------------------------------------
    def to_bibtex(self) -> str:
        from aisci.literature.bibtex_writer import format_bibtex  # bibtexparser: loaded when used

        return format_bibtex([self])

    def to_dict(self) -> dict:
        return {"key": self.key, "entry_type": self.entry_type, "fields": dict(self.fields),
                "line": self.line, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict) -> Reference:
        return cls(key=data["key"], entry_type=data.get("entry_type", "misc"), fields=dict(data.get("fields", {})),
                   line=data.get("line"), source=data.get("source"))

    def copy(self, **changes) -> Reference:
        data = self.to_dict()
        data.update(changes)
        return Reference.from_dict(data)

    def __repr__(self) -> str:
        return f"Reference({self.key!r}, {self.short_citation()!r})"


@dataclass
class Hit:
    """One ranked search result, from a local library or an online source."""

    reference: Reference
    score: float
    origin: str  # "study", "user", or the online sources that returned it ("semantic_scholar+arxiv")
    in_library: bool = False  # an online result already held by the study library

    @property
    def key(self) -> str:
        return self.reference.key

    @property
    def title(self) -> str:
        return self.reference.title

    @property
    def authors(self) -> list[str]:
        return self.reference.authors

    @property
    def year(self) -> int | None:
        return self.reference.year

    @property
    def bibtex(self) -> str:
        return self.reference.to_bibtex()

    def to_dict(self) -> dict:
        ref = self.reference
        return {"key": ref.key, "title": ref.title, "authors": ref.authors, "year": ref.year, "venue": ref.venue,
                "doi": ref.doi, "arxiv": ref.arxiv_id, "abstract": ref.abstract, "score": round(self.score, 6),
                "origin": self.origin, "in_library": self.in_library, "bibtex": self.bibtex}


# --- the report of an import -------------------------------------------------------------
class Skipped(BaseModel):
    line: int | None = None
    key: str | None = None
    reason: str

    def describe(self) -> str:
        where = f"line {self.line}" if self.line else "unknown line"
        what = f" ({self.key})" if self.key else ""
        return f"{where}{what}: {self.reason}"


class Merged(BaseModel):
    kept: str  # key that stays in the library
    dropped: str  # key of the duplicate folded into it (still citable through biblatex `ids`)
    reason: str  # "same DOI 10.1162/…", "same arXiv id …", "same title"
    line: int | None = None

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.dropped} merged into {self.kept} ({self.reason})"


class Renamed(BaseModel):
    old: str
    new: str
    line: int | None = None
    reason: str

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.old} stored as {self.new} ({self.reason})"


class ImportReport(BaseModel):
    """What an import did: which entries were kept, skipped (with line and reason), merged or renamed."""

    origin: str
    kept: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    merged: list[Merged] = Field(default_factory=list)
    renamed: list[Renamed] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.kept)} kept", f"{len(self.merged)} merged", f"{len(self.skipped)} skipped"]
        if self.renamed:
            parts.append(f"{len(self.renamed)} renamed")
        return f"{self.origin}: " + ", ".join(parts)

    def lines(self) -> list[str]:
        out = [self.summary()]
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  skipped {s.describe()}" for s in self.skipped]
        out += [f"  merged  {m.describe()}" for m in self.merged]
        out += [f"  renamed {r.describe()}" for r in self.renamed]
        return out

    def extend(self, other: ImportReport) -> None:
        self.kept += other.kept
        self.skipped += other.skipped
        self.merged += other.merged
        self.renamed += other.renamed
        self.warnings += other.warnings


def fields_json(ref: Reference) -> str:
    return json.dumps(ref.fields, ensure_ascii=False, separators=(",", ":"))
