"""Reading and writing .bib files with bibtexparser v2, tolerant of real-world exports.

Bad entries are reported with their line number and a reason, and skipped; good entries
are kept; duplicates inside the file are merged (see `dedupe`). Bytes that are not UTF-8
are read as Windows-1252/Latin-1 line by line, so one stray entry does not garble the
rest of the file.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bibtexparser
from bibtexparser import model as bp
from bibtexparser.middlewares import RemoveEnclosingMiddleware

from aisci.fsutil import atomic_write_text
from aisci.literature.dedupe import DuplicateFinder, merge_references, same_work_reason
from aisci.literature.errors import BibImportError
from aisci.literature.bibtex_writer import format_bibtex
from aisci.literature.model import ImportReport, Merged, Reference, Skipped

_VALID_KEY = re.compile(r"^[^\s,{}()\"=#%'~\\]+$")


@dataclass
class ParsedBib:
    references: list[Reference]
    report: ImportReport


# --- decoding ---------------------------------------------------------------------------------
def decode_bib_bytes(data: bytes) -> tuple[str, list[str]]:
    """Text of a .bib file and warnings about its encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), ["file is UTF-16; read as such"]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    lines, fallback_lines = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(_decode_legacy(raw))
            fallback_lines.append(number)
    shown = ", ".join(str(n) for n in fallback_lines[:10]) + (" …" if len(fallback_lines) > 10 else "")
    warning = f"not valid UTF-8 on line(s) {shown}; read those as Windows-1252/Latin-1"
    return "\n".join(lines), [warning]


def _decode_legacy(raw: bytes) -> str:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return raw.decode("latin-1")


# --- parsing ----------------------------------------------------------------------------------
def read_bib(path: Path, *, dedupe: bool = True) -> ParsedBib:
    path = Path(path)
    if not path.is_file():
        raise BibImportError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BibImportError(f"{path}: cannot read ({exc.strerror})") from exc
    text, warnings = decode_bib_bytes(data)
    parsed = parse_bib(text, origin=str(path), dedupe=dedupe, source=path.name)
    parsed.report.warnings[:0] = warnings
    return parsed


def parse_bib(text: str, *, origin: str = "<string>", dedupe: bool = True, source: str | None = None) -> ParsedBib:
    """Parse BibTeX text into references plus a report of what was skipped and merged."""
    report = ImportReport(origin=origin)
    with _quiet_bibtexparser():
        library = bibtexparser.parse_string(text)
    references: list[Reference] = []
    by_key: dict[str, Reference] = {}
    for block in library.blocks:
        line = block.start_line + 1 if block.start_line is not None else None
        if isinstance(block, bp.Entry):
            ref = _entry_to_reference(block, line, source or origin, report)
            if ref is not None:
                references.append(ref)
                by_key[ref.key] = ref
        elif isinstance(block, bp.DuplicateBlockKeyBlock):
            _handle_duplicate_key(block, line, references, by_key, source or origin, report)
        elif isinstance(block, bp.DuplicateFieldKeyBlock):
            entry = _remove_enclosing(block.ignore_error_block)
            entry.fields = _first_occurrences(entry.fields)
            report.warnings.append(f"line {line}: field(s) {', '.join(sorted(block.duplicate_keys))} "
                                   f"given twice in {entry.key}; kept the first value")
            ref = _entry_to_reference(entry, line, source or origin, report)
            if ref is not None:
                references.append(ref)
                by_key[ref.key] = ref
        elif isinstance(block, bp.ParsingFailedBlock):
            report.skipped.append(Skipped(line=line, key=_guess_key(block.raw), reason=_failure_reason(block, line)))
        # @string, @preamble and comments carry no reference of their own
    if dedupe:
        references = _merge_duplicates(references, report)
    report.kept = [ref.key for ref in references]
    return ParsedBib(references=references, report=report)


def _entry_to_reference(entry: bp.Entry, line: int | None, source: str, report: ImportReport) -> Reference | None:
    key = (entry.key or "").strip()
    if not key:
        report.skipped.append(Skipped(line=line, reason="entry has no citation key"))
        return None
    if not _VALID_KEY.match(key):
        report.skipped.append(Skipped(line=line, key=key,
                                      reason=f"citation key {key!r} contains a forbidden character"))
        return None
    fields: dict[str, str] = {}
    for fld in entry.fields:
        name = fld.key.strip().lower()
        value = fld.value if isinstance(fld.value, str) else str(fld.value)
        if name and name not in fields:
            fields[name] = value.strip()
    if not fields.get("title"):
        report.skipped.append(Skipped(line=line, key=key, reason="entry has no title"))
        return None
    return Reference(key=key, entry_type=entry.entry_type.lower(), fields=fields, line=line, source=source)


def _handle_duplicate_key(block: bp.DuplicateBlockKeyBlock, line: int | None, references: list[Reference],
                          by_key: dict[str, Reference], source: str, report: ImportReport) -> None:
    scratch = ImportReport(origin=report.origin)
    duplicate = _entry_to_reference(_remove_enclosing(block.ignore_error_block), line, source, scratch)
    previous = by_key.get(block.key)
    if duplicate is None or previous is None:
        report.skipped += scratch.skipped
        return
    reason = same_work_reason(previous, duplicate)
    if reason:  # the same work twice under one key: fold the second copy into the first
        merged = merge_references(previous, duplicate, keep_key=previous.key)
        references[next(i for i, r in enumerate(references) if r is previous)] = merged
        by_key[previous.key] = merged
        report.merged.append(Merged(kept=previous.key, dropped=f"{block.key} (second copy)", reason=reason, line=line))
        return
    first = f" (first on line {previous.line})" if previous.line else ""
    report.skipped.append(Skipped(line=line, key=block.key,
                                  reason=f"duplicate key {block.key!r}{first} for a different work; "
                                         "BibTeX would ignore this one too"))


def _merge_duplicates(references: list[Reference], report: ImportReport) -> list[Reference]:
    """Fold duplicates (same DOI, arXiv id or title) into the richer record."""
    kept: list[Reference | None] = []
    position: dict[int, int] = {}
    finder = DuplicateFinder()
    for ref in references:
        found = finder.find(ref)
        if found is None:
            position[id(ref)] = len(kept)
            kept.append(ref)
            finder.add(ref)
            continue
        existing, reason = found
        richer, poorer = (ref, existing) if ref.richness() > existing.richness() else (existing, ref)
        merged = merge_references(richer, poorer)
        index = position.pop(id(existing))
        kept[index] = merged
        position[id(merged)] = index
        finder.remove(existing)
        finder.add(merged)
        report.merged.append(Merged(kept=merged.key, dropped=poorer.key, reason=reason, line=poorer.line))
    return [ref for ref in kept if ref is not None]


def _remove_enclosing(entry: bp.Entry) -> bp.Entry:
    """Failed blocks skip bibtexparser's middleware; strip the `{…}` / `"…"` ourselves."""
    scratch = bibtexparser.Library()
    scratch.add(entry, fail_on_duplicate_key=False)
    return RemoveEnclosingMiddleware().transform(scratch).entries[0]


def _first_occurrences(fields: list[bp.Field]) -> list[bp.Field]:
    seen, out = set(), []
    for fld in fields:
        if fld.key.lower() not in seen:
            seen.add(fld.key.lower())
            out.append(fld)
    return out


_KEY_IN_RAW = re.compile(r"@\w+\s*[{(]\s*([^,\s{}()]+)\s*,")


def _guess_key(raw: str | None) -> str | None:
    match = _KEY_IN_RAW.match(raw or "")
    return match.group(1) if match else None


def _failure_reason(block: bp.ParsingFailedBlock, line: int | None) -> str:
    raw_reason = getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__
    span = ""
    if block.raw and line:
        last = line + block.raw.rstrip().count("\n")
        span = f" (lines {line}-{last})" if last > line else ""
    if "Unexpected block start" in raw_reason:
        reason = "entry is not closed before the next @entry (unbalanced braces or quotes?)"
    elif "end of file" in raw_reason:
        reason = "entry is not closed before the end of the file (unbalanced braces?)"
    elif "Expected comma after entry key" in raw_reason:
        reason = "no comma after the citation key (missing key or malformed header)"
    else:
        reason = raw_reason.strip()
    return reason + span


@contextmanager
def _quiet_bibtexparser():
    """bibtexparser logs each failed block; we report them ourselves, with line numbers."""
    logger = logging.getLogger("bibtexparser")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


# --- writing ----------------------------------------------------------------------------------
def write_bib(path: Path, references: list[Reference]) -> None:
    atomic_write_text(Path(path), format_bibtex(references))
