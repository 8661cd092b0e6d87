"""aisci.toml: the study's configuration, validated with pydantic.

Every mistake is reported as one line naming the key. API keys never live here: an
endpoint names the environment variable that holds its key.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aisci.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "aisci.toml"
ROLES = ("ideation", "novelty", "experiments", "analysis", "writeup", "review")
GatePolicy = Literal["auto", "stop"]
LITERATURE_SOURCES = ("semantic_scholar", "openalex", "arxiv", "crossref")  # aisci.literature.sources.SOURCES


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StudySection(Section):
    topic: str = Field(min_length=3)
    template: str = "template"  # folder inside the study holding the copied template
    template_source: str = ""  # where the copy came from (name or path), for the record


class Endpoint(Section):
    base_url: str | None = None  # None: the provider's default (api.openai.com for openai)
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    structured_output: Literal["json_schema", "json_object"] = "json_schema"


class Price(Section):
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class ModelCapability(Section):
    """What a model accepts, said up front (else learned from its first 400 answer and kept
    in llm/models.json): the o-series and gpt-5 take no temperature and want
    max_completion_tokens instead of max_tokens."""

    temperature: bool = True
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"


class LLMSection(Section):
    default: str = "offline"  # offline | openai:MODEL | ollama:MODEL | vllm:MODEL@URL | endpoint:NAME
    roles: dict[str, str] = Field(default_factory=dict)
    endpoints: dict[str, Endpoint] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)
    capabilities: dict[str, ModelCapability] = Field(default_factory=dict)  # by model name
    cache: Literal["live", "replay", "off"] = "live"
    timeout_s: float = Field(default=120, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_s: float = Field(default=1.0, ge=0)
    max_backoff_s: float = Field(default=30.0, ge=0)
    temperature: float = Field(default=0.7, ge=0, le=2)
    # malformed answers (bad JSON, schema-invalid, cut off): each attempt is a fresh request plus
    # one repair round; after this many attempts the task gives up
    output_attempts: int = Field(default=3, ge=1, le=10)

    def model_for(self, role: str) -> str:
        return self.roles.get(role, self.default)


class BudgetSection(Section):
    max_usd: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)


class IdeationSection(Section):
    num_ideas: int = Field(default=3, ge=1, le=50)
    select: int = Field(default=2, ge=1, le=50)  # ideas the `auto` gate approves (top by score)
    # reflection rounds per idea; None: 3 with a model, 0 on the offline engine (its reflection
    # would return the idea unchanged, so rounds there are skipped and the notebook says so)
    reflections: int | None = Field(default=None, ge=0, le=10)
    # near-duplicates: title+hypothesis word overlap (Jaccard) at or above this, on the same
    # template parameters, drops the later idea (the same parameter overrides always do)
    duplicate_threshold: float = Field(default=0.85, gt=0, le=1)
    papers_per_idea: int = Field(default=3, ge=0, le=20)  # library papers each idea must say how it differs from


class NoveltySection(Section):
    max_rounds: int = Field(default=3, ge=1, le=10)  # model rounds per idea: read results, decide or search again
    queries_per_round: int = Field(default=2, ge=1, le=5)  # new searches a round may ask for
    results_per_query: int = Field(default=8, ge=1, le=50)  # papers fetched per search and source
    papers_shown: int = Field(default=10, ge=1, le=50)  # papers the model reads (closest first)
    # offline engine: "not novel" when a paper mentions at least this share of the idea's
    # title and hypothesis terms, metric names and baseline values left out (a scale-free
    # score, unlike BM25 or rank-fusion scores)
    similarity_threshold: float = Field(default=0.7, gt=0, le=1)


class LiteratureSection(Section):
    """Where the ideation and novelty phases look for papers."""

    # a .bib file (e.g. a Zotero export) or another study's literature folder, searched
    # read-only alongside the study library; relative to the study folder; "": $AISCI_USER_LIBRARY
    user_library: str = ""
    sources: list[str] = Field(default_factory=lambda: ["semantic_scholar", "openalex", "arxiv", "crossref"])
    offline: bool = False  # local libraries only, even with a model (the offline engine always is)
    max_wait_s: float = Field(default=30, gt=0)  # per source and search: retries and Retry-After waits included
    time_budget_s: float = Field(default=300, gt=0)  # online searching per phase; then the local library only
    base_urls: dict[str, str] = Field(default_factory=dict)  # mirrors (or a local fake), by source name or "doi"

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in LITERATURE_SOURCES]
        if unknown:
            raise ValueError(f"unknown source {unknown[0]!r} (sources: {', '.join(LITERATURE_SOURCES)})")
        return names

    @field_validator("base_urls")
    @classmethod
    def _known_services(cls, urls: dict[str, str]) -> dict[str, str]:
        unknown = [n for n in urls if n not in (*LITERATURE_SOURCES, "doi")]
        if unknown:
            raise ValueError(f"unknown service {unknown[0]!r} (services: {', '.join(LITERATURE_SOURCES)}, doi)")
        return urls

    def user_library_path(self, study_root: Path) -> Path | None:
        """The user library: this section's path (relative to the study), else $AISCI_USER_LIBRARY."""
        value = self.user_library or os.environ.get("AISCI_USER_LIBRARY", "")
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path(study_root) / path


class ExperimentsSection(Section):
    timeout_s: int = Field(default=900, gt=0)  # wall-time limit per experiment notebook (init: 15x template budget)
    executor: Literal["local", "dask"] = "local"
    workers: int = Field(default=1, ge=1)  # nodes run at once (local pool processes, or LocalCluster workers)
    dask_scheduler: str | None = None  # e.g. "tcp://head:8786" (dask-jobqueue, dask-kubernetes); None: a LocalCluster
    overrides: dict[str, int | float | str | bool] = Field(default_factory=dict)  # applied to every node
    # the sandboxed kernel of experiment nodes (see aisci/notebook/sandbox.py)
    sandbox: bool = True
    memory_mb: int | None = Field(default=8192, ge=64)  # address space per kernel process
    cpu_seconds: int | None = Field(default=3600, gt=0)  # CPU time per kernel process (all its threads)
    max_processes: int | None = Field(default=256, ge=8)  # processes and threads of a kernel's whole tree
    allow_network: bool = False


class SearchSection(Section):
    """The experiment tree search, per idea. The defaults keep an offline study on a shipped
    template within minutes on 2 cores: one draft and one improvement per idea, no seed
    replicas. Raise them for a real search."""

    num_drafts: int = Field(default=1, ge=1, le=20)  # first implementations of each idea
    max_nodes: int = Field(default=2, ge=1, le=200)  # nodes per idea, debug nodes included (human nodes are extra)
    debug_probability: float = Field(default=1.0, ge=0, le=1)  # chance a failed leaf is debugged before improving
    max_debug_depth: int = Field(default=2, ge=0, le=10)  # debug nodes in a row on one branch
    time_budget_s: float = Field(default=1800, gt=0)  # node run time per idea; no node starts past it
    num_seeds: int = Field(default=0, ge=0, le=20)  # replicas of each idea's best node (0 or 1: none)
    staged: bool = False  # implementation -> tuning -> research -> ablations, each from the previous best
    nodes_per_stage: int = Field(default=2, ge=1, le=50)  # staged mode: nodes in the tuning and research stages
    seed: int = 0  # makes the debug-or-improve draws repeatable


class PaperSection(Section):
    compile: bool = True
    compile_timeout_s: int = Field(default=180, gt=0)
    # a venue's style folder supplied by the user (ICLR / NeurIPS .sty, .bst or .cls), relative to
    # the study folder or absolute; empty: aisci's own venue-neutral article layout
    style_dir: str = ""
    style_options: str = ""  # options for the venue package, e.g. "final" or "preprint" for NeurIPS
    preamble: str = ""  # extra LaTeX lines for the preamble, e.g. "\\iclrfinalcopy"
    author: str = "aisci"
    fix_rounds: int = Field(default=2, ge=0, le=5)  # model rewrites per section for check / LaTeX problems
    chktex: bool = True  # lint the sections with chktex when it is installed
    max_references: int = Field(default=60, ge=1, le=1000)  # library entries offered to the writeup


class ReviewSection(Section):
    num_reviews: int = Field(default=1, ge=1, le=10)  # ensemble size (The AI Scientist: 5)
    num_reflections: int = Field(default=0, ge=0, le=10)  # reflection rounds per review (The AI Scientist: 5)
    temperature: float = Field(default=0.7, ge=0, le=2)  # of the reviews and their reflections
    persona: str = "neutral"  # strict | neutral | lenient (aisci/prompts/review.persona.NAME.txt) or a .txt path
    few_shot: list[str] = Field(default_factory=list)  # example files: {"paper": PATH, "review": {...}} (JSON)
    few_shot_max_chars: int = Field(default=6000, ge=200)  # of each example paper shown to the reviewer
    accept_threshold: int = Field(default=6, ge=1, le=10)
    check_penalty_cap: int = Field(default=3, ge=0, le=9)  # meta-review Overall loses 1 per failed check, at most this
    code_max_chars: int = Field(default=40000, ge=1000)  # of the code shown to the method-vs-code comparison


class GatesSection(Section):
    ideas: GatePolicy = "auto"
    novelty: GatePolicy = "auto"
    experiments: GatePolicy = "auto"
    review: GatePolicy = "auto"


class StudyConfig(Section):
    study: StudySection
    llm: LLMSection = Field(default_factory=LLMSection)
    budget: BudgetSection = Field(default_factory=BudgetSection)
    ideation: IdeationSection = Field(default_factory=IdeationSection)
    novelty: NoveltySection = Field(default_factory=NoveltySection)
    literature: LiteratureSection = Field(default_factory=LiteratureSection)
    experiments: ExperimentsSection = Field(default_factory=ExperimentsSection)
    search: SearchSection = Field(default_factory=SearchSection)
    paper: PaperSection = Field(default_factory=PaperSection)
    review: ReviewSection = Field(default_factory=ReviewSection)
    gates: GatesSection = Field(default_factory=GatesSection)


def load_config(study_dir: Path) -> StudyConfig:
    path = Path(study_dir) / CONFIG_FILE
    if not path.exists():
        raise ConfigError(f"{path}: not found (is {study_dir} a study folder? create one with `aisci init`)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(raw, str(path))


def parse_config(raw: dict, where: str = CONFIG_FILE) -> StudyConfig:
    try:
        config = StudyConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {key}: {message}{more}") from None
    unknown_roles = set(config.llm.roles) - set(ROLES)
    if unknown_roles:
        raise ConfigError(f"{where}: llm.roles.{sorted(unknown_roles)[0]}: unknown role (roles: {', '.join(ROLES)})")
    _check_model_specs(config.llm, where)
    return config


def _check_model_specs(llm: "LLMSection", where: str) -> None:
    """Every model the study names must parse now, not when its phase comes round."""
    from aisci.llm.spec import parse_spec  # spec imports this module

    for key, text in [("llm.default", llm.default), *((f"llm.roles.{r}", m) for r, m in llm.roles.items())]:
        try:
            parse_spec(text, llm)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from None


def dump_config(config: StudyConfig, note: str = "") -> str:
    header = (
        "# aisci study configuration. API keys never go here: an endpoint names the\n"
        "# environment variable holding its key (api_key_env).\n"
    )
    if note:
        import textwrap

        header += "".join(f"# {line}\n" for line in textwrap.wrap(note, 96))
    return header + tomli_w.dumps(config.model_dump(mode="json", exclude_none=True))
