"""Research ideas: the pydantic model every phase shares, near-duplicate detection, the
word comparison behind scale-free literature scores, and the checklist rubric."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    # a validator is built on first use, not at import: `aisci status` and a no-op run read no idea
    model_config = ConfigDict(defer_build=True)


class RubricItem(_Model):
    criterion: str
    passed: bool
    reason: str


class Difference(_Model):
    key: str = Field(description="citation key of a retrieved paper")
    how: str = Field(description="how this idea differs from that paper, in a sentence")


class IdeaDraft(_Model):
    """What a model (or the offline engine) writes; aisci adds the rest (see Idea)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$", description="snake_case identifier")
    title: str
    hypothesis: str = Field(description="one falsifiable sentence: what changes, and what it does to which metric")
    related_work: str = ""
    abstract: str
    experiments: list[str] = Field(min_length=1, description="the runs that test the hypothesis")
    risks: list[str] = Field(default_factory=list, description="risks and limitations")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="template parameters this idea sets (may be empty for a method change)")
    method_change: str = Field(default="", description=(
        "what the idea changes in the template's code, and where, in words (e.g. 'add label smoothing 0.1 to the "
        "cross-entropy in the training cell'); empty when it only sets parameters"))
    cells_touched: list[str] = Field(
        default_factory=list, description="ids of the template's code cells the method change edits or adds code after")
    compute: float = Field(default=1.0, gt=0, description="estimated compute of one run relative to the baseline's")
    differences: list[Difference] = Field(
        default_factory=list, description="for each library paper shown with the idea: how the idea differs from it")


class RetrievedPaper(_Model):
    key: str
    title: str
    year: int | None = None
    origin: str = "study"  # the study library or the user library
    bm25: float = 0.0  # the library's BM25 score (ranks within one search; no fixed scale)
    overlap: float = 0.0  # share of the idea's title+hypothesis terms the paper mentions (0..1)
    matched: list[str] = Field(default_factory=list)  # those terms


class Retrieval(_Model):
    """The library search behind an idea, as run during ideation (the notebook reruns it)."""

    query: str
    papers: list[RetrievedPaper] = Field(default_factory=list)
    searched: str = ""  # which libraries, and how many entries they held
    note: str = ""


class ReflectionStep(_Model):
    round: int
    score_before: int
    score_after: int
    kept: bool
    note: str


class Idea(IdeaDraft):
    rubric: list[RubricItem] = Field(default_factory=list)
    origin: str = ""  # who proposed it: "model:NAME", "offline-engine", or "seed" (the template's seed ideas)
    retrieval: Retrieval | None = None
    reflections: list[ReflectionStep] = Field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(item.passed for item in self.rubric)


class IdeaBatch(_Model):
    ideas: list[IdeaDraft]


# --- words: the comparisons behind duplicates and scale-free literature scores -----------------
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z][a-z0-9]*")
_STOPWORD_TEXT = (
    "a an and are as at be by can for from has have how if in into is it its of on or our so such that the their "
    "then there these this those to via was we were what when which while will with would than does do not no "
    "more less higher lower setting set change changes changed relative baseline instead effect effects "
    "improve improves improved using use used")
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def terms(text: str) -> set[str]:
    """Content words (plural 's' stripped) and whole numbers: what two texts are compared on."""
    out = set()
    for token in _TOKEN.findall(text.lower()):
        if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
            token = token[:-1]
        if token in STOPWORDS or (len(token) < 2 and not token[0].isdigit()):
            continue
        out.add(token)
    return out


def idea_terms(idea, background: frozenset[str] = frozenset()) -> set[str]:
    """What an idea claims, as terms: its title and hypothesis, less the template's background."""
    return terms(f"{idea.title} {idea.hypothesis}") - background


def template_background(manifest) -> frozenset[str]:
    """Terms every idea on this template shares, so they say nothing about one idea: the
    metric names (every hypothesis names one) and the baseline's parameter values."""
    words = terms(" ".join(manifest.metrics))
    for parameter in manifest.parameters.values():
        words |= terms(repr(parameter.default)) | terms(str(parameter.default))
    return frozenset(words)


def text_similarity(a, b) -> float:
    """Jaccard overlap of the title+hypothesis terms of two ideas (0..1)."""
    ta, tb = idea_terms(a), idea_terms(b)
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


def coverage(idea_words: set[str], text: str) -> tuple[float, list[str]]:
    """The share of the idea's terms that `text` mentions, and which: a score on one scale
    for every paper, whatever search found it."""
    if not idea_words:
        return 0.0, []
    matched = sorted(idea_words & terms(text))
    return len(matched) / len(idea_words), matched


def canonical_parameters(parameters: dict[str, Any]) -> str:
    """Overrides as comparable text: 0.3 and 0.30 (or 1 and 1.0) are the same setting."""
    def norm(value):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    return json.dumps({k: norm(v) for k, v in parameters.items()}, sort_keys=True)


def method_similarity(a, b) -> float | None:
    """Jaccard overlap of the method-change terms of two ideas; 1.0 when neither changes the
    code, None when only one does (a code change and a pure setting never repeat each other)."""
    ma, mb = (getattr(x, "method_change", "") or "" for x in (a, b))
    if not ma.strip() and not mb.strip():
        return 1.0
    if not ma.strip() or not mb.strip():
        return None
    ta, tb = terms(ma), terms(mb)
    return len(ta & tb) / len(ta | tb) if ta | tb else 1.0


def duplicate_reason(idea, other, threshold: float) -> str | None:
    """Why `idea` repeats `other` (an Idea, a seed or an archived idea), or None.

    Two ideas repeat each other when they change the code alike (or neither changes it) and
    then either set the same parameter overrides or are worded alike on the same
    parameters: two ideas that set different knobs, or change the method differently, run
    different experiments however alike their sentences."""
    mine, theirs = dict(idea.parameters or {}), dict(other.parameters or {})
    method = method_similarity(idea, other)
    if method is None or method < threshold:
        return None
    code = "" if not getattr(idea, "method_change", "") else f", with a method change {method:.0%} alike"
    if (mine or code) and canonical_parameters(mine) == canonical_parameters(theirs):
        shown = ", ".join(f"{k}={v!r}" for k, v in mine.items()) or "no parameters"
        return f"sets the same parameters as {other.name} ({shown}){code}"
    if set(mine) == set(theirs):
        similarity = text_similarity(idea, other)
        if similarity >= threshold:
            knobs = ", ".join(sorted(mine)) or "no parameters"
            return (f"title and hypothesis {similarity:.0%} alike with {other.name}'s (threshold {threshold:.0%}), "
                    f"changing the same parameters ({knobs})")
    return None


def first_duplicate(idea, others: Iterable, threshold: float) -> tuple[Any, str] | None:
    for other in others:
        if other is idea:
            continue
        reason = duplicate_reason(idea, other, threshold)
        if reason:
            return other, reason
    return None


def offline_differences(idea, papers: list[RetrievedPaper], threshold: float,
                        background: frozenset[str] = frozenset()) -> list[Difference]:
    """What the offline engine can say without reading: a paper that mentions few of the
    idea's terms differs by the terms it lacks. A paper at or above the threshold gets no
    statement (the rubric then withholds the point)."""
    words = idea_terms(idea, background)
    changed = ", ".join(f"{k} = {v!r}" for k, v in idea.parameters.items()) or "no parameter"
    out = []
    for paper in papers:
        if paper.overlap >= threshold:
            continue
        missing = sorted(words - set(paper.matched))[:6]
        out.append(Difference(key=paper.key, how=(
            f"word comparison by the offline engine: the paper mentions {len(paper.matched)} of the idea's "
            f"{len(words)} terms ({paper.overlap:.0%}); not {', '.join(missing) or '-'}; the idea tests {changed}")))
    return out


def parameter_problems(idea: Idea, manifest) -> list[str]:
    """Overrides the template does not declare, or values of the wrong type."""
    problems = []
    for name, value in idea.parameters.items():
        param = manifest.parameters.get(name)
        if param is None:
            problems.append(f"{name} is not a parameter of template {manifest.name}")
            continue
        try:
            param.coerce(value)
        except (TypeError, ValueError):
            problems.append(f"{name}={value!r} is not a {param.type}")
    return problems


COMPUTE_WORDS = ("step", "epoch", "layer", "d_model", "hidden", "timestep", "width", "depth", "batch")
MAX_COMPUTE_RATIO = 2.0  # an idea estimated to cost more than this many baselines is not feasible


def method_change_problems(idea: Idea, code_cells: dict[str, bool] | None) -> list[str]:
    """What makes a method change unrunnable as stated: too vague, or touching cells the
    template does not have (or only its parameters cell). code_cells: id -> is parameters cell."""
    if not idea.method_change.strip():
        return []
    problems = []
    if len(idea.method_change.split()) < MIN_METHOD_WORDS:
        problems.append(f"the method change is too vague to implement ({len(idea.method_change.split())} words)")
    if code_cells is not None:
        unknown = [c for c in idea.cells_touched if c not in code_cells]
        if unknown:
            problems.append(f"touches cells the template does not have ({', '.join(unknown)}; code cells: "
                            f"{', '.join(code_cells)})")
        elif not idea.cells_touched:
            problems.append("names no code cell of the template it touches")
        elif all(code_cells[c] for c in idea.cells_touched):
            problems.append("touches only the parameters cell: that is a setting, not a method change")
    return problems


MIN_METHOD_WORDS = 5


def checklist_rubric(idea: Idea, manifest, others: list[Idea], *, earlier: Iterable = (),
                     duplicate_threshold: float = 0.85, code_cells: dict[str, bool] | None = None) -> list[RubricItem]:
    """The rubric: each criterion one point, each with its reason. Deterministic, so the
    offline engine and a model's ideas are scored the same way. `others` are the ideas of
    this run, `earlier` the seed ideas and the archive of earlier runs (a seed idea the
    offline engine proposes as it is is not compared with its own seed)."""
    if idea.origin == "seed":
        earlier = [e for e in earlier if e.name != idea.name]
    primary = manifest.primary_metric
    metrics = list(manifest.metrics)
    names_metric = any(m in idea.hypothesis for m in metrics) or any(
        m.replace("_", " ") in idea.hypothesis.lower() for m in metrics)
    problems = parameter_problems(idea, manifest) + method_change_problems(idea, code_cells)
    ratio = compute_ratio(idea.parameters, manifest) * idea.compute
    compares = any("baseline" in e.lower() for e in idea.experiments)
    return [
        RubricItem(criterion="states a falsifiable hypothesis about a declared metric", passed=names_metric,
                   reason=("the hypothesis names a metric the template measures" if names_metric else
                           f"the hypothesis names none of the measured metrics ({', '.join(metrics)})")),
        RubricItem(criterion="changes something the template can run",
                   passed=bool(idea.parameters or idea.method_change.strip()) and not problems,
                   reason="; ".join(problems) if problems else _what_changes(idea)),
        RubricItem(criterion="feasible within the template's time budget", passed=ratio <= MAX_COMPUTE_RATIO,
                   reason=f"estimated compute {ratio:.2g}x the baseline's (budget {manifest.time_budget_s} s per run)"
                          + (f"; the method change touches cells {', '.join(idea.cells_touched)}"
                             if idea.method_change.strip() and idea.cells_touched else "")),
        _distinct_item(idea, [*others, *earlier], duplicate_threshold),
        RubricItem(criterion="plans a comparison against the baseline", passed=compares,
                   reason="an experiment compares with the baseline" if compares
                   else "no planned comparison with the baseline"),
        RubricItem(criterion=f"targets the primary metric ({primary})", passed=primary in idea.hypothesis
                   or primary.replace("_", " ") in idea.hypothesis.lower(),
                   reason=f"{primary} is the metric the template optimises"),
        _differs_from_papers_item(idea),
    ]


def _what_changes(idea: Idea) -> str:
    parts = []
    if idea.method_change.strip():
        parts.append(f"changes the code: {idea.method_change.strip()}")
    if idea.parameters:
        parts.append(f"sets {', '.join(f'{k}={v!r}' for k, v in idea.parameters.items())}")
    return "; ".join(parts) or "sets no template parameter and changes no code"


def _distinct_item(idea: Idea, candidates: list, threshold: float) -> RubricItem:
    criterion = "differs from the seed ideas and earlier ideas"
    found = first_duplicate(idea, candidates, threshold)
    if found:
        return RubricItem(criterion=criterion, passed=False, reason=found[1])
    rivals = [c for c in candidates if c is not idea]
    if not rivals:
        return RubricItem(criterion=criterion, passed=True, reason="no seed or earlier idea to compare with")
    closest = max(rivals, key=lambda c: text_similarity(idea, c))
    return RubricItem(criterion=criterion, passed=True, reason=(
        f"no other idea makes this change; the most alike in wording is {closest.name} "
        f"({text_similarity(idea, closest):.0%} of title and hypothesis terms shared)"))


MIN_DIFFERENCE_WORDS = 4  # "it is different" states no way


def _differs_from_papers_item(idea: Idea) -> RubricItem:
    criterion = "differs from every retrieved paper in a stated way"
    retrieval = idea.retrieval
    if retrieval is None:
        return RubricItem(criterion=criterion, passed=False, reason="no library search was run for this idea")
    if not retrieval.papers:
        return RubricItem(criterion=criterion, passed=True, reason=(
            f"the library search ({retrieval.searched or 'local library'}) found no paper for "
            f"{retrieval.query!r}; nothing to differ from"))
    stated = {d.key: d.how for d in idea.differences if len(d.how.split()) >= MIN_DIFFERENCE_WORDS}
    missing = [p.key for p in retrieval.papers if p.key not in stated]
    keys = ", ".join(p.key for p in retrieval.papers)
    if missing:
        return RubricItem(criterion=criterion, passed=False, reason=(
            f"no stated difference from {', '.join(missing)} (retrieved: {keys})"))
    return RubricItem(criterion=criterion, passed=True,
                      reason=f"states how it differs from each of the {len(retrieval.papers)} retrieved papers ({keys})")


def compute_ratio(parameters: dict, manifest) -> float:
    """The estimated compute of a run with these overrides, as a multiple of the baseline's: the
    product of value / default over the parameters whose names say they scale the work."""
    ratio = 1.0
    for name, value in parameters.items():
        param = manifest.parameters.get(name)
        if param is None or param.type not in ("int", "float") or not any(w in name for w in COMPUTE_WORDS):
            continue
        try:
            if float(param.default) > 0:
                ratio *= float(value) / float(param.default)
        except (TypeError, ValueError):
            continue
    return ratio
