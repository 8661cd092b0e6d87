"""aisci.toml: the study's configuration, validated with pydantic.

Every mistake is reported as one line naming the key. API keys never live here: an
endpoint names the environment variable that holds its key.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aisci.constants import PHASE_NAMES
from aisci.errors import ConfigError
from aisci.execution.sandbox import SandboxSettings  # the limits' defaults are defined there, once

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "aisci.toml"
ROLES = PHASE_NAMES  # a role per phase: [llm.roles] names the model answering it
GatePolicy = Literal["auto", "stop"]
LITERATURE_SOURCES = ("semantic_scholar", "openalex", "arxiv", "crossref")  # aisci.literature.sources.SOURCES


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StudySection(Section):
    """The study: what it is about and where its template is."""

    topic: str = Field(min_length=3, description="the research topic, in a sentence")
    template: str = Field(default="template", description="folder inside the study holding the copied template")
    template_source: str = Field(default="", description="where the copy came from (a name or a path), for the record")


class Endpoint(Section):
    """An OpenAI-compatible server, named by `endpoint:NAME` in a model spec."""

    base_url: str | None = Field(default=None, description="the server's URL; unset: the provider's default "
                                                            "(api.openai.com)")
    model: str = Field(description="the model name the server knows")
    api_key_env: str | None = Field(default="OPENAI_API_KEY",
                                    description="the environment variable holding the key (the key never goes here)")
    structured_output: Literal["json_schema", "json_object"] = Field(
        default="json_schema", description="how answers are constrained: json_schema, or json_object where the "
                                           "server lacks it")


class Price(Section):
    """A model's price, for the cost accounting and [budget] max_usd."""

    input_per_mtok: float = Field(ge=0, description="US dollars per million prompt tokens")
    output_per_mtok: float = Field(ge=0, description="US dollars per million completion tokens")


class ModelCapability(Section):
    """What a model accepts, said up front (else learned from its first 400 answer and kept
    in llm/models.json): the o-series and gpt-5 take no temperature and want
    max_completion_tokens instead of max_tokens."""

    temperature: bool = Field(default=True, description="false: the model takes no temperature (o-series, gpt-5)")
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        default="max_tokens", description="the name of the answer-length limit the model accepts")


class LLMSection(Section):
    """Which model answers each role, and how calls are made."""

    default: str = Field(default="offline", description="model for every role: offline | openai:MODEL[@URL] | "
                                                        "ollama:MODEL | vllm:MODEL@URL | endpoint:NAME")
    roles: dict[str, str] = Field(default_factory=dict,
                                  description="a model per role (ideation, novelty, experiments, analysis, writeup, "
                                              "review), overriding default")
    endpoints: dict[str, Endpoint] = Field(default_factory=dict, description="named OpenAI-compatible servers")
    prices: dict[str, Price] = Field(default_factory=dict, description="prices by model name")
    cache: Literal["live", "replay", "off"] = Field(
        default="live", description="call store: live (replay hits, call on misses), replay (a miss is an error), off")
    timeout_s: float = Field(default=120, gt=0, description="seconds to wait for one answer")
    max_retries: int = Field(default=5, ge=0, le=20, description="retries of a failed call (429, 5xx, timeouts)")
    backoff_s: float = Field(default=1.0, ge=0, description="first wait between retries, doubled each time")
    max_backoff_s: float = Field(default=30.0, ge=0, description="longest wait between retries")
    temperature: float = Field(default=0.7, ge=0, le=2, description="sampling temperature of tasks that set none")
    capabilities: dict[str, ModelCapability] = Field(
        default_factory=dict, description="by model name: request parameters it accepts (learned on a 400 otherwise)")
    output_attempts: int = Field(default=3, ge=1, le=10, description=(
        "malformed answers (bad JSON, schema-invalid, cut off): fresh requests, each with one repair round, "
        "before a task gives up"))

    def model_for(self, role: str) -> str:
        return self.roles.get(role, self.default)


class BudgetSection(Section):
    """Limits on LLM spending: a run stops cleanly before the call that would pass one."""

    max_usd: float | None = Field(default=None, ge=0, description="US dollars for the whole study; unset: no limit")
    max_tokens: int | None = Field(default=None, ge=0, description="tokens for the whole study; unset: no limit")


class IdeationSection(Section):
    """Ideas from the topic and the template."""

    num_ideas: int = Field(default=3, ge=1, le=50, description="ideas proposed")
    select: int = Field(default=2, ge=1, le=50, description="ideas the `auto` gate approves (top by score)")
    reflections: int | None = Field(
        default=None, ge=0, le=10,
        description="reflection rounds per idea; unset: 3 with a model, 0 on the offline engine (its reflection "
                    "would return the idea unchanged)")
    duplicate_threshold: float = Field(
        default=0.85, gt=0, le=1,
        description="title+hypothesis word overlap (Jaccard) at or above which a later idea on the same template "
                    "parameters is dropped (the same parameter overrides always are)")
    papers_per_idea: int = Field(default=3, ge=0, le=20,
                                 description="library papers each idea must say how it differs from")


class NoveltySection(Section):
    """The literature check of each approved idea."""

    max_rounds: int = Field(default=3, ge=1, le=10,
                            description="model rounds per idea: read the results, decide or search again")
    queries_per_round: int = Field(default=2, ge=1, le=5, description="new searches a round may ask for")
    results_per_query: int = Field(default=8, ge=1, le=50, description="papers fetched per search and source")
    papers_shown: int = Field(default=10, ge=1, le=50, description="papers the model reads (closest first)")
    similarity_threshold: float = Field(
        default=0.7, gt=0, le=1,
        description="offline engine: not novel when a paper mentions at least this share of the idea's title and "
                    "hypothesis terms (metric names and baseline values left out)")


class LiteratureSection(Section):
    """Where the ideation and novelty phases look for papers."""

    user_library: str = Field(
        default="", description="a .bib file (e.g. a Zotero export) or another study's literature folder, searched "
                                "read-only beside the study library; relative to the study; empty: $AISCI_USER_LIBRARY")
    sources: list[str] = Field(default_factory=lambda: ["semantic_scholar", "openalex", "arxiv", "crossref"],
                               description="online sources: semantic_scholar, openalex, arxiv, crossref")
    offline: bool = Field(default=False, description="local libraries only, even with a model (the offline engine "
                                                     "always is)")
    max_wait_s: float = Field(default=30, gt=0, description="per source and search, retries and Retry-After waits "
                                                            "included")
    time_budget_s: float = Field(default=300, gt=0, description="online searching per phase; then the local "
                                                                "library only")
    base_urls: dict[str, str] = Field(default_factory=dict,
                                      description="mirrors (or a local fake), by source name or \"doi\"")

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
    """How experiment notebooks run: where, how many at once, under which limits."""

    timeout_s: int = Field(default=900, gt=0, description="wall-time limit per experiment notebook (init: 15 times "
                                                          "the template's time budget)")
    executor: Literal["local", "dask"] = Field(default="local", description="local (a process pool) or dask")
    workers: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        default="auto", description="nodes run at once (local pool processes, or LocalCluster workers); \"auto\": as "
                                    "many as the cores this process may use allow, `threads` each")
    threads: int = Field(default=1, ge=1, description="CPU threads of each node's kernel (torch, OpenMP, BLAS): "
                                                      "parallel nodes share the cores instead of each taking all")
    dask_scheduler: str | None = Field(default=None, description="e.g. \"tcp://head:8786\" (dask-jobqueue, "
                                                                 "dask-kubernetes; see docs/cluster.md); unset: a "
                                                                 "LocalCluster")
    overrides: dict[str, int | float | str | bool] = Field(default_factory=dict,
                                                           description="template parameters set on every node")
    # studies from before say true / false: see _old_boolean
    sandbox: Literal["bubblewrap", "none"] = Field(
        default="bubblewrap", description="where generated and hand-written code runs: bubblewrap "
                                          "(aisci/execution/bubblewrap.py), or none (no sandbox; stated in the run log, "
                                          "`aisci status` and the paper's disclosure)")
    sandbox_reason: str = Field(default="", description="why sandbox = \"none\" (disclosed with it)")
    memory_mb: int | None = Field(default=SandboxSettings.memory_mb, ge=64,
                                  description="address space per kernel process, in MB")
    cpu_seconds: int | None = Field(default=SandboxSettings.cpu_seconds, gt=0,
                                    description="CPU time per kernel process (all its threads)")
    max_processes: int | None = Field(default=SandboxSettings.max_processes, ge=8,
                                      description="processes and threads of a kernel's whole tree")
    allow_network: bool = Field(default=False, description="let kernels reach the network")

    @field_validator("sandbox", mode="before")
    @classmethod
    def _old_boolean(cls, value):
        """`sandbox = true` / `false` of earlier studies: the sandbox of its day, or none."""
        if isinstance(value, bool):
            return "bubblewrap" if value else "none"
        return value

    @property
    def sandboxed(self) -> bool:
        return self.sandbox != "none"


class SearchSection(Section):
    """The experiment tree search, per idea. The defaults keep an offline study on a shipped
    template within minutes on 2 cores: one draft and one improvement per idea, no seed
    replicas. Raise them for a real search."""

    num_drafts: int = Field(default=1, ge=1, le=20, description="first implementations of each idea")
    max_nodes: int = Field(default=2, ge=1, le=200, description="nodes per idea, debug nodes included (a person's "
                                                                "nodes are extra)")
    debug_probability: float = Field(default=1.0, ge=0, le=1, description="chance a failed leaf is debugged before "
                                                                          "improving")
    max_debug_depth: int = Field(default=2, ge=0, le=10, description="debug nodes in a row on one branch")
    time_budget_s: float = Field(default=1800, gt=0, description="node run time per idea; no node starts past it")
    num_seeds: int = Field(default=0, ge=0, le=20, description="replicas of each idea's best node (0 or 1: none)")
    staged: bool = Field(default=False, description="implementation -> tuning -> research -> ablations, each from "
                                                    "the previous best")
    nodes_per_stage: int = Field(default=2, ge=1, le=50, description="staged mode: nodes in the tuning and research "
                                                                     "stages")
    seed: int = Field(default=0, description="makes the debug-or-improve draws repeatable")


class PaperSection(Section):
    """The writeup: layout, compile, fix rounds."""

    compile: bool = Field(default=True, description="compile the PDF (needs a LaTeX toolchain)")
    compile_timeout_s: int = Field(default=180, gt=0, description="time limit of one compile")
    style_dir: str = Field(default="", description="a venue's style folder (ICLR / NeurIPS .sty, .bst or .cls), "
                                                   "relative to the study or absolute; empty: aisci's own "
                                                   "venue-neutral layout")
    style_options: str = Field(default="", description="options for the venue package, e.g. \"final\" or "
                                                       "\"preprint\" for NeurIPS")
    preamble: str = Field(default="", description="extra LaTeX lines for the preamble, e.g. \"\\\\iclrfinalcopy\"")
    author: str = Field(default="aisci", description="the author line of the paper")
    fix_rounds: int = Field(default=2, ge=0, le=5, description="model rewrites per section for check or LaTeX "
                                                               "problems")
    chktex: bool = Field(default=True, description="lint the sections with chktex when it is installed")
    max_references: int = Field(default=60, ge=1, le=1000, description="library entries offered to the writeup")


class ReviewSection(Section):
    """The review of the study's paper."""

    num_reviews: int = Field(default=1, ge=1, le=10, description="ensemble size (The AI Scientist: 5)")
    num_reflections: int = Field(default=0, ge=0, le=10, description="reflection rounds per review "
                                                                     "(The AI Scientist: 5)")
    temperature: float = Field(default=0.7, ge=0, le=2, description="of the reviews and their reflections")
    persona: str = Field(default="neutral", description="strict | neutral | lenient "
                                                        "(aisci/prompts/review.persona.NAME.txt) or a .txt path")
    few_shot: list[str] = Field(default_factory=list,
                                description="example files: {\"paper\": PATH, \"review\": {...}} (JSON)")
    few_shot_max_chars: int = Field(default=6000, ge=200, description="of each example paper shown to the reviewer")
    accept_threshold: int = Field(default=6, ge=1, le=10, description="Overall score at or above which a review "
                                                                      "accepts")
    check_penalty_cap: int = Field(default=3, ge=0, le=9, description="the meta-review's Overall loses 1 per failed "
                                                                      "check, at most this")
    code_max_chars: int = Field(default=40000, ge=1000, description="of the code shown to the method-vs-code "
                                                                    "comparison")
    rule: str = Field(default="", pattern=r"^(|calibrated:.+)$",
                      description="the meta-review's decision: empty = mean Overall >= accept_threshold; "
                                  "calibrated:PATH = a fitted rule (a JSON file from `aisci review-bench --fit-on` or "
                                  "`--fit`; PATH relative to the study folder)")


class GatesSection(Section):
    """Where a person decides: `auto` (top by score, or the person's own order) or `stop`
    (the run stops until a decision is recorded)."""

    ideas: GatePolicy = Field(default="auto", description="which ideas go on")
    novelty: GatePolicy = Field(default="auto", description="override a novelty decision")
    experiments: GatePolicy = Field(default="auto", description="approve the best node")
    review: GatePolicy = Field(default="auto", description="your decision on the paper")


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
    """aisci.toml as `aisci init` writes it: every key of every section with its description
    as a comment above it (an unset key is shown commented out), so the file explains itself."""
    lines = ["# aisci study configuration. API keys never go here: an endpoint names the",
             "# environment variable holding its key (api_key_env). Every key is described",
             "# above it; docs/config.md lists them all."]
    if note:  # e.g. why [search] and [review] have the numbers they have
        lines += ["#", *_comment(note)]
    for section_name, section_field in StudyConfig.model_fields.items():
        section = getattr(config, section_name)
        lines += ["", *_comment(type(section).__doc__ or ""), f"[{section_name}]"]
        tables = []
        for key, field in type(section).model_fields.items():
            value = getattr(section, key)
            dumped = section.model_dump(mode="json", include={key})[key]
            if isinstance(value, dict):  # written as its own table, after the section's plain keys
                tables.append((key, field, dumped))
                continue
            lines += _comment(field.description or "")
            lines.append(f"# {key} =  (unset)" if dumped is None else tomli_w.dumps({key: dumped}).rstrip("\n"))
        for key, field, dumped in tables:
            lines += ["", *_comment(f"[{section_name}.{key}] {field.description or ''}")]
            if dumped:
                lines.append(tomli_w.dumps({section_name: {key: dumped}}).strip("\n"))
    return "\n".join(lines) + "\n"


def _comment(text: str) -> list[str]:
    words = " ".join(text.split())
    return [f"# {line}" for line in textwrap.wrap(words, 96)] if words else []
