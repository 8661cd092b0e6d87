"""Search every online source at once, merge what they return, and never hang or raise
because a source failed.

Sources run in parallel, each inside its own time budget (see `http.RetryPolicy`).
Their ranked lists are fused by reciprocal rank (a paper high on several lists rises),
duplicates across sources merged into one record. A failing source is reported in
`warnings` and the others carry on; when every source fails, or `offline=True`, the
local library answers instead and the result says so.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass, field

from aisci.literature.dedupe import DuplicateFinder, merge_references
from aisci.literature.errors import SourceError
from aisci.literature.library import Library
from aisci.literature.model import Hit, Reference
from aisci.literature.sources.base import Source

RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of the very top ranks


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    warnings: list[str] = field(default_factory=list)
    offline: bool = False  # asked to stay offline: no source was queried
    local_only: bool = False  # hits come from the local library (offline, or every source failed)
    sources_ok: list[str] = field(default_factory=list)
    sources_failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"query": self.query, "hits": [h.to_dict() for h in self.hits], "warnings": self.warnings,
                "offline": self.offline, "local_only": self.local_only, "sources_ok": self.sources_ok,
                "sources_failed": self.sources_failed}


def search_all(query: str, sources: list[Source] | None, *, limit: int = 10, offline: bool = False,
               library: Library | None = None) -> SearchResult:
    """Ranked papers for `query` from the online sources (or the local library; see module doc)."""
    if offline:
        return _local(query, library, limit, offline=True,
                      warning="offline: searched the local library only; no online source was asked")
    if not sources:
        return _local(query, library, limit, offline=False,
                      warning="no online source configured; searched the local library only")
    lists, failed = _run_sources(query, sources, limit)
    if not lists:
        detail = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        result = _local(query, library, limit, offline=False,
                        warning=f"every online source failed ({detail}); showing the local library only")
        result.sources_failed = failed
        return result
    hits = _fuse(lists, limit)
    if library is not None:
        _mark_library_copies(hits, library)
    warnings = [f"{name} failed ({reason}); results come from the other sources" for name, reason in failed.items()]
    return SearchResult(query=query, hits=hits, warnings=warnings, sources_ok=list(lists), sources_failed=failed)


def _local(query: str, library: Library | None, limit: int, *, offline: bool, warning: str) -> SearchResult:
    hits = library.search(query, limit) if library is not None else []
    warnings = [warning] if library is not None else [warning.replace("searched the local library only",
                                                                      "no local library given either")]
    return SearchResult(query=query, hits=hits, warnings=warnings, offline=offline, local_only=True)


def _run_sources(query: str, sources: list[Source], limit: int) -> tuple[dict[str, list[Reference]], dict[str, str]]:
    lists: dict[str, list[Reference]] = {}
    failed: dict[str, str] = {}
    # Each source bounds its own time; the pool's wait is a second guard against a bug.
    budget = max(s.fetcher.policy.max_total_s for s in sources) + 5.0
    pool = cf.ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="aisci-lit")
    try:
        futures = {pool.submit(source.search, query, limit): source for source in sources}
        done, pending = cf.wait(futures, timeout=budget)
        for future in pending:
            failed[futures[future].name] = f"no answer within {budget:.0f}s"
        for source in sources:  # keep the caller's order of sources
            future = next(f for f, s in futures.items() if s is source)
            if future not in done:
                continue
            try:
                lists[source.name] = future.result()
            except SourceError as exc:
                failed[source.name] = exc.reason
            except Exception as exc:  # a source bug must not take the whole search down
                failed[source.name] = f"unexpected {type(exc).__name__}: {exc}"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return lists, failed


def _fuse(lists: dict[str, list[Reference]], limit: int) -> list[Hit]:
    finder = DuplicateFinder()
    groups: list[dict] = []
    group_of: dict[int, dict] = {}
    for source_name, refs in lists.items():
        for rank, ref in enumerate(refs):
            found = finder.find(ref)
            if found is None:
                group = {"ref": ref, "score": 0.0, "origins": []}
                groups.append(group)
                group_of[id(ref)] = group
                finder.add(ref)
            else:
                existing = found[0]
                group = group_of.pop(id(existing))
                richer, poorer = (ref, existing) if ref.richness() > existing.richness() else (existing, ref)
                merged = merge_references(richer, poorer)
                merged.fields.pop("ids", None)  # keys from different sources are not aliases anyone cited
                finder.remove(existing)
                finder.add(merged)
                group["ref"] = merged
                group_of[id(merged)] = group
            group["score"] += 1.0 / (RRF_K + rank + 1)
            if source_name not in group["origins"]:
                group["origins"].append(source_name)
    groups.sort(key=lambda g: g["score"], reverse=True)
    return [Hit(g["ref"], g["score"], origin="+".join(g["origins"])) for g in groups[:limit]]


def _mark_library_copies(hits: list[Hit], library: Library) -> None:
    """A hit the study library already holds is shown (and cited) under the library's key."""
    for hit in hits:
        stored = library.find(hit.reference)
        if stored is not None:
            hit.in_library = True
            hit.reference = hit.reference.copy(key=stored.key)
