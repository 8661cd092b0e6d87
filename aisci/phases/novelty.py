"""Novelty: search the study's library for each approved idea and decide novel / not
novel with the evidence. A person can override a decision at the novelty gate."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from aisci import gates
from aisci.errors import GateStop
from aisci.fsutil import atomic_write_json, read_json
from aisci.llm.tasks import Task
from aisci.notebook import build
from aisci.phases.ideation import approved_ideas

OUTPUTS = ("ideas/novelty.json",)
STOPWORDS = frozenset("a an and are as at be by for from in into is it of on or that the this to with we our "
                      "than its does do changes change relative setting baseline".split())


class Evidence(BaseModel):
    key: str
    reason: str


class NoveltyDecision(BaseModel):
    novel: bool
    evidence: list[Evidence] = Field(default_factory=list)
    summary: str


def _offline_assess(inputs: dict[str, Any]) -> NoveltyDecision:
    """Retrieval scores against a threshold: not novel when a paper's word overlap with the
    idea reaches it. Says so, since no model read anything."""
    threshold = inputs["threshold"]
    papers = inputs["papers"]
    close = [p for p in papers if p["score"] >= threshold]
    evidence = [Evidence(key=p["key"], reason=f"word overlap {p['score']:.2f} with the idea "
                         f"({'at or above' if p['score'] >= threshold else 'below'} the threshold {threshold})")
                for p in papers[:3]]
    verdict = "not novel" if close else "novel"
    return NoveltyDecision(novel=not close, evidence=evidence, summary=(
        f"Offline engine (model-free): {verdict} by retrieval score — the closest of {len(papers)} library papers "
        f"scores {papers[0]['score']:.2f} against the threshold {threshold}." if papers else
        "Offline engine (model-free): the library returned no papers, so nothing anticipates the idea as far as "
        "this check can tell."))


ASSESS = Task("novelty.assess", "novelty", NoveltyDecision, _offline_assess, temperature=0.2, max_tokens=2000)


def inputs(ctx) -> Any:
    return {"ideas_gate": gates.decisions_digest(ctx.study, "ideas"),
            "library": [p.name for p in ctx.study.path("literature").glob("*.bib")]}


def run(ctx) -> list[str]:
    library = _library(ctx)
    decisions = {}
    for idea in approved_ideas(ctx.study):
        query = f"{idea.title} {idea.hypothesis}"
        papers = _rank(query, library)[:5]
        result = ctx.llm.run(ASSESS, idea=idea.model_dump(exclude={"rubric"}), papers=papers,
                             threshold=ctx.config.novelty.similarity_threshold)
        decisions[idea.name] = {"query": query, "papers": papers, "author": result.author,
                                **result.output.model_dump()}
    atomic_write_json(ctx.study.path("ideas", "novelty.json"), decisions)
    ctx.execute_phase_notebook(_notebook(decisions, ctx), ctx.study.path("ideas", "novelty.ipynb"), label="novelty")
    return list(OUTPUTS)


def novel_ideas(study) -> list:
    """Approved ideas that pass the novelty gate: judged novel, or overridden by a person."""
    decisions = read_json(study.path("ideas", "novelty.json"), default={})
    if study.config.gates.novelty == "stop" and not study.decisions("novelty"):
        raise GateStop("the novelty gate waits for a decision: " + gates.GATE_HELP["novelty"].format(study=study.root))
    overridden = {i for d in study.decisions("novelty") if d["action"] == "approve" for i in d["items"]}
    refused = gates.rejected(study, "novelty")
    return [idea for idea in approved_ideas(study) if idea.name not in refused
            and (decisions.get(idea.name, {}).get("novel", True) or idea.name in overridden)]


def _library(ctx) -> list[dict]:
    """The template's references plus any .bib the study holds, as plain dicts."""
    import bibtexparser

    entries = []
    for path in [ctx.template.references_bib, *sorted(ctx.study.path("literature").glob("*.bib"))]:
        if path.exists():
            for entry in bibtexparser.parse_string(path.read_text(encoding="utf-8")).entries:
                fields = {f.key.lower(): str(f.value) for f in entry.fields}
                entries.append({"key": entry.key, "title": fields.get("title", ""),
                                "text": " ".join([fields.get("title", ""), fields.get("abstract", ""),
                                                  fields.get("keywords", "")])})
    return entries


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def _rank(query: str, library: list[dict]) -> list[dict]:
    """Papers by word overlap with the query (the share of the paper's words the idea uses)."""
    query_words = _words(query)
    scored = []
    for paper in library:
        words = _words(paper["text"])
        score = len(words & query_words) / len(words) if words else 0.0
        scored.append({"key": paper["key"], "title": paper["title"], "score": round(score, 3)})
    return sorted(scored, key=lambda p: -p["score"])


def _notebook(decisions: dict, ctx):
    authors = {d["author"] for d in decisions.values()} or {"offline-engine"}
    nb = build.notebook("Novelty check", sorted(authors)[0], intro="Each approved idea against the study's library.")
    for name, d in decisions.items():
        evidence = "\n".join(f"- `{e['key']}` — {e['reason']}" for e in d["evidence"]) or "- (no papers)"
        nb.cells.append(build.markdown(
            f"## `{name}`: {'novel' if d['novel'] else 'not novel'}\n\n{d['summary']}\n\n**Evidence.**\n{evidence}",
            d["author"], idea=name))
    nb.cells.append(build.code(
        "import json\nimport pandas as pd\n\n"
        "decisions = json.load(open('novelty.json'))\n"
        "pd.DataFrame([{'idea': k, 'novel': v['novel'], 'closest': v['papers'][0]['key'] if v['papers'] else None, "
        "'score': v['papers'][0]['score'] if v['papers'] else None} for k, v in decisions.items()])"))
    return nb
