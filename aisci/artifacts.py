"""What one phase hands to the next: typed artifacts, each a pydantic model with its place in
the study folder, `load` and `save`.

| artifact            | file(s)                                  | produced by  | consumed by                        |
|---------------------|------------------------------------------|--------------|------------------------------------|
| `Ideas`             | ideas/ideas.json                         | ideation     | novelty, experiments, writeup      |
| `NoveltyDecisions`  | ideas/novelty.json                       | novelty      | experiments                        |
| `ExperimentSummary` | experiments/summary.json                 | experiments  | analysis, writeup, review, results |
| `Analysis`          | analysis/summary.json                    | analysis     | writeup                            |
| `Paper`             | paper/paper.md, main.tex, sections/*.tex | writeup      | review                             |
| `Reviews`           | reviews/meta-review.json, checks.json    | review       | the review panel, `aisci status`   |

Phases import these, never each other; so do `paper/`, `review/`, `widgets/`, `results.py`
and the API. The runner reads each phase's `CONSUMES` and `PRODUCES` to know which files a
phase's result depends on and which it leaves (see aisci/runner.py).

Every model allows fields it does not name, so a file written by a newer aisci (or by hand)
loads and saves without losing them. Saving writes sorted JSON atomically, as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from aisci import gates
from aisci.fsutil import atomic_write_json, read_json
from aisci.ideas import Idea
from aisci.paper.sections import SECTIONS
from aisci.search.node import Node


def study_root(where) -> Path:
    """A Study, or the path of a study folder (what the notebooks have), as its root."""
    return Path(where) if isinstance(where, (str, os.PathLike)) else Path(where.root)


class Artifact(BaseModel):
    """A hand-off between phases. FILES are relative to the study folder; the first is the
    one `load` reads and `save` writes (the others a phase writes beside it)."""

    # a model's validator is built when first used: `aisci status` reads one artifact of six
    model_config = ConfigDict(extra="allow", defer_build=True)
    FILES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def path(cls, where) -> Path:
        return study_root(where) / cls.FILES[0]

    @classmethod
    def exists(cls, where) -> bool:
        return cls.path(where).exists()

    @classmethod
    def load(cls, where):
        """The artifact on disk, or an empty one when its phase has not run yet."""
        data = read_json(cls.path(where), default=None)
        return cls() if data is None else cls.model_validate(cls._from_file(data))

    def save(self, where) -> Path:
        path = self.path(where)
        atomic_write_json(path, self._to_file())
        return path

    def as_json(self) -> Any:
        """What the file holds, as JSON values."""
        return self._to_file()

    @classmethod
    def _from_file(cls, data: Any) -> Any:
        return data

    def _to_file(self) -> Any:
        return self.model_dump(mode="json")


# --- ideation -> novelty, experiments, writeup ---------------------------------------------------
class Ideas(Artifact):
    FILES: ClassVar[tuple[str, ...]] = ("ideas/ideas.json",)

    author: str = ""
    ideas: list[Idea] = Field(default_factory=list)
    dropped: list[dict[str, Any]] = Field(default_factory=list)  # near-duplicates left out, with the reason
    reflections: int = 0
    earlier_ideas: int = 0
    library: str = ""  # the libraries searched, in words
    request: str | None = None  # digest of what the ideas were asked from

    def by_name(self) -> dict[str, Idea]:
        return {idea.name: idea for idea in self.ideas}


def approved_ideas(study) -> list[Idea]:
    """The ideas the ideas gate let through, in the order chosen, as a person edited them."""
    ideas = gates.apply_idea_edits(study, Ideas.load(study).ideas)
    chosen = gates.selection(study, "ideas", [i.name for i in ideas], [i.score for i in ideas],
                             study.config.ideation.select)
    by_name = {i.name: i for i in ideas}
    return [by_name[n] for n in chosen]


# --- novelty -> experiments ----------------------------------------------------------------------
class NoveltyDecision(BaseModel):
    """One idea's verdict, the evidence behind it and how it was reached."""

    model_config = ConfigDict(extra="allow")

    novel: bool = True
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    summary: str = ""
    author: str = ""
    queries: list[str] = Field(default_factory=list)  # the searches made, in order
    papers: list[dict[str, Any]] = Field(default_factory=list)  # the closest papers found, as shown


class NoveltyDecisions(Artifact):
    """idea name -> its novelty decision (the file is that mapping)."""

    FILES: ClassVar[tuple[str, ...]] = ("ideas/novelty.json",)

    decisions: dict[str, NoveltyDecision] = Field(default_factory=dict)

    @classmethod
    def _from_file(cls, data: Any) -> Any:
        return {"decisions": data}

    def _to_file(self) -> Any:
        return self.model_dump(mode="json")["decisions"]


def novel_ideas(study) -> list[Idea]:
    """Approved ideas that pass the novelty gate: judged novel, or overridden by a person.
    The latest verdict naming an idea wins: approve lets a "not novel" idea go on, reject
    stops a novel one."""
    decisions = NoveltyDecisions.load(study).decisions
    if study.config.gates.novelty == "stop" and not gates.decided(study, "novelty"):
        raise gates.stop(study, "novelty")
    verdicts = gates.item_verdicts(study, "novelty")
    return [idea for idea in approved_ideas(study) if verdicts.get(idea.name) != "reject"
            and (verdicts.get(idea.name) == "approve" or _judged_novel(decisions.get(idea.name)))]


def _judged_novel(decision: NoveltyDecision | None) -> bool:
    return True if decision is None else decision.novel


# --- experiments -> analysis, writeup, review ------------------------------------------------------
class ExperimentSummary(Artifact):
    """Every node of every idea's tree (baseline included) and which is best."""

    FILES: ClassVar[tuple[str, ...]] = ("experiments/summary.json",)

    primary_metric: str = ""
    direction: str = ""
    best: str | None = None  # the approved best node, else the best by the primary metric
    best_by_metric: str | None = None
    approved_best: str | None = None
    best_per_idea: dict[str, str | None] = Field(default_factory=dict)
    replicas: dict[str, Any] = Field(default_factory=dict)
    search: dict[str, Any] = Field(default_factory=dict)  # the [search] settings the tree ran with
    nodes: list[Node] = Field(default_factory=list)  # rows without their records (node.json has them)

    def _to_file(self) -> Any:
        return self.model_dump(mode="json", exclude={"nodes": {"__all__": {"records"}}})

    def node(self, node_id: str | None) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    @property
    def best_node(self) -> Node | None:
        return self.node(self.best)


# --- analysis -> writeup ------------------------------------------------------------------------------
class Analysis(Artifact):
    FILES: ClassVar[tuple[str, ...]] = ("analysis/summary.json",)

    records: dict[str, Any] = Field(default_factory=dict)  # record name -> value
    figures: list[dict[str, Any]] = Field(default_factory=list)  # path, name, caption, cell_index
    observations: list[str] = Field(default_factory=list)
    author: str = ""
    notes: list[str] = Field(default_factory=list)  # model-written analysis cells dropped, and why
    built_code: list[str] = Field(default_factory=list)  # hashes of the code cells aisci wrote
    edited_by_person: bool = False


# --- writeup -> review ----------------------------------------------------------------------------------
class Paper(Artifact):
    """The paper as the review reads it: paper.md (the text above APPENDIX_MARK is the paper;
    below it, how it was made) and the section files in their order."""

    FILES: ClassVar[tuple[str, ...]] = (
        "paper/paper.md", "paper/main.tex", "paper/values.tex", "paper/references.bib", "paper/checks.json",
        *(f"paper/sections/{s}.tex" for s in SECTIONS))
    SECTIONS: ClassVar[tuple[str, ...]] = SECTIONS
    APPENDIX_MARK: ClassVar[str] = "<!-- appendix: how this paper was made -->"  # reviewers read above it

    markdown: str = ""

    @classmethod
    def load(cls, where) -> "Paper":
        path = cls.path(where)
        return cls(markdown=path.read_text(encoding="utf-8") if path.exists() else "")

    def save(self, where) -> Path:
        from aisci.fsutil import atomic_write_text

        path = self.path(where)
        atomic_write_text(path, self.markdown)
        return path

    @property
    def body(self) -> str:
        """The paper without the appendix on how it was made."""
        return self.markdown.split(self.APPENDIX_MARK)[0]


APPENDIX_MARK = Paper.APPENDIX_MARK


# --- review -> the review panel, status ---------------------------------------------------------------
class Reviews(Artifact):
    """The meta-review (the file `load` reads), the grounded checks and the ensemble's reviews."""

    FILES: ClassVar[tuple[str, ...]] = ("reviews/meta-review.json", "reviews/checks.json")

    meta_review: dict[str, Any] = Field(default_factory=dict)
    checks: list[dict[str, Any]] = Field(default_factory=list)
    reviews: list[dict[str, Any]] = Field(default_factory=list)  # review-1.json, review-2.json, ...

    @classmethod
    def load(cls, where) -> "Reviews":
        folder = study_root(where) / "reviews"
        numbered = sorted(folder.glob("review-*.json"), key=lambda p: int(p.stem.split("-")[1])
                          if p.stem.split("-")[1].isdigit() else 0)
        return cls(meta_review=read_json(folder / "meta-review.json", default={}) or {},
                   checks=read_json(folder / "checks.json", default=[]) or [],
                   reviews=[read_json(p, default={}) for p in numbered])

    def save(self, where) -> Path:
        folder = study_root(where) / "reviews"
        for index, review in enumerate(self.reviews, 1):
            atomic_write_json(folder / f"review-{index}.json", review)
        atomic_write_json(folder / "checks.json", self.checks)
        atomic_write_json(folder / "meta-review.json", self.meta_review)
        return folder / "meta-review.json"


ARTIFACTS: tuple[type[Artifact], ...] = (Ideas, NoveltyDecisions, ExperimentSummary, Analysis, Paper, Reviews)
