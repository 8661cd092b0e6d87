"""Duplicate detection: the same work under two keys, found by DOI, arXiv id or title.

A title match alone is weaker evidence than an identifier, so it also requires the
first authors to agree (when both are known) and no conflicting DOI or arXiv id.
Merging keeps the richer record, fills its gaps from the other, and lists the dropped
key in biblatex's `ids` field so `\\cite{dropped}` still resolves.
"""

from __future__ import annotations

from aisci.literature.model import Reference


def same_work_reason(a: Reference, b: Reference) -> str | None:
    """Why a and b are the same work ("same DOI …"), or None if they are not."""
    if a.doi and b.doi and a.doi == b.doi:
        return f"same DOI {a.doi}"
    if a.arxiv_id and b.arxiv_id and a.arxiv_id == b.arxiv_id:
        return f"same arXiv id {a.arxiv_id}"
    if a.norm_title and a.norm_title == b.norm_title and not _conflicting_ids(a, b):
        if a.surnames and b.surnames and a.surnames[0] != b.surnames[0]:
            return None
        return "same title"
    return None


def _conflicting_ids(a: Reference, b: Reference) -> bool:
    a_doi, b_doi = _journal_doi(a), _journal_doi(b)
    if a_doi and b_doi and a_doi != b_doi:
        return True
    return bool(a.arxiv_id and b.arxiv_id and a.arxiv_id != b.arxiv_id)


def _journal_doi(ref: Reference) -> str | None:
    """The DOI unless it is arXiv's own: a preprint's arXiv DOI and the journal DOI of the
    same paper differ legitimately."""
    return ref.doi if ref.doi and not ref.doi.startswith("10.48550/") else None


def merge_references(base: Reference, other: Reference, *, keep_key: str | None = None) -> Reference:
    """`base` with the fields it lacks taken from `other`; `other`'s key becomes an alias."""
    fields = dict(base.fields)
    for name, value in other.fields.items():
        if value and not fields.get(name):
            fields[name] = value
    key = keep_key or base.key
    aliases = _split_ids(base.fields.get("ids")) + _split_ids(other.fields.get("ids"))
    aliases += [k for k in (base.key, other.key) if k != key]
    aliases = [a for a in dict.fromkeys(aliases) if a and a != key]
    if aliases:
        fields["ids"] = ", ".join(aliases)
    return Reference(key=key, entry_type=base.entry_type, fields=fields, line=base.line, source=base.source)


def _split_ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class DuplicateFinder:
    """Index of references by DOI, arXiv id and normalised title, for O(1) duplicate look-up."""

    def __init__(self, references: list[Reference] = ()):
        self._by_doi: dict[str, Reference] = {}
        self._by_arxiv: dict[str, Reference] = {}
        self._by_title: dict[str, list[Reference]] = {}
        for ref in references:
            self.add(ref)

    def add(self, ref: Reference) -> None:
        if ref.doi:
            self._by_doi.setdefault(ref.doi, ref)
        if ref.arxiv_id:
            self._by_arxiv.setdefault(ref.arxiv_id, ref)
        if ref.norm_title:
            self._by_title.setdefault(ref.norm_title, []).append(ref)

    def remove(self, ref: Reference) -> None:
        if ref.doi and self._by_doi.get(ref.doi) is ref:
            del self._by_doi[ref.doi]
        if ref.arxiv_id and self._by_arxiv.get(ref.arxiv_id) is ref:
            del self._by_arxiv[ref.arxiv_id]
        if ref.norm_title and ref.norm_title in self._by_title:
            self._by_title[ref.norm_title] = [r for r in self._by_title[ref.norm_title] if r is not ref]

    def find(self, ref: Reference) -> tuple[Reference, str] | None:
        """An indexed reference that is the same work as `ref`, with the reason."""
        candidates = []
        if ref.doi and ref.doi in self._by_doi:
            candidates.append(self._by_doi[ref.doi])
        if ref.arxiv_id and ref.arxiv_id in self._by_arxiv:
            candidates.append(self._by_arxiv[ref.arxiv_id])
        if ref.norm_title:
            candidates += self._by_title.get(ref.norm_title, [])
        for candidate in candidates:
            if candidate is ref:
                continue
            reason = same_work_reason(candidate, ref)
            if reason:
                return candidate, reason
        return None
