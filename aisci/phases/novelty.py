"""Novelty: for each approved idea, literature searches over up to N rounds — the study
library, the user library and (unless offline) the online sources — and a decision,
novel or not novel, with the evidence: which papers, and why.

Each round the task reads the papers found so far (closest first, by the share of the
idea's terms a paper mentions: one scale for every source) and either decides or asks
for more searches. The papers it was shown are added to the study library, so the
writeup can cite them. On the offline engine the decision is a retrieval score against
`[novelty] similarity_threshold`, over the local library only, and says so. A source
that fails is not asked again in the phase, and online searching stops after
`[literature] time_budget_s`: a storm of 429s ends with a warning and the local library.

A person can override a decision at the novelty gate (`aisci approve STUDY novelty IDEA`
or the ideas panel); `novel_ideas` honours the latest verdict naming an idea.
"""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import BaseModel, Field

from aisci import gates
from aisci.artifacts import Ideas, NoveltyDecisions, approved_ideas
from aisci.constants import OFFLINE_ENGINE
from aisci.fsutil import file_digest
from aisci.ideas import STOPWORDS, coverage, idea_terms, template_background
from aisci.literature.dedupe import DuplicateFinder
from aisci.literature.errors import LiteratureError
from aisci.literature.library import Library
from aisci.literature.model import Hit, Reference
from aisci.llm.tasks import Task
from aisci.literature.study_library import describe_library, open_library
from aisci.execution import build

CONSUMES = (Ideas,)
PRODUCES = (NoveltyDecisions,)
CONFIG = ("novelty", "literature", "ideation.select", "gates.ideas")
ABSTRACT_CHARS = 600  # of each paper's abstract shown to the model
FIRST_QUERY_WORDS = 12  # online sources rank short queries better (arXiv requires every word)


class Evidence(BaseModel):
    key: str = Field(description="citation key of one of the papers listed")
    reason: str = Field(description="why this paper does or does not anticipate the idea")
    anticipates: bool = Field(default=False, description="true when the paper already does what the idea proposes")


class NoveltyDecision(BaseModel):
    novel: bool
    evidence: list[Evidence] = Field(default_factory=list)
    summary: str
    queries: list[str] = Field(default_factory=list,
                               description="further searches to run before deciding; empty when the decision is final")


def _offline_assess(inputs: dict[str, Any]) -> NoveltyDecision:
    """Retrieval scores against a threshold: not novel when a paper mentions at least that
    share of the idea's terms. Says so, since nothing was read. Asks for no further search:
    another round would repeat the same word comparison."""
    threshold, papers = inputs["threshold"], inputs["papers"]
    close = [p for p in papers if p["term_overlap"] >= threshold]
    evidence = [Evidence(key=p["key"], anticipates=p["term_overlap"] >= threshold, reason=(
        f"mentions {p['term_overlap']:.0%} of the idea's terms ({', '.join(p['matched_terms']) or 'none'}); "
        f"{'at or above' if p['term_overlap'] >= threshold else 'below'} the threshold {threshold:.0%}"))
        for p in papers[:3]]
    verdict = "not novel" if close else "novel"
    if papers:
        closest = f"the closest of the {len(papers)} papers" if len(papers) > 1 else "the one paper"
        summary = (f"Offline engine (model-free): {verdict} by retrieval score, not by reading — {closest} found "
                   f"in the local library mentions {papers[0]['term_overlap']:.0%} of the idea's terms against the "
                   f"threshold {threshold:.0%}.")
    else:
        summary = ("Offline engine (model-free): the local library returned no papers, so nothing anticipates the "
                   "idea as far as this check can tell.")
    return NoveltyDecision(novel=not close, evidence=evidence, summary=summary)


ASSESS = Task("novelty.assess", "novelty", NoveltyDecision, _offline_assess, temperature=0.2, max_tokens=2000)


# --- the runner's view ----------------------------------------------------------------------------
def inputs(ctx) -> Any:
    """The ideas gate, and the libraries searched: a paper added with `aisci lit add` reruns
    the check (the papers the check itself adds are in the digest taken after it ran)."""
    user = ctx.config.literature.user_library_path(ctx.study.root)
    if user is not None and user.is_dir():
        user = user / "library.bib"
    return {"ideas_gate": gates.decisions_digest(ctx.study, "ideas"),
            "library": file_digest(ctx.study.path("literature", "library.bib")),
            "user_library": file_digest(user) if user is not None else None}


def run(ctx) -> None:
    ideas = approved_ideas(ctx.study)
    with open_library(ctx.study, ctx.warn) as library:
        searcher = _Searcher(ctx.study, library, offline_reason(ctx.config, ctx.llm.uses_offline_engine("novelty")))
        try:
            decisions = {idea.name: _Check(ctx, library, searcher, idea).run() for idea in ideas}
        finally:
            searcher.close()
    NoveltyDecisions.model_validate({"decisions": decisions}).save(ctx.study)
    ctx.execute_phase_notebook(_notebook(decisions, ctx), ctx.study.path("ideas", "novelty.ipynb"), label="novelty")


# --- searching --------------------------------------------------------------------------------------
def first_query(idea) -> str:
    """The idea's title and hypothesis as a short keyword query (numbers and filler left out)."""
    words, seen = [], set()
    for word in re.findall(r"[A-Za-z][A-Za-z0-9-]*", f"{idea.title} {idea.hypothesis}"):
        lower = word.lower()
        if lower in STOPWORDS or len(lower) < 3 or lower in seen:
            continue
        seen.add(lower)
        words.append(word)
    return " ".join(words[:FIRST_QUERY_WORDS]) or idea.title


def offline_reason(config, offline_engine: bool) -> str | None:
    """Why the check searches the local library only, or None when it goes online."""
    if offline_engine:
        return "the offline engine searches the local library only"
    if config.literature.offline:
        return "[literature] offline = true: local library only"
    if not config.literature.sources:
        return "no online source configured ([literature] sources = []): local library only"
    return None


class _Searcher:
    """One per phase: the local libraries always, the online sources while they work and
    the time budget lasts. A source that failed is not asked again in this phase."""

    def __init__(self, study, library: Library, offline: str | None):
        self.study = study
        self.library = library
        self.limit = study.config.novelty.results_per_query
        self.offline_reason = offline
        self.sources = [] if offline else self._make_sources()
        self.cache = self.sources[0].fetcher.cache if self.sources else None  # shared by the sources
        self.budget_s = study.config.literature.time_budget_s
        self.spent_s = 0.0
        self.stopped: str | None = None  # why online searching ended early
        self.asked: set[str] = set()  # source names that answered at least once

    def _make_sources(self):
        from aisci.literature.sources import RetryPolicy, make_sources

        settings = self.study.config.literature
        policy = RetryPolicy(max_total_s=settings.max_wait_s, timeout_s=min(10.0, settings.max_wait_s))
        return make_sources(self.study.path("literature"), settings.sources, base_urls=settings.base_urls,
                            policy=policy)

    def describe(self) -> str:
        where = describe_library(self.library)
        if self.offline_reason:
            return f"{where}; {self.offline_reason}"
        online = ", ".join(sorted(self.asked)) or "none answered"
        return f"{where} + online sources ({online})" + (f"; {self.stopped}" if self.stopped else "")

    def search(self, query: str) -> tuple[list[Hit], list[str], bool]:
        """Hits for `query` (local first, then online), the warnings of this search, and
        whether an online source answered it."""
        from aisci.literature.sources import search_all

        hits = self.library.search(query, self.limit)
        if not self.sources:
            return hits, [], False
        if self.spent_s >= self.budget_s:
            return hits, [self._stop(f"online search stopped: its {self.budget_s:.0f}s budget for the phase "
                                     "([literature] time_budget_s) is spent; the rest uses the local library")], False
        started = time.monotonic()
        result = search_all(query, self.sources, limit=self.limit, library=self.library)
        self.spent_s += time.monotonic() - started
        self.asked.update(result.sources_ok)
        warnings = list(result.warnings)
        if result.sources_failed:
            failed = set(result.sources_failed)
            for source in self.sources:
                if source.name in failed:
                    source.close()
            self.sources = [s for s in self.sources if s.name not in failed]
            warnings.append(f"not asked again in this phase: {', '.join(result.sources_failed)}")
            if not self.sources:
                warnings.append(self._stop("every online source failed; the novelty check goes on with the local "
                                           "library"))
        if result.local_only:
            return hits, warnings, False
        return hits + result.hits, warnings, True

    def _stop(self, reason: str) -> str:
        self.stopped = self.stopped or reason
        for source in self.sources:
            source.close()
        self.sources = []
        return reason

    def close(self) -> None:
        for source in self.sources:
            source.close()
        self.sources = []
        if self.cache is not None:
            self.cache.close()
            self.cache = None


class _Check:
    """The rounds for one idea: search, show the closest papers, decide or search again."""

    def __init__(self, ctx, library: Library, searcher: _Searcher, idea):
        self.ctx, self.library, self.searcher, self.idea = ctx, library, searcher, idea
        self.settings = ctx.config.novelty
        self.words = idea_terms(idea, template_background(ctx.template.manifest))
        self.papers: list[dict] = []  # every paper found for the idea, in the order first found
        self.finder = DuplicateFinder()
        self.by_ref: dict[int, dict] = {}
        self.warnings: list[str] = []
        self.added: list[str] = []
        self.online = False  # whether an online source answered any of its searches

    def run(self) -> dict:
        asked: list[str] = []
        rounds: list[dict] = []
        queries = [first_query(self.idea)]
        max_rounds = self.settings.max_rounds
        for round_number in range(1, max_rounds + 1):
            for query in queries:
                self._collect(query)
                asked.append(query)
            shown = self._closest()
            self._add_to_library(shown)
            result = self.ctx.llm.run(
                ASSESS, idea=self.idea.model_dump(include={"name", "title", "hypothesis", "abstract", "parameters",
                                                           "related_work"}),
                papers=[_for_prompt(p) for p in shown], queries=asked, round=round_number, max_rounds=max_rounds,
                queries_per_round=self.settings.queries_per_round, threshold=self.settings.similarity_threshold)
            decision: NoveltyDecision = result.output
            wanted = [q.strip() for q in decision.queries if q.strip() and q.strip() not in asked]
            wanted = list(dict.fromkeys(wanted))[: self.settings.queries_per_round]
            rounds.append({"round": round_number, "queries": queries, "papers_shown": [p["key"] for p in shown],
                           "novel": decision.novel, "summary": decision.summary, "asked_for": wanted})
            if not wanted:
                break
            if round_number == max_rounds:
                rounds[-1]["note"] = (f"asked for more searches in the last round ([novelty] max_rounds = "
                                      f"{max_rounds}); this decision stands")
                break
            queries = wanted
        return self._record(decision, result.author, asked, rounds)

    def _collect(self, query: str) -> None:
        hits, warnings, online = self.searcher.search(query)
        self.online = self.online or online
        for warning in warnings:
            self._warn(warning)
        for hit in hits:
            found = self.finder.find(hit.reference)
            if found is not None:
                paper = self.by_ref[id(found[0])]
                if query not in paper["queries"]:
                    paper["queries"].append(query)
                continue
            ref = hit.reference
            share, matched = coverage(self.words, f"{ref.title} {ref.abstract} {ref.keywords}")
            paper = {"key": ref.key, "title": ref.title, "authors": ref.authors[:3], "year": ref.year,
                     "venue": ref.venue, "abstract": ref.abstract, "origin": hit.origin,
                     "in_library": hit.origin == "study" or hit.in_library,
                     "score": round(share, 3), "matched": matched,  # the scale-free score, on every source's hits
                     "source_score": float(f"{hit.score:.4g}"),  # BM25 or rank fusion: comparable within one list
                     "queries": [query], "reference": ref}
            self.finder.add(ref)
            self.by_ref[id(ref)] = paper
            self.papers.append(paper)

    def _closest(self) -> list[dict]:
        order = {id(p): i for i, p in enumerate(self.papers)}
        ranked = sorted(self.papers, key=lambda p: (-p["score"], order[id(p)]))
        return ranked[: self.settings.papers_shown]

    def _add_to_library(self, shown: list[dict]) -> None:
        """The papers shown join the study library (keys as the library stores them), so the
        evidence cites keys the writeup can use."""
        new = [p for p in shown if not p["in_library"]]
        by_origin: dict[str, list[Reference]] = {}
        for paper in new:
            by_origin.setdefault(paper["origin"], []).append(paper["reference"])
        try:
            for origin, references in by_origin.items():
                self.library.add_entries(references, source="user library" if origin == "user" else origin)
        except LiteratureError as exc:
            self._warn(f"the papers found were not added to the study library: {exc}")
            return
        for paper in new:
            stored = self.library.find(paper["reference"])
            if stored is not None:
                paper["key"], paper["in_library"] = stored.key, True
                self.added.append(stored.key)

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
        self.ctx.warn(f"novelty check of {self.idea.name}: {message}")

    def _record(self, decision: NoveltyDecision, author: str, asked: list[str], rounds: list[dict]) -> dict:
        known = {p["key"] for p in self.papers}
        evidence = [e.model_dump() for e in decision.evidence if e.key in known]
        ignored = [e.key for e in decision.evidence if e.key not in known]
        offline = author == OFFLINE_ENGINE
        return {
            "novel": decision.novel, "evidence": evidence, "summary": decision.summary, "author": author,
            "method": ("offline engine: the share of the idea's terms a paper mentions (metric names and baseline "
                       "values left out) against the threshold; no paper was read" if offline
                       else "model: read the search results and decided"),
            "threshold": self.settings.similarity_threshold if offline else None,
            "query": asked[0], "queries": asked, "rounds": rounds,
            "papers": [{k: v for k, v in p.items() if k not in ("reference", "abstract")} for p in self._closest()],
            "papers_found": len(self.papers), "searched": self.searcher.describe(),
            "offline": self.searcher.offline_reason is not None, "local_only": not self.online,
            "warnings": self.warnings, "added_to_library": list(dict.fromkeys(self.added)),
            "ignored_evidence": ignored,
        }


def _for_prompt(paper: dict) -> dict:
    abstract = paper["abstract"][:ABSTRACT_CHARS] + ("…" if len(paper["abstract"]) > ABSTRACT_CHARS else "")
    return {"key": paper["key"], "title": paper["title"], "authors": paper["authors"], "year": paper["year"],
            "venue": paper["venue"], "abstract": abstract, "term_overlap": paper["score"],
            "matched_terms": paper["matched"]}


# --- for the notebook -------------------------------------------------------------------------------
def rerun_queries(study_dir, name: str, online: bool = False):
    """The searches behind idea `name`'s decision, run again now over the local library (and,
    with online=True, the online sources: answers come from the study's response cache when
    the same search was made before). A DataFrame; `recorded` marks papers the check showed."""
    import pandas as pd

    from aisci.study import Study

    study = Study.open(study_dir)
    decision = NoveltyDecisions.load(study).decisions.get(name)
    idea = next((i for i in Ideas.load(study).ideas if i.name == name), None)
    if decision is None or idea is None:
        raise LiteratureError(f"no novelty decision for {name!r} in {study.path('ideas', 'novelty.json')}")
    recorded = {p["key"] for p in decision.papers}
    words = idea_terms(idea, template_background(study.template().manifest))
    rows = []
    with open_library(study) as library:
        reason = offline_reason(study.config, False) if online else "re-run over the local library only"
        searcher = _Searcher(study, library, reason)
        try:
            for query in decision.queries:
                hits, warnings, _ = searcher.search(query)
                for warning in warnings:
                    print(f"note: {warning}")
                for hit in hits:
                    ref = hit.reference
                    share, _ = coverage(words, f"{ref.title} {ref.abstract} {ref.keywords}")
                    rows.append({"query": query, "key": ref.key, "title": ref.title, "year": ref.year,
                                 "origin": hit.origin, "term_overlap": round(share, 3),
                                 "recorded": ref.key in recorded})
        finally:
            searcher.close()
    print(f"searched: {searcher.describe()}")
    return pd.DataFrame(rows, columns=["query", "key", "title", "year", "origin", "term_overlap", "recorded"])


def _notebook(decisions: dict, ctx):
    authors = {d["author"] for d in decisions.values()} or {OFFLINE_ENGINE}
    author = min(authors)
    offline = ctx.llm.uses_offline_engine("novelty")
    if offline:
        how = (f"**Offline engine:** each decision is a retrieval score against a threshold, not a reading: an idea "
               f"is *not novel* when a paper mentions at least {ctx.config.novelty.similarity_threshold:.0%} of its "
               "title and hypothesis terms. Only the local library (study library and user library) was searched "
               "(`offline=True`); no online source was asked.")
    else:
        how = (f"A model searched over up to {ctx.config.novelty.max_rounds} rounds per idea — study library, user "
               "library and online sources — read the closest papers and decided. The papers it read are now in "
               "the study library.")
    nb = build.notebook("Novelty check", author, intro=(
        f"Each approved idea against the literature. {how} A person can override any decision: "
        "`aisci approve STUDY novelty IDEA` (or *Run it anyway* in the ideas panel); the override goes to "
        "`decisions.jsonl`."))
    nb.cells.append(build.code(
        "import json\nimport pandas as pd\n\nfrom aisci.phases.novelty import rerun_queries\n\n"
        "decisions = json.load(open('novelty.json'))\n"
        "pd.DataFrame([{'idea': k, 'novel': v['novel'], 'rounds': len(v['rounds']), 'papers': v['papers_found'], "
        "'closest': v['papers'][0]['key'] if v['papers'] else None, "
        "'score': v['papers'][0]['score'] if v['papers'] else None} for k, v in decisions.items()])"))
    for name, d in decisions.items():
        evidence = "\n".join(f"- `{e['key']}`{' (anticipates the idea)' if e.get('anticipates') else ''} — "
                             f"{e['reason']}" for e in d["evidence"]) or "- (no papers)"
        rounds = "\n".join(f"- round {r['round']}: searched {', '.join(repr(q) for q in r['queries'])} → "
                           f"{'novel' if r['novel'] else 'not novel'}"
                           + (f"; asked for {', '.join(repr(q) for q in r['asked_for'])}" if r["asked_for"] else "")
                           + (f" ({r['note']})" if r.get("note") else "") for r in d["rounds"])
        papers = "\n".join(f"| `{p['key']}` | {p['title']} | {p['year'] or ''} | {p['origin']} | {p['score']:.0%} |"
                           for p in d["papers"][:8])
        warnings = "".join(f"\n\n> ⚠️ {w}" for w in d["warnings"])
        nb.cells.append(build.markdown(
            f"## `{name}`: {'novel' if d['novel'] else 'not novel'}\n\n{d['summary']}\n\n"
            f"*{d['method']}; searched the {d['searched']}.*{warnings}\n\n**Evidence.**\n{evidence}\n\n"
            f"**Rounds.**\n{rounds}\n\n**Closest papers** (share of the idea's terms each mentions):\n\n"
            f"| key | title | year | found in | terms |\n|---|---|---|---|---|\n{papers}", d["author"], idea=name))
        nb.cells.append(build.code(
            f"# the searches behind `{name}`, run again over the local library (online=True asks the sources too;\n"
            f"# a search made before is answered from the study's response cache)\n"
            f"rerun_queries('..', {name!r})", idea=name))
    return nb
