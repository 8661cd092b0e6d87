"""Canonical attribution: which paper introduced a well-known method, and a check that a
sentence naming the method cites it (and not, say, a 2016 textbook for LSTMs).

The table ships as `aisci/data/attribution.json`: methods with the surface forms that name
them in text (aliases), phrases that look like them but are something else (`not_when`:
"Monte Carlo dropout" is not dropout), and their references — the first one is the one
to suggest, the others are also accepted.

A citation is tied to the method mention nearest to it (at most a couple of words apart,
or further when an attribution verb such as "introduced by" sits in between). A mention
whose tied citations all point to other works is flagged, with the canonical reference
suggested. A citation that cannot be resolved (an unknown \\cite key with no author-year
shape) is never counted against the sentence: the check flags only what it can show.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol
from collections.abc import Iterable, Mapping

from aisci.literature.bibfile import parse_bib
from aisci.literature.identifiers import (
    arxiv_year,
    fold_accents,
    normalize_arxiv_id,
    normalize_doi,
    normalize_surname,
    normalize_title,
)
from aisci.literature.model import Reference

MAX_GAP_WORDS = 2  # "LSTM networks (X, 2016)": a citation this close belongs to the mention
MAX_GAP_CHARS = 90  # ... or further, when an attribution cue sits between them
_ATTRIBUTION_CUES = re.compile(r"\b(introduc\w*|propos\w*|invent\w*|describ\w*|develop\w*|original\w*|first|"
                               r"due to|credit\w*|pioneer\w*|by)\b", re.IGNORECASE)


# --- the table ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CanonicalReference:
    key: str
    authors: list[str]
    year: int
    title: str
    venue: str | None
    doi: str | None
    arxiv: str | None
    url: str | None
    bibtex: str
    also_cited_as_years: tuple[int, ...] = ()

    @cached_property
    def reference(self) -> Reference:
        parsed = parse_bib(self.bibtex, origin=f"attribution:{self.key}", source="attribution-table")
        return parsed.references[0]

    @cached_property
    def surnames(self) -> list[str]:
        return [s for s in (normalize_surname(a) for a in self.authors if a != "others") if s]

    @cached_property
    def years(self) -> set[int]:
        years = {self.year, *self.also_cited_as_years}
        if arxiv_year(self.arxiv):
            years.add(arxiv_year(self.arxiv))
        return years

    @cached_property
    def norm_title(self) -> str | None:
        return normalize_title(self.title)

    def short(self) -> str:
        names = [a.split()[-1] for a in self.authors if a != "others"]
        who = names[0] if len(names) == 1 else f"{names[0]} & {names[1]}" if len(names) == 2 else f"{names[0]} et al."
        return f"{who} ({self.year})"

    def describe(self) -> str:
        ident = f"doi:{self.doi}" if self.doi else f"arXiv:{self.arxiv}" if self.arxiv else (self.url or "")
        venue = f", {self.venue}" if self.venue else ""
        return f"{self.short()}, \"{self.title}\"{venue}" + (f", {ident}" if ident else "")


@dataclass(frozen=True)
class Method:
    id: str
    name: str
    aliases: tuple[str, ...]
    not_when: tuple[str, ...]
    references: tuple[CanonicalReference, ...]
    note: str | None = None

    @property
    def canonical(self) -> CanonicalReference:
        return self.references[0]


@dataclass(frozen=True)
class Mention:
    method: Method
    text: str
    start: int
    end: int


@dataclass
class Citation:
    """One work cited in a sentence, as far as it could be identified."""

    text: str
    start: int
    end: int
    group: int  # citations inside one \cite{…} or one "(…; …)" share a group
    key: str | None = None
    reference: Reference | None = None
    surnames: list[str] = field(default_factory=list)
    year: int | None = None
    name_span: tuple[int, int] | None = None  # where the author name sits, for author-year forms

    def display(self) -> str:
        if self.reference is not None:
            return self.reference.short_citation()
        return self.text


@dataclass
class CitationIssue:
    method: Method
    mention: Mention
    cited: list[Citation]
    sentence: str

    @property
    def suggestion(self) -> CanonicalReference:
        return self.method.canonical

    @property
    def message(self) -> str:
        cited = "; ".join(c.display() for c in self.cited)
        return (f"'{self.mention.text}' is credited to {cited}, but {self.method.name} was introduced by "
                f"{self.suggestion.describe()}; cite that (too)")

    def to_dict(self) -> dict:
        return {"method": self.method.id, "mention": self.mention.text, "cited": [c.display() for c in self.cited],
                "suggested_key": self.suggestion.key, "suggested_bibtex": self.suggestion.bibtex,
                "message": self.message, "sentence": self.sentence}


class AttributionTable:
    def __init__(self, methods: list[Method]):
        self.methods = methods
        self._by_id = {m.id: m for m in methods}
        self._patterns = [(m, alias, _alias_pattern(alias)) for m in methods for alias in m.aliases]
        self._exclusions = {m.id: [_alias_pattern(p) for p in m.not_when] for m in methods}

    @classmethod
    def from_json(cls, data: dict) -> AttributionTable:
        refs = {key: CanonicalReference(key=r["key"], authors=list(r["authors"]), year=int(r["year"]), title=r["title"],
                                        venue=r.get("venue"), doi=normalize_doi(r.get("doi")),
                                        arxiv=normalize_arxiv_id(r.get("arxiv")), url=r.get("url"),
                                        bibtex=r["bibtex"], also_cited_as_years=tuple(r.get("also_cited_as_years", ())))
                for key, r in data["references"].items()}
        methods = [Method(id=m["id"], name=m["name"], aliases=tuple(m["aliases"]),
                          not_when=tuple(m.get("not_when", ())), references=tuple(refs[k] for k in m["references"]),
                          note=m.get("note"))
                   for m in data["methods"]]
        return cls(methods)

    def method(self, method_id: str) -> Method:
        return self._by_id[method_id]

    def __len__(self) -> int:
        return len(self.methods)

    # --- finding method names in text -----------------------------------------------------------
    def find_mentions(self, text: str) -> list[Mention]:
        """Method names in `text`, longest match first, minus look-alikes listed in `not_when`."""
        found = []
        for method, alias, pattern in self._patterns:
            for match in pattern.finditer(text):
                if _looks_like_a_person(alias, text, match.end()):
                    continue
                found.append(Mention(method, match.group(0), match.start(), match.end()))
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        mentions, taken_until = [], -1
        for mention in found:
            if mention.start < taken_until:
                continue  # inside a longer mention ("Vision Transformer" is not "Transformer")
            if self._excluded(mention, text):
                continue
            mentions.append(mention)
            taken_until = mention.end
        return mentions

    def _excluded(self, mention: Mention, text: str) -> bool:
        for pattern in self._exclusions[mention.method.id]:
            window_start = max(0, mention.start - 60)
            for match in pattern.finditer(text, window_start, min(len(text), mention.end + 60)):
                if match.start() <= mention.start and mention.end <= match.end():
                    return True
        return False

    # --- checking citations -------------------------------------------------------------------
    def check_citation(self, sentence: str, cited_entries: Iterable[Reference | Mapping] | None = None, *,
                       bib: KeyResolver | Mapping[str, Reference] | None = None) -> list[CitationIssue]:
        """Issues for `sentence`: a method named in it whose tied citations all point elsewhere.

        Citations are read from the sentence (\\cite{…} keys resolved through `cited_entries`
        and `bib`; "(Author et al., 2016)" and "Author et al. (2016)" forms). When the sentence
        shows no citation but `cited_entries` are given, they count as its citations.
        """
        sentence = _as_plain_text(sentence)
        mentions = self.find_mentions(sentence)
        if not mentions:
            return []
        entries = [_as_reference(e) for e in (cited_entries or [])]
        citations = [c for c in find_citations(sentence, _resolver(entries, bib))
                     if not _names_a_method(c, mentions)]  # "BERT (2019)" is not an author BERT
        if not citations and entries:
            citations = [Citation(text=e.short_citation(), start=len(sentence), end=len(sentence), group=0, key=e.key,
                                  reference=e) for e in entries]
            tied = {id(m): citations for m in mentions}
        else:
            tied = _tie_citations(sentence, mentions, citations)
        issues = []
        for mention in mentions:
            cited = tied.get(id(mention), [])
            if not cited or _inside_a_cited_title(sentence, mention, citations or cited):
                continue  # "Progress Measures for Grokking~\cite{nanda}" names that paper, not grokking's origin
            verdicts = [_cites_method(c, mention.method) for c in cited]
            if any(v is True for v in verdicts) or any(v is None for v in verdicts):
                continue  # the right paper is cited, or a citation could not be identified
            issues.append(CitationIssue(mention.method, mention, cited, sentence))
        return issues

    def check_text(self, text: str, *, bib: KeyResolver | Mapping[str, Reference] | None = None
                   ) -> list[CitationIssue]:
        """`check_citation` over every sentence of a paragraph, section or whole paper."""
        issues = []
        for sentence in split_sentences(text):
            issues += self.check_citation(sentence, bib=bib)
        return issues


class KeyResolver(Protocol):
    def get(self, key: str) -> Reference | None: ...


@lru_cache(maxsize=4)
def _load(path: str | None) -> AttributionTable:
    if path is None:
        text = resources.files("aisci").joinpath("data/attribution.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return AttributionTable.from_json(json.loads(text))


def load_table(path: Path | str | None = None) -> AttributionTable:
    """The shipped attribution table (or one at `path`)."""
    return _load(str(path) if path is not None else None)


def find_mentions(text: str) -> list[Mention]:
    return load_table().find_mentions(text)


def check_citation(sentence: str, cited_entries: Iterable[Reference | Mapping] | None = None, *,
                   bib: KeyResolver | Mapping[str, Reference] | None = None) -> list[CitationIssue]:
    return load_table().check_citation(sentence, cited_entries, bib=bib)


def check_text(text: str, *, bib: KeyResolver | Mapping[str, Reference] | None = None) -> list[CitationIssue]:
    return load_table().check_text(text, bib=bib)


# --- patterns ---------------------------------------------------------------------------------
def _alias_pattern(alias: str) -> re.Pattern:
    """Words may be joined by spaces, hyphens or `~`, a plural -s/-es may follow; a one-word
    alias with capitals ("GAN", "Adam") matches case-sensitively, any other in any case.
    A hyphen before the alias makes it part of another name ("VQ-VAE", "Sentence-BERT")."""
    words = re.split(r"[\s\-]+", alias.strip())
    body = r"[\s\-~]+".join(re.escape(w) for w in words)
    flags = 0 if len(words) == 1 and any(ch.isupper() for ch in alias) else re.IGNORECASE
    return re.compile(rf"(?<![\w\-]){body}(?:e?s)?(?![\w])", flags)


def _looks_like_a_person(alias: str, text: str, end: int) -> bool:
    """"Adam Paszke" is a person, not the optimizer: a capitalised single-word alias
    followed by another capitalised word is skipped."""
    if " " in alias or not alias[:1].isupper() or not alias[1:].islower():
        return False
    return re.match(r"\s+[A-Z][a-z]", text[end:end + 4]) is not None


# --- reading citations --------------------------------------------------------------------------
_CITE_COMMAND = re.compile(r"\\[a-zA-Z]*cite[a-zA-Z]*\*?(?:\s*\[[^\]]*\]){0,2}\s*\{([^}]*)\}")
_UPPER = "A-ZÀ-ÖØ-ÞĀ-Ž"
_NAME = rf"(?:(?:van|von|de|der|den|la|le|di|da|du|del)\s+)*[{_UPPER}][\w'’\-]+"
_YEAR = r"(?:1[89]|20)\d{2}"
_AUTHOR_YEAR = re.compile(
    rf"(?P<a1>{_NAME})(?:\s*,?\s*(?:and|&)\s+(?P<a2>{_NAME}))?(?P<etal>\s+et\s*al\.?)?,?\s+(?P<year>{_YEAR})[a-z]?\b")
_NARRATIVE = re.compile(
    rf"(?P<a1>{_NAME})(?:\s+(?:and|&)\s+(?P<a2>{_NAME}))?(?P<etal>\s+et\s*al\.?)?\s*[(\[](?P<year>{_YEAR})[a-z]?[)\]]")
_PARENTHETICAL = re.compile(rf"\(([^()]*?\b{_YEAR}[a-z]?\b[^()]*)\)")
# Keys in the common `surname + year` shape (goodfellow2016deep, Hochreiter_1997, smith:etal:2020);
# all-caps prefixes are venues or acronyms (ICML2020), not surnames.
_KEY_SHAPE = re.compile(rf"^([A-Z]?[a-z]+)[A-Za-z_:]*?({_YEAR})")


def find_citations(sentence: str, resolve: KeyResolver | None = None) -> list[Citation]:
    """The citations in a sentence: LaTeX \\cite commands and author-year text forms."""
    citations: list[Citation] = []
    group = 0
    covered: list[tuple[int, int]] = []
    for match in _CITE_COMMAND.finditer(sentence):
        group += 1
        covered.append(match.span())
        for key in (k.strip() for k in match.group(1).split(",")):
            if not key:
                continue
            ref = resolve.get(key) if resolve is not None else None
            cit = Citation(text=key, start=match.start(), end=match.end(), group=group, key=key, reference=ref)
            if ref is None:
                shape = _KEY_SHAPE.match(key)
                if shape:
                    cit.surnames, cit.year = [normalize_surname(shape.group(1))], int(shape.group(2))
            citations.append(cit)
    for match in _PARENTHETICAL.finditer(sentence):
        if _inside(match.span(), covered):
            continue
        parts = []
        offset = match.start(1)
        for part in match.group(1).split(";"):
            found = _AUTHOR_YEAR.search(part)
            if found:
                parts.append((found, offset))
            offset += len(part) + 1
        if not parts:
            continue
        group += 1
        covered.append(match.span())
        for found, base in parts:
            citations.append(_author_year(found, match.start(), match.end(), group, base))
    for match in _NARRATIVE.finditer(sentence):
        if _inside(match.span(), covered) or _overlaps(match.span(), covered):
            continue
        group += 1
        covered.append(match.span())
        citations.append(_author_year(match, match.start(), match.end(), group, 0))
    citations.sort(key=lambda c: c.start)
    return citations


def _author_year(match: re.Match, start: int, end: int, group: int, base: int) -> Citation:
    surnames = [normalize_surname(match.group("a1"))]
    if match.group("a2"):
        surnames.append(normalize_surname(match.group("a2")))
    return Citation(text=match.group(0).strip(), start=start, end=end, group=group,
                    surnames=[s for s in surnames if s], year=int(match.group("year")),
                    name_span=(base + match.start("a1"), base + match.end("a1")))


def _names_a_method(cit: Citation, mentions: list[Mention]) -> bool:
    if cit.name_span is None:
        return False
    start, end = cit.name_span
    return any(start < m.end and m.start < end for m in mentions)


def _inside(span: tuple[int, int], covered: list[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in covered)


def _overlaps(span: tuple[int, int], covered: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in covered)


def _tie_citations(sentence: str, mentions: list[Mention], citations: list[Citation]) -> dict[int, list[Citation]]:
    """Each citation group goes to the nearest mention, if close enough (see module doc)."""
    groups: dict[int, list[Citation]] = {}
    for cit in citations:
        groups.setdefault(cit.group, []).append(cit)
    tied: dict[int, list[Citation]] = {}
    for members in groups.values():
        start, end = min(c.start for c in members), max(c.end for c in members)
        best, best_distance = None, None
        for mention in mentions:
            if mention.end <= start:
                gap = sentence[mention.end:start]
                distance = len(gap)
            elif end <= mention.start:
                gap = sentence[end:mention.start]
                distance = len(gap) + 0.5  # on a tie, the citation after the mention wins
            else:
                continue
            if not _close_enough(gap):
                continue
            if best_distance is None or distance < best_distance:
                best, best_distance = mention, distance
        if best is not None:
            tied.setdefault(id(best), []).extend(members)
    return tied


def _close_enough(gap: str) -> bool:
    words = re.findall(r"[A-Za-z]\w*", re.sub(r"\\[a-zA-Z]+", " ", gap))
    if len(words) <= MAX_GAP_WORDS:
        return True
    return len(gap) <= MAX_GAP_CHARS and _ATTRIBUTION_CUES.search(gap) is not None


def _cites_method(cit: Citation, method: Method) -> bool | None:
    """True: the citation is one of the method's references; False: it is another work;
    None: it could not be identified."""
    ref = cit.reference
    if ref is not None:
        for canon in method.references:
            if ref.doi and canon.doi and ref.doi == canon.doi:
                return True
            if ref.arxiv_id and canon.arxiv and ref.arxiv_id == canon.arxiv:
                return True
            if ref.norm_title and canon.norm_title and ref.norm_title == canon.norm_title:
                return True
            if ref.surnames and ref.year and _same_authors_and_year(ref.surnames, ref.year, canon):
                return True
        return False if (ref.title or ref.surnames) else None
    if cit.surnames and cit.year:
        return any(_same_authors_and_year(cit.surnames, cit.year, canon) for canon in method.references)
    return None


_HREF_TARGET = re.compile(r"\\href\s*\{[^{}]*\}\s*\{")


def _as_plain_text(sentence: str) -> str:
    """LaTeX markup that hides an author-year citation, blanked to spaces (positions are kept):
    "\\href{URL}{Loshchilov \\& Hutter, 2019}" reads as "Loshchilov  & Hutter, 2019"."""
    sentence = _HREF_TARGET.sub(lambda m: " " * len(m.group(0)), sentence)
    return sentence.replace("\\&", " &")


def _inside_a_cited_title(sentence: str, mention: Mention, citations: list[Citation]) -> bool:
    """Whether the mention is part of the title of a work the sentence cites, written out."""
    for cit in citations:
        title = cit.reference.title if cit.reference is not None else None
        if not title:
            continue
        words = re.sub(r"[{}]", "", title).split()
        if not words:
            continue
        pattern = re.compile(r"[\s~]+".join(re.escape(w) for w in words), re.IGNORECASE)
        if any(m.start() <= mention.start and mention.end <= m.end() for m in pattern.finditer(sentence)):
            return True
    return False


def _same_authors_and_year(surnames: list[str], year: int, canon: CanonicalReference) -> bool:
    if not canon.surnames or year not in canon.years:
        return False
    if fold_accents(surnames[0]) != canon.surnames[0]:
        return False
    return len(surnames) < 2 or len(canon.surnames) < 2 or surnames[1] == canon.surnames[1]


def _resolver(entries: list[Reference], bib) -> KeyResolver | None:
    by_key = {e.key: e for e in entries}
    if bib is None and not by_key:
        return None

    class _Resolver:
        def get(self, key: str) -> Reference | None:
            if key in by_key:
                return by_key[key]
            return bib.get(key) if bib is not None else None

    return _Resolver()


def _as_reference(entry: Reference | Mapping) -> Reference:
    if isinstance(entry, Reference):
        return entry
    if "bibtex" in entry:
        parsed = parse_bib(entry["bibtex"], origin="cited entry")
        if parsed.references:
            return parsed.references[0]
    from aisci.literature.build import reference_from_metadata

    return reference_from_metadata(title=entry.get("title", ""), authors=list(entry.get("authors", [])),
                                   year=entry.get("year"), doi=entry.get("doi"), arxiv_id=entry.get("arxiv"),
                                   key=entry.get("key"))


# --- sentences ------------------------------------------------------------------------------------
_ABBREVIATIONS = re.compile(r"\b(et al|e\.g|i\.e|cf|Fig|Figs|Eq|Eqs|Sec|vs|resp|approx|No)\.", re.IGNORECASE)
# a sentence ends at . ! ? before a capital, at a blank line, or where a list item begins
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\(\[])|\n\s*\n|\s*\\item\b")


def split_sentences(text: str) -> list[str]:
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0)[:-1] + "\x00", text)
    return [s.replace("\x00", ".").strip() for s in _SENTENCE_END.split(protected) if s.strip()]
