"""Ideation: ideas from the topic and the template, schema-validated and archive-aware
(seed ideas and the ideas of earlier runs go into the task; near-duplicates are dropped
with the reason), each searched in the literature library, improved over K reflection
rounds and scored by the checklist rubric. The ideas gate picks which go on.

The study library is seeded here with the template's references.bib, so the library
search (and the offline novelty check after it) always has something to read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aisci.artifacts import Ideas
from aisci.fsutil import atomic_write_json, file_digest, read_json, sha256_of
from aisci.ideas import (
    MAX_COMPUTE_RATIO,
    Idea,
    IdeaBatch,
    IdeaDraft,
    ReflectionStep,
    Retrieval,
    RetrievedPaper,
    canonical_parameters,
    checklist_rubric,
    compute_ratio,
    coverage,
    first_duplicate,
    idea_terms,
    offline_differences,
    template_background,
)
from aisci.literature.errors import LiteratureError
from aisci.literature.library import Library
from aisci.literature.study_library import describe_library, open_library, seed_library
from aisci.llm.tasks import Task
from aisci.execution import build
from aisci.search import cellplan
from aisci.study import now_iso

CONSUMES = ()
PRODUCES = (Ideas,)
CONFIG = ("study", "ideation", "literature.user_library", "novelty.similarity_threshold")
ARCHIVE = ("ideas", "archive.json")
MODEL_REFLECTIONS = 3  # [ideation] reflections when unset and a model writes the ideas
ABSTRACT_CHARS = 600  # of each paper's abstract shown to the model


class PriorIdea(BaseModel):
    """A seed idea or an idea of an earlier run: what duplicates are checked against."""

    name: str
    title: str = ""
    hypothesis: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    method_change: str = ""  # a seed idea may change the method (code), not only parameters
    origin: str = ""  # "seed" or "earlier run"


# --- the offline engine ---------------------------------------------------------------------------
def _offline_ideas(inputs: dict[str, Any]) -> IdeaBatch:
    """Ideas from the template's parameter space (the offline engine proposes parameter
    settings only, never a change to the code, and its notebook says so): the seed ideas
    that set parameters first, then one idea per
    declared alternative value of each parameter, in manifest order, skipping settings an
    earlier run tried. Every candidate is returned; the phase keeps `num_ideas` of them
    after dropping near-duplicates."""
    parameters, primary = inputs["parameters"], inputs["primary_metric"]
    earlier = inputs["earlier_ideas"]
    taken = [canonical_parameters(e.get("parameters", {})) for e in earlier if e.get("origin") != "seed"]
    ideas: list[IdeaDraft] = []
    for seed in earlier:
        if seed.get("origin") == "seed" and (seed.get("method_change") or "").strip():
            continue  # a seed that changes the code needs a model to write it: the offline engine only sets parameters
        if seed.get("origin") == "seed" and canonical_parameters(seed["parameters"]) not in taken:
            ideas.append(_idea(seed["name"], seed["title"], seed["hypothesis"], seed["parameters"], parameters, primary))
            taken.append(canonical_parameters(seed["parameters"]))
    for name, spec in parameters.items():
        if name == inputs.get("seed_parameter", "seed"):
            continue
        for value in spec["choices"]:
            overrides = {name: value}
            if value == spec["default"] or canonical_parameters(overrides) in taken:
                continue
            ideas.append(_idea(f"{name}_{_slug(value)}", f"{spec['description'] or name}: {value!r} instead of "
                               f"{spec['default']!r}", _offline_hypothesis(name, value, spec["default"], primary),
                               overrides, parameters, primary))
            taken.append(canonical_parameters(overrides))
    return IdeaBatch(ideas=ideas)


def _offline_hypothesis(name: str, value, default, primary: str) -> str:
    try:
        direction = "higher" if float(value) > float(default) else "lower"
        return (f"Setting {name} to {value!r} ({direction} than the baseline's {default!r}) "
                f"changes {primary} relative to the baseline.")
    except (TypeError, ValueError):  # a categorical parameter has no direction
        return f"Setting {name} to {value!r} instead of the baseline's {default!r} changes {primary}."


def _idea(name, title, hypothesis, overrides, parameters, primary) -> IdeaDraft:
    changed = ", ".join(f"{k} = {v!r} (baseline {parameters[k]['default']!r})" for k, v in overrides.items())
    return IdeaDraft(
        name=name, title=title, hypothesis=hypothesis,
        related_work="Chosen by the offline engine from the template's parameter space; no literature was read.",
        abstract=f"A one-factor experiment on the template: {changed}, all else as in the baseline. "
                 f"We measure {primary} and the template's other metrics against the baseline.",
        experiments=[f"run the baseline and the variant with {changed}; compare {primary} with the baseline"],
        risks=["a single seed may not separate the variant from noise", "one factor at a time misses interactions"],
        parameters=overrides,
    )


def _slug(value) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(value).lower()).strip("_")[:20] or "value"


def _offline_reflect(inputs: dict[str, Any]) -> IdeaDraft:
    return IdeaDraft.model_validate(inputs["idea"])  # never called: the offline engine runs no reflection rounds


PROPOSE = Task("ideation.propose", "ideation", IdeaBatch, _offline_ideas, temperature=0.9, max_tokens=6000)
REFLECT = Task("ideation.reflect", "ideation", IdeaDraft, _offline_reflect, temperature=0.3, max_tokens=3000)


# --- the runner's view ----------------------------------------------------------------------------
def inputs(ctx) -> Any:
    """Besides the configuration: the bibliographies ideation reads (the template's, seeded into
    the study library, and the user library). The study library itself is left out on purpose:
    the novelty check adds the papers it read to it, which must not make ideation stale."""
    user = ctx.config.literature.user_library_path(ctx.study.root)
    if user is not None and user.is_dir():
        user = user / "library.bib"
    return {"template_bib": file_digest(ctx.template.references_bib),
            "user_library": file_digest(user) if user is not None else None}


def run(ctx) -> None:
    _Ideation(ctx).run()


# --- the library search behind each idea ---------------------------------------------------------
def idea_query(idea) -> str:
    """The library query behind an idea: its title and hypothesis (terms are OR-ed and BM25-ranked)."""
    return f"{idea.title} {idea.hypothesis}"


def search_library(library: Library, idea, limit: int, background: frozenset[str] = frozenset()) -> Retrieval:
    """The papers of the library closest to the idea, each with its BM25 score and the
    scale-free share of the idea's terms it mentions (`background`: terms left out)."""
    query = idea_query(idea)
    words = idea_terms(idea, background)
    papers = []
    for hit in library.search(query, limit):
        ref = hit.reference
        share, matched = coverage(words, f"{ref.title} {ref.abstract} {ref.keywords}")
        papers.append(RetrievedPaper(key=ref.key, title=ref.title, year=ref.year, origin=hit.origin,
                                     bm25=float(f"{hit.score:.4g}"), overlap=round(share, 3), matched=matched))
    return Retrieval(query=query, papers=papers, searched=describe_library(library))


def rerun_retrieval(study_dir, name: str):
    """For the ideation notebook: the library search behind idea `name`, run again now, next
    to what was recorded when the idea was made (a DataFrame)."""
    import pandas as pd

    from aisci.study import Study

    study = Study.open(study_dir)
    idea = next((i for i in Ideas.load(study).ideas if i.name == name), None)
    if idea is None:
        raise LiteratureError(f"no idea {name!r} in {study.path('ideas', 'ideas.json')}")
    recorded = {p.key for p in idea.retrieval.papers} if idea.retrieval else set()
    with open_library(study) as library:
        retrieval = search_library(library, idea, max(study.config.ideation.papers_per_idea, len(recorded), 1),
                                   template_background(study.template().manifest))
    rows = [{**p.model_dump(include={"key", "title", "year", "origin", "bm25", "overlap"}),
             "recorded": p.key in recorded} for p in retrieval.papers]
    print(f"query: {retrieval.query!r} over the {retrieval.searched}")
    return pd.DataFrame(rows, columns=["key", "title", "year", "origin", "bm25", "overlap", "recorded"])


# --- the phase ------------------------------------------------------------------------------------
class _Ideation:
    def __init__(self, ctx):
        self.ctx = ctx
        self.settings = ctx.config.ideation
        self.manifest = ctx.template.manifest
        self.offline = ctx.llm.uses_offline_engine("ideation")
        configured = self.settings.reflections
        self.reflections = 0 if self.offline else (MODEL_REFLECTIONS if configured is None else configured)
        self.seeds = [PriorIdea.model_validate({**s, "origin": "seed"}) for s in ctx.template.seed_ideas()]
        self.request = self._request_digest()
        self.archive = read_json(ctx.study.path(*ARCHIVE), default={"runs": []})
        self.archived = [PriorIdea.model_validate({**i, "origin": "earlier run"})
                         for run in self.archive["runs"] if run["request"] != self.request for i in run["ideas"]]
        self.earlier = [*self.seeds, *self.archived]
        self.dropped: list[dict] = []

    def run(self) -> None:
        ctx = self.ctx
        with open_library(ctx.study, ctx.warn) as library:
            self._seed_library(library)
            self.searched = describe_library(library)
            ideas = self._propose(library)
            self._search_each(ideas, library)
            for idea in ideas:
                idea.rubric = self._rubric(idea, ideas)
            ideas = [self._reflect(idea, ideas, library) for idea in ideas]
        Ideas(author=self.author, ideas=ideas, dropped=self.dropped, reflections=self.reflections,
              earlier_ideas=len(self.earlier), library=self.searched, request=self.request).save(ctx.study)
        self._archive(ideas)
        ctx.execute_phase_notebook(self._notebook(ideas), ctx.study.path("ideas", "ideation.ipynb"), label="ideation")

    def _propose(self, library: Library) -> list[Idea]:
        result = self.ctx.llm.run(PROPOSE, **self._task_inputs(library))
        self.author = result.author
        ideas = self._keep_distinct([self._as_idea(d) for d in result.output.ideas])
        if len(ideas) < self.settings.num_ideas:
            self.ctx.warn(f"ideation kept {len(ideas)} of the {self.settings.num_ideas} ideas asked for: the rest "
                          + ("repeat seed ideas or earlier runs' ideas (ideas/archive.json), or the template's "
                             "parameter space has no other setting" if self.offline else
                             "were near-duplicates or never proposed") + " (see ideas/ideation.ipynb)")
        return ideas

    def _search_each(self, ideas: list[Idea], library: Library) -> None:
        """The library search behind each idea; on the offline engine also its word-comparison
        differences (a model states its own in the reflection rounds)."""
        background = template_background(self.manifest)
        for idea in ideas:
            idea.retrieval = search_library(library, idea, self.settings.papers_per_idea, background)
            if self.offline:
                idea.differences = offline_differences(idea, idea.retrieval.papers,
                                                       self.ctx.config.novelty.similarity_threshold, background)

    # --- inputs ---------------------------------------------------------------------------------
    def _request_digest(self) -> str:
        """What defines this run's request, the archive aside: ideas of runs with another digest
        are earlier ideas; a rerun of the same request (say, after a gate changed) reuses the
        same inputs, so its model calls are answered from the call store."""
        settings = self.settings.model_dump(exclude={"select"})
        return sha256_of({"topic": self.ctx.config.study.topic, "manifest": self.manifest.model_dump(mode="json"),
                          "seeds": [s.model_dump() for s in self.seeds], "ideation": settings,
                          "model": self.ctx.llm.spec_for("ideation").model})

    def _seed_library(self, library: Library) -> None:
        seed_library(library, self.ctx.template.references_bib, self.ctx.warn)

    def _task_inputs(self, library: Library) -> dict[str, Any]:
        topic_papers = library.search(f"{self.ctx.config.study.topic} {self.manifest.title}",
                                      max(self.settings.papers_per_idea, 1) * 2)
        return {
            "topic": self.ctx.config.study.topic,
            "template_description": self.manifest.description,
            "metrics": {k: m.model_dump() for k, m in self.manifest.metrics.items()},
            "primary_metric": self.manifest.primary_metric,
            "parameters": {k: p.model_dump() for k, p in self.manifest.parameters.items()},
            "seed_parameter": self.manifest.seed_parameter,
            "earlier_ideas": [e.model_dump() for e in self.earlier],
            "template_code": self._code_outline(),
            "num_ideas": self.settings.num_ideas,
            "library_papers": [_paper_for_prompt(hit.reference) for hit in topic_papers],
        }

    def _code_outline(self) -> list[dict]:
        """The template's code cells in brief (id, section, first lines): what a method change can touch."""
        return cellplan.code_outline(self.ctx.template.baseline())

    def _code_cells(self) -> dict[str, bool]:
        return {c["id"]: c["parameters_cell"] for c in self._code_outline()}

    def _as_idea(self, draft: IdeaDraft) -> Idea:
        seed = next((s for s in self.seeds if s.name == draft.name and
                     canonical_parameters(s.parameters) == canonical_parameters(draft.parameters)), None)
        origin = "seed" if seed is not None and self.offline else self.author
        return Idea(**draft.model_dump(), origin=origin)

    # --- near-duplicates ------------------------------------------------------------------------
    def _keep_distinct(self, proposals: list[Idea]) -> list[Idea]:
        """The first `num_ideas` proposals that repeat no seed idea, no earlier run's idea and
        no proposal kept before them; each dropped one is recorded with its reason."""
        threshold = self.settings.duplicate_threshold
        kept: list[Idea] = []
        for idea in proposals:
            if len(kept) == self.settings.num_ideas:
                break
            if idea.origin == "seed" and (ratio := compute_ratio(idea.parameters, self.manifest)) > MAX_COMPUTE_RATIO:
                self._drop(idea, None, f"seed idea over the compute limit: estimated {ratio:.2g}x the baseline's "
                           f"compute, more than the {MAX_COMPUTE_RATIO:g}x a feasible idea may use", "feasibility")
                continue
            earlier = [e for e in self.earlier if not (idea.origin == "seed" and e.name == idea.name)]
            found = first_duplicate(idea, [*kept, *earlier], threshold)
            if found is None and any(k.name == idea.name for k in kept):
                found = next(k for k in kept if k.name == idea.name), "has the same name"
            if found is not None:
                other, reason = found
                self._drop(idea, other, reason, "proposal")
                continue
            kept.append(idea)
        return kept

    def _drop(self, idea: Idea, other, reason: str, stage: str) -> None:
        """`other` is the idea it repeats; None when it is dropped for what it is (stage "feasibility")."""
        origin = (getattr(other, "origin", "") or "this run") if other is not None else None
        self.dropped.append({"name": idea.name, "title": idea.title, "parameters": idea.parameters,
                             "duplicate_of": other.name if other is not None else None, "duplicate_origin": origin,
                             "reason": reason, "stage": stage})
        (self.ctx.warn if other is None else self.ctx.say)(f"ideation: dropped {idea.name}: {reason}")

    def _rubric(self, idea: Idea, ideas: list[Idea]):
        return checklist_rubric(idea, self.manifest, ideas, earlier=self.earlier,
                                duplicate_threshold=self.settings.duplicate_threshold, code_cells=self._code_cells())

    # --- reflection -----------------------------------------------------------------------------
    def _reflect(self, idea: Idea, ideas: list[Idea], library: Library) -> Idea:
        """Up to K rounds: the model sees the idea, its rubric and the papers retrieved for it,
        and returns the whole idea revised. A revision is kept unless it scores lower or
        repeats another idea; a round that changes nothing ends the rounds."""
        draft_fields = set(IdeaDraft.model_fields)
        papers = [_paper_for_prompt(library.get(p.key)) if library.get(p.key) is not None else p.model_dump()
                  for p in (idea.retrieval.papers if idea.retrieval else [])]
        for round_number in range(1, self.reflections + 1):
            result = self.ctx.llm.run(
                REFLECT, topic=self.ctx.config.study.topic, parameters={k: p.model_dump() for k, p in
                                                                        self.manifest.parameters.items()},
                template_code=self._code_outline(),
                idea=idea.model_dump(include=draft_fields), rubric=[r.model_dump() for r in idea.rubric],
                papers=papers, round=round_number, rounds=self.reflections)
            revised = Idea(**{**result.output.model_dump(), "name": idea.name}, origin=idea.origin,
                           retrieval=idea.retrieval, reflections=idea.reflections)
            if revised.model_dump(include=draft_fields) == idea.model_dump(include=draft_fields):
                idea.reflections = [*idea.reflections, ReflectionStep(
                    round=round_number, score_before=idea.score, score_after=idea.score, kept=False,
                    note="the model changed nothing; rounds end here")]
                break
            others = [o for o in ideas if o.name != idea.name]
            earlier = [e for e in self.earlier if not (idea.origin == "seed" and e.name == idea.name)]
            revised.rubric = self._rubric(revised, [revised, *others])
            duplicate = first_duplicate(revised, [*others, *earlier], self.settings.duplicate_threshold)
            if duplicate is not None:
                note = f"revision discarded: it {duplicate[1]}; rounds end here"
            elif revised.score < idea.score:
                note = f"revision discarded: it scores {revised.score}, below {idea.score}; rounds end here"
            else:
                note = "revision kept"
            step = ReflectionStep(round=round_number, score_before=idea.score, score_after=revised.score,
                                  kept=note == "revision kept", note=note)
            if not step.kept:
                idea.reflections = [*idea.reflections, step]
                break
            revised.reflections = [*idea.reflections, step]
            idea = revised
        return idea

    # --- the archive ----------------------------------------------------------------------------
    def _archive(self, ideas: list[Idea]) -> None:
        """This run's ideas join the archive (replacing an earlier run of the same request)."""
        runs = [r for r in self.archive["runs"] if r["request"] != self.request]
        runs.append({"request": self.request, "at": now_iso(), "author": self.author,
                     "topic": self.ctx.config.study.topic,
                     "ideas": [i.model_dump(include={"name", "title", "hypothesis", "parameters", "method_change"})
                               for i in ideas]})
        atomic_write_json(self.ctx.study.path(*ARCHIVE), {"runs": runs})

    # --- the notebook ---------------------------------------------------------------------------
    def _notebook(self, ideas: list[Idea]):
        ctx, author = self.ctx, self.author
        if self.offline:
            reflection = ("Reflection rounds: none — the offline engine's reflection would return each idea "
                          "unchanged, so it is skipped" + (f" ([ideation] reflections = {self.settings.reflections} "
                                                           "is ignored here)" if self.settings.reflections else "")
                          + ". The differences from papers are the offline engine's word comparison, not a reading. "
                          "The offline engine proposes parameter settings only; a language model may also propose "
                          "changes to the method, which the experiments then implement as code.")
        else:
            reflection = f"Reflection rounds: up to {self.reflections} per idea (each round's outcome is on its card)."
        nb = build.notebook("Ideation", author, intro=(
            f"Topic: **{ctx.config.study.topic}** — template `{ctx.template.name}`. "
            f"Earlier ideas given to the task: {len(self.seeds)} seed idea(s) and {len(self.archived)} from earlier "
            f"runs (`archive.json`). Each idea was searched in the {self.searched}. {reflection}\n\n"
            "Each card shows the idea and its checklist score: one point per criterion, with the reason."))
        if self.dropped:
            lines = "\n".join(f"- `{d['name']}` ({d['title']}) — {d['reason']}" for d in self.dropped)
            nb.cells.append(build.markdown(f"## Dropped ideas\n\nNear-duplicates, and seed ideas over the compute "
                                           f"limit:\n\n{lines}", build.AISCI_AUTHOR))
        for rank, idea in enumerate(sorted(ideas, key=lambda i: -i.score), start=1):
            nb.cells.append(build.markdown(_card(rank, idea), author, idea=idea.name))
            if idea.retrieval is not None:
                nb.cells.append(build.code(
                    f"# the library search behind `{idea.name}`, run again (recorded = found when the idea was made)\n"
                    f"rerun_retrieval('..', {idea.name!r})", idea=idea.name))
        nb.cells.insert(1, build.code(
            "import json\nimport pandas as pd\n\nfrom aisci.phases.ideation import rerun_retrieval\n\n"
            "ideas = json.load(open('ideas.json'))['ideas']\n"
            "pd.DataFrame([{'name': i['name'], 'score': sum(r['passed'] for r in i['rubric']), "
            "'of': len(i['rubric']), 'parameters': i['parameters']} for i in ideas])"
            ".sort_values('score', ascending=False)"))
        return nb


def _paper_for_prompt(ref) -> dict:
    abstract = ref.abstract[:ABSTRACT_CHARS] + ("…" if len(ref.abstract) > ABSTRACT_CHARS else "")
    return {"key": ref.key, "title": ref.title, "year": ref.year, "venue": ref.venue, "abstract": abstract}


def _card(rank: int, idea: Idea) -> str:
    rubric = "\n".join(f"- {'✅' if r.passed else '❌'} {r.criterion} — {r.reason}" for r in idea.rubric)
    params = ", ".join(f"`{k} = {v!r}`" for k, v in idea.parameters.items()) or "none"
    text = (f"## {rank}. {idea.title}\n\n`{idea.name}` · score **{idea.score}/{len(idea.rubric)}**"
            f"{' · seed idea' if idea.origin == 'seed' else ''}\n\n"
            f"**Hypothesis.** {idea.hypothesis}\n\n**Abstract.** {idea.abstract}\n\n**Parameters.** {params}\n\n"
            f"**Experiments.** " + "; ".join(idea.experiments) + "\n\n**Risks.** " + ("; ".join(idea.risks) or "none")
            + (f"\n\n**Related work.** {idea.related_work}" if idea.related_work else ""))
    if idea.retrieval is not None:
        stated = {d.key: d.how for d in idea.differences}
        papers = "\n".join(f"- `{p.key}` {p.title} ({p.year or 'n.d.'}) — BM25 {p.bm25:.3g}, mentions "
                           f"{p.overlap:.0%} of the idea's terms — differs: {stated.get(p.key, '*(not stated)*')}"
                           for p in idea.retrieval.papers) or "- (no paper found)"
        text += f"\n\n**Library search** `{idea.retrieval.query}`:\n{papers}"
    if idea.reflections:
        text += "\n\n**Reflection.**\n" + "\n".join(
            f"- round {s.round}: {s.score_before} → {s.score_after}, {s.note}" for s in idea.reflections)
    return text + f"\n\n**Rubric.**\n{rubric}"
