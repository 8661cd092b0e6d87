"""The state one writeup run shares between its steps: what the paper is made from (filled by
aisci.writeup.facts.gather) and the manuscript the later steps write, check and typeset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisci.artifacts import Analysis, ExperimentSummary
from aisci.paper import disclosure, verify
from aisci.paper.bibliography import Bibliography
from aisci.paper.claims import Evidence
from aisci.paper.code_facts import CodeFacts
from aisci.paper.figures import Figure
from aisci.paper.numbers import Fact
from aisci.paper.style import Style
from aisci.paper.values import Value


@dataclass
class Materials:
    """What the paper is made from; read once, at the start of the run."""

    style: Style
    summary: ExperimentSummary
    analysis: Analysis
    values: list[Value]
    macros: dict[str, str]  # value macro -> typeset value
    ideas: dict[str, Any]
    bib: Bibliography
    figures: list[Figure]
    figure_findings: list[verify.Finding]
    evidence: Evidence
    code: CodeFacts | None = None  # what the executed code did: aisci.paper.code_facts
    template_text: str = ""  # the template's title, description and notebook headings (its author's words)
    facts: list[Fact] = field(default_factory=list)  # what a number in the text may state
    outcome: Any = None  # aisci.paper.outcome.Outcome: its own account when no idea ran or nothing beat the baseline
    code_changes: str = ""  # the best run's diff from the baseline (cells), when it changed code


@dataclass
class Manuscript:
    """The sections as they stand, who wrote them, and what the checks and LaTeX said."""

    texts: dict[str, str] = field(default_factory=dict)
    meta: dict[str, disclosure.SectionAuthor] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)  # sections a person wrote, edited or locked: never rewritten
    findings: list[verify.Finding] = field(default_factory=list)
    history: list[verify.Finding] = field(default_factory=list)  # problems found before a fix
    fixes: dict[str, int] = field(default_factory=dict)  # section -> check-fix rounds it has had
    stuck: set[str] = field(default_factory=set)  # sections whose last fix changed nothing
    rounds: dict[str, int] = field(default_factory=lambda: {"checks": 0, "latex": 0})  # the most any section had
    compile_status: dict[str, Any] = field(default_factory=lambda: {"status": "off"})


@dataclass
class Workspace:
    ctx: Any  # the phase context
    materials: Materials
    manuscript: Manuscript = field(default_factory=Manuscript)

    @property
    def study(self):
        return self.ctx.study

    @property
    def cfg(self):
        return self.ctx.config.paper

    @property
    def paper(self) -> Path:
        return self.study.path("paper")

    @property
    def sections_dir(self) -> Path:
        return self.paper / "sections"

    @property
    def model_fixes(self) -> bool:
        """Whether a model rewrites sections the checks or LaTeX found problems in."""
        return not self.ctx.llm.uses_offline_engine("writeup") and self.cfg.fix_rounds > 0
