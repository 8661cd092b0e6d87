"""Experiment templates: a folder with a manifest, a parameterized baseline notebook,
seed ideas and a references.bib. Validated up front, one message per problem."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

import nbformat
from pydantic import BaseModel, Field, ValidationError, field_validator

from aisci.errors import TemplateError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATES_DIR = Path(__file__).parent / "templates"
MANIFEST = "manifest.toml"


class Metric(BaseModel):
    direction: Literal["maximize", "minimize"]
    description: str = ""
    unit: str | None = None


class Parameter(BaseModel):
    type: Literal["int", "float", "str", "bool"]
    default: Any
    choices: list[Any] = Field(default_factory=list)  # values a search may try
    description: str = ""

    def coerce(self, value: Any) -> Any:
        caster = {"int": int, "float": float, "str": str, "bool": bool}[self.type]
        return caster(value)


class Manifest(BaseModel):
    name: str
    title: str
    description: str
    notebook: str = "baseline.ipynb"
    primary_metric: str
    time_budget_s: int = Field(gt=0)
    seeds: list[int] = Field(min_length=1)
    metrics: dict[str, Metric] = Field(min_length=1)
    parameters: dict[str, Parameter] = Field(min_length=1)

    @field_validator("primary_metric")
    @classmethod
    def _primary_is_declared(cls, value: str, info) -> str:
        metrics = info.data.get("metrics")
        if metrics is not None and value not in metrics:
            raise ValueError(f"primary_metric {value!r} is not among [metrics]")
        return value


class Template:
    """A validated template folder."""

    def __init__(self, root: Path, manifest: Manifest):
        self.root = root
        self.manifest = manifest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def baseline_path(self) -> Path:
        return self.root / self.manifest.notebook

    def baseline(self) -> nbformat.NotebookNode:
        return nbformat.read(str(self.baseline_path), as_version=4)

    def seed_ideas(self) -> list[dict]:
        path = self.root / "seed_ideas.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    @property
    def references_bib(self) -> Path:
        return self.root / "references.bib"

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.manifest.parameters.items()}

    def primary(self) -> tuple[str, Metric]:
        name = self.manifest.primary_metric
        return name, self.manifest.metrics[name]

    def better(self, a: float, b: float) -> bool:
        """True when metric value a beats b for the primary metric's direction."""
        _, metric = self.primary()
        return a > b if metric.direction == "maximize" else a < b


def available_templates() -> list[str]:
    return sorted(p.name for p in TEMPLATES_DIR.iterdir() if (p / MANIFEST).exists())


def resolve_template(name_or_path: str | Path) -> Path:
    """A shipped template by name, or a folder on disk."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate.resolve()
    shipped = TEMPLATES_DIR / str(name_or_path)
    if (shipped / MANIFEST).exists():
        return shipped
    known = ", ".join(available_templates()) or "none"
    raise TemplateError(f"unknown template {str(name_or_path)!r} (shipped templates: {known}; or give a folder path)")


def template_problems(root: Path) -> list[str]:
    """Every problem with a template folder, one message each; empty when valid."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        return [f"{root}: no {MANIFEST}"]
    try:
        raw = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return [f"{manifest_path}: not valid TOML ({exc})"]
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        return [f"{manifest_path}: {_field(err)}: {err['msg']}" for err in exc.errors()]
    problems: list[str] = []
    for name, param in manifest.parameters.items():
        try:
            param.coerce(param.default)
        except (TypeError, ValueError):
            problems.append(f"{manifest_path}: parameters.{name}.default {param.default!r} is not a {param.type}")
    notebook_path = root / manifest.notebook
    if not notebook_path.exists():
        problems.append(f"{root}: baseline notebook {manifest.notebook} is missing")
        return problems
    try:
        notebook = nbformat.read(str(notebook_path), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a broken file
        problems.append(f"{notebook_path}: not a readable notebook ({exc})")
        return problems
    problems += _baseline_problems(notebook_path, notebook, manifest)
    return problems


def _baseline_problems(path: Path, notebook, manifest: Manifest) -> list[str]:
    problems = []
    tagged = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        problems.append(f"{path}: no cell tagged 'parameters' (papermill needs one)")
    else:
        source = tagged[0].source
        for name in manifest.parameters:
            if f"{name} =" not in source and f"{name}=" not in source:
                problems.append(f"{path}: parameters cell does not set declared parameter {name!r}")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for metric in manifest.metrics:
        if metric not in code:
            problems.append(f"{path}: baseline never records declared metric {metric!r} (aisci.record)")
    return problems


def _field(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "manifest"


def load_template(name_or_path: str | Path) -> Template:
    root = resolve_template(name_or_path)
    problems = template_problems(root)
    if problems:
        more = f" (and {len(problems) - 1} more; run `aisci templates validate {root}`)" if len(problems) > 1 else ""
        raise TemplateError(problems[0] + more)
    manifest = Manifest.model_validate(tomllib.loads((root / MANIFEST).read_text(encoding="utf-8")))
    return Template(root, manifest)
