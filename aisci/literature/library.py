"""A study's literature library: `literature/library.bib` plus its search index.

library.bib is the source of truth (a person may edit it by hand); `index.sqlite` mirrors
it and is rebuilt whenever the file changed behind the library's back. Adding entries
merges duplicates into what is already there (same DOI / arXiv id / title), keeps keys
that are already cited, and renames a new entry whose key is taken by a different work.

A user-level library (a .bib file, e.g. a Zotero export, or another library folder) can
be searched alongside; it is read-only here, and its index is kept in the study folder
so nothing outside the study is written.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterable, Iterator

from aisci.fsutil import sha256_of
from aisci.literature.bibfile import parse_bib, read_bib, write_bib
from aisci.literature.dedupe import DuplicateFinder, merge_references, same_work_reason
from aisci.literature.errors import LibraryError
from aisci.literature.index import SearchIndex
from aisci.literature.model import Hit, ImportReport, Merged, Reference, Renamed

BIB_NAME = "library.bib"
INDEX_NAME = "index.sqlite"
USER_INDEX_NAME = "user-index.sqlite"
LOCK_NAME = ".library.lock"


class Library:
    def __init__(self, directory: Path | str, *, user_library: Path | str | None = None,
                 bib_path: Path | None = None, index_path: Path | None = None,
                 read_only: bool = False, name: str = "study"):
        self.directory = Path(directory)
        self.bib_path = Path(bib_path) if bib_path else self.directory / BIB_NAME
        self.index_path = Path(index_path) if index_path else self.directory / INDEX_NAME
        self.read_only = read_only
        self.name = name
        self.load_report: ImportReport | None = None  # what the last re-read of library.bib found
        self._index: SearchIndex | None = None
        self.user: Library | None = None
        if user_library is not None:
            self.user = Library.user_level(user_library, index_dir=self.directory)

    @classmethod
    def for_study(cls, study_dir: Path | str, **kwargs) -> Library:
        return cls(Path(study_dir) / "literature", **kwargs)

    @classmethod
    def user_level(cls, path: Path | str, *, index_dir: Path) -> Library:
        """A read-only library over a .bib file or another library folder, indexed in `index_dir`."""
        path = Path(path).expanduser()
        bib = path / BIB_NAME if path.is_dir() else path
        if not bib.is_file():
            raise LibraryError(f"user library {path}: no such .bib file or library folder")
        return cls(bib.parent, bib_path=bib, index_path=Path(index_dir) / USER_INDEX_NAME, read_only=True,
                   name="user")

    # --- the index, kept in step with library.bib -------------------------------------------
    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.index_path)
        self._sync()
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        if self.user is not None:
            self.user.close()

    def _bib_stamp(self) -> str:
        try:
            stat = self.bib_path.stat()
        except FileNotFoundError:
            return "absent"
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    def _sync(self) -> None:
        index = self._index
        stamp = self._bib_stamp()
        if index.get_meta("bib_stamp") == stamp and index.get_meta("bib_path") == str(self.bib_path):
            return
        digest = sha256_of(self.bib_path.read_bytes()) if self.bib_path.exists() else ""
        if index.get_meta("bib_digest") != digest or index.get_meta("bib_path") != str(self.bib_path):
            parsed = read_bib(self.bib_path, dedupe=False) if digest else parse_bib("", origin=str(self.bib_path))
            self.load_report = parsed.report
            for ref in parsed.references:
                ref.source = ref.get("x-aisci-source") or ref.source
            index.rebuild(parsed.references, bib_digest=digest)
            index.set_meta("unparsed_blocks", str(len(parsed.report.skipped)))
        index.set_meta("bib_path", str(self.bib_path))
        index.set_meta("bib_stamp", stamp)

    # --- adding --------------------------------------------------------------------------------
    def add_bib(self, path: Path | str) -> ImportReport:
        """Import a .bib file: bad entries skipped and reported, duplicates merged."""
        parsed = read_bib(Path(path))
        self._add(parsed.references, parsed.report)
        return parsed.report

    def add_bibtex(self, text: str, *, origin: str = "<text>") -> ImportReport:
        parsed = parse_bib(text, origin=origin)
        self._add(parsed.references, parsed.report)
        return parsed.report

    def add_entries(self, references: Iterable[Reference], *, source: str | None = None) -> ImportReport:
        """Add references (e.g. papers an online search returned); `source` records where they came from."""
        refs = []
        for ref in references:
            ref = ref.copy(source=source or ref.source)
            refs.append(ref)
        report = ImportReport(origin=source or "entries", kept=[r.key for r in refs])
        self._add(refs, report)
        return report

    def _add(self, incoming: list[Reference], report: ImportReport) -> None:
        if self.read_only:
            raise LibraryError(f"the {self.name} library at {self.bib_path} is read-only here")
        with self._locked():
            index = self.index
            unparsed = int(index.get_meta("unparsed_blocks") or 0)
            if unparsed:
                raise LibraryError(f"{self.bib_path} has {unparsed} entr{'y' if unparsed == 1 else 'ies'} that do not "
                                   "parse; fix them first (rewriting the file would drop them)")
            taken = index.keys()
            batch = DuplicateFinder()
            changed: dict[str, Reference] = {}  # key -> new version of an entry already stored
            added: dict[str, Reference] = {}
            kept: list[str] = []
            for ref in incoming:
                target = self._find_same_work(ref, batch, changed, added)
                if target is not None:
                    existing, reason = target
                    richer, poorer = (ref, existing) if ref.richness() > existing.richness() else (existing, ref)
                    merged = merge_references(richer, poorer, keep_key=existing.key)
                    merged.source = existing.source
                    (added if existing.key in added else changed)[existing.key] = merged
                    batch.remove(existing)
                    batch.add(merged)
                    report.merged.append(Merged(kept=existing.key, dropped=ref.key, reason=reason, line=ref.line))
                    continue
                if ref.key in taken:
                    new_key = _free_key(ref.key, taken)
                    report.renamed.append(Renamed(old=ref.key, new=new_key, line=ref.line,
                                                  reason="key already used by a different work in the library"))
                    ref = ref.copy(key=new_key)
                taken.add(ref.key)
                added[ref.key] = ref
                batch.add(ref)
                kept.append(ref.key)
            report.kept = kept
            if not changed and not added:
                return
            stored = index.all()
            final = [changed.get(ref.key, ref) for ref in stored] + list(added.values())
            for ref in final:
                if ref.source and ref.source != str(self.bib_path):
                    ref.fields.setdefault("x-aisci-source", ref.source)
            write_bib(self.bib_path, final)
            digest = sha256_of(self.bib_path.read_bytes())
            index.upsert(replace=list(changed.values()), insert=list(added.values()), bib_digest=digest)
            index.set_meta("bib_stamp", self._bib_stamp())

    def _find_same_work(self, ref: Reference, batch: DuplicateFinder, changed: dict[str, Reference],
                        added: dict[str, Reference]) -> tuple[Reference, str] | None:
        found = batch.find(ref)
        if found:
            return found
        for candidate in self._index.candidates(ref):
            candidate = changed.get(candidate.key, candidate)
            reason = same_work_reason(candidate, ref)
            if reason:
                return candidate, reason
        return None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time (parallel novelty checks may add papers at once)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_NAME, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- reading ---------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10, *, include_user: bool = True) -> list[Hit]:
        """BM25-ranked hits from this library (and the user library, if one is attached)."""
        hits = [Hit(ref, score, origin=self.name) for ref, score in self.index.search(query, limit)]
        if include_user and self.user is not None:
            finder = DuplicateFinder([h.reference for h in hits])
            for hit in self.user.search(query, limit, include_user=False):
                if finder.find(hit.reference) is None:
                    hits.append(hit)
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]

    def get(self, key: str) -> Reference | None:
        """The reference cited as `key` (also through an alias left by a merge)."""
        ref = self.index.get(key) or self.index.get_by_alias(key)
        if ref is None and self.user is not None:
            ref = self.user.get(key)
        return ref

    def find(self, ref: Reference) -> Reference | None:
        """The stored reference that is the same work as `ref`, if any."""
        for candidate in self.index.candidates(ref):
            if same_work_reason(candidate, ref):
                return candidate
        return None

    def entries(self) -> list[Reference]:
        return self.index.all()

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _free_key(key: str, taken: set[str]) -> str:
    n = 2
    while f"{key}_{n}" in taken:
        n += 1
    return f"{key}_{n}"


def default_user_library() -> Path | None:
    """The user-level library named by $AISCI_USER_LIBRARY, if set."""
    value = os.environ.get("AISCI_USER_LIBRARY")
    return Path(value).expanduser() if value else None
