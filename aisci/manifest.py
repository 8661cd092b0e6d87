"""Experiment templates: a folder with a manifest, a parameterized baseline notebook,
seed ideas and a references.bib. Validated up front, one message per problem."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aisci.errors import TemplateError
from aisci.execution import build

if TYPE_CHECKING:
    import nbformat

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATES_DIR = Path(__file__).parent / "templates"
MANIFEST = "manifest.toml"


def prose_name(identifier: str, label: str, description: str) -> str:
    """What the paper and the figures call a metric or parameter: its `label`, else the first clause
    of its description (up to ";", ":" or "("), else the identifier with spaces: the paper's words,
    not the code's ("sliced Wasserstein distance", not "sliced wasserstein")."""
    if label.strip():
        return label.strip()
    clause = re.split(r";|:\s|\s\(", description, maxsplit=1)[0].strip().rstrip(".,")
    clause = re.sub(r"^(?:the|a|an)\s+", "", clause, flags=re.IGNORECASE)  # the prose adds its own article
    return clause or identifier.replace("_", " ")


class Metric(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not silently dropped
    direction: Literal["maximize", "minimize"]
    description: str = ""
    label: str = ""  # a short noun phrase for the paper's prose and the figures' axes (default: from the description)
    unit: str | None = None

    def prose(self, name: str) -> str:
        return prose_name(name, self.label, self.description)


TYPES = {"int": int, "float": float, "str": str, "bool": bool}
A_TYPE = {"int": "an int", "float": "a float", "str": "a string", "bool": "a bool (true or false)"}


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["int", "float", "str", "bool"]
    default: Any
    choices: list[Any] = Field(default_factory=list)  # values a search may try
    description: str = ""
    label: str = ""  # a short noun phrase for the paper's prose (default: from the description)
    # false: the parameter defines the task (the data set, the operation), so a search never
    # changes it on its own; only an idea that names it does
    tunable: bool = True

    def coerce(self, value: Any) -> Any:
        """A value from a model or a person, cast to the declared type ("0.3" -> 0.3)."""
        if self.type == "bool" and isinstance(value, str):
            if value.strip().lower() in ("true", "1", "yes"):
                return True
            if value.strip().lower() in ("false", "0", "no"):
                return False
            raise ValueError(f"{value!r} is not a bool")
        if self.type == "int" and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not an int")
        return TYPES[self.type](value)

    def accepts(self, value: Any) -> bool:
        """Strictly of the declared type, as a template must write it (an int is a float)."""
        if self.type == "float":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.type == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, TYPES[self.type])

    def prose(self, name: str) -> str:
        return prose_name(name, self.label, self.description)

    def values(self) -> list[Any]:
        """The values a search may use: the default and the declared choices, in order
        (numbers sorted, so neighbours are the next smaller and larger value)."""
        found = [self.default] + [c for c in self.choices if c != self.default]
        return sorted(found) if self.type in ("int", "float") else found


class DataSplits(BaseModel):
    """The optional [data] table: the template's data splits. Declaring them makes every run
    record `overlap_record` (aisci.review.overlap.overlap_fraction(train, test)), and the
    review's grounded checks fail a run whose overlap is above max_overlap."""

    model_config = ConfigDict(extra="forbid")
    splits: list[str] = Field(min_length=2)
    overlap_record: str = "train_test_overlap"
    max_overlap: float = Field(default=0.0, ge=0, le=1)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    notebook: str = "baseline.ipynb"
    primary_metric: str
    time_budget_s: int = Field(gt=0)
    seeds: list[int] = Field(min_length=1)
    seed_parameter: str = "seed"  # the parameter seed replicas set
    metrics: dict[str, Metric] = Field(min_length=1)
    parameters: dict[str, Parameter] = Field(min_length=1)
    data: DataSplits | None = None
    # variables the notebook needs from the environment (a data folder, ...): they reach its kernel
    environment: list[str] = Field(default_factory=list)

    @field_validator("environment")
    @classmethod
    def _no_secrets(cls, names: list[str]) -> list[str]:
        from aisci.execution.kernel import is_secret

        secret = [n for n in names if is_secret(n)]
        if secret:
            raise ValueError(f"environment: {secret[0]!r} looks like a credential; secrets never reach a notebook")
        return names

    @model_validator(mode="after")
    def _primary_is_declared(self) -> Manifest:
        if self.primary_metric not in self.metrics:
            raise ValueError(f"primary_metric {self.primary_metric!r} is not among [metrics] "
                             f"({', '.join(self.metrics)})")
        return self

    @property
    def has_seed_parameter(self) -> bool:
        return self.seed_parameter in self.parameters


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
        return build.read(self.baseline_path)

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


FIELD_HELP = {
    "name": "a short identifier (letters, digits, _ . -)",
    "title": "the template's title, one line",
    "description": "the task in a paragraph: what is trained, on what, and what is measured",
    "primary_metric": "the metric that picks the best run; one of [metrics]",
    "time_budget_s": "seconds one run of the baseline may take (a positive integer)",
    "seeds": "a list of integer seeds for replicas, e.g. seeds = [0, 1, 2]",
    "metrics": "a [metrics.NAME] table per recorded metric, each with direction = \"maximize\" or \"minimize\"",
    "parameters": "a [parameters.NAME] table per parameter, each with type and default",
}


def template_problems(root: Path) -> list[str]:
    """Every problem with a template folder, one message each; empty when valid. Static:
    nothing is executed (see `baseline_run_problems` for a run of the baseline)."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        return [(f"{root}: no {MANIFEST} (the manifest: name, title, description, primary_metric, metrics, "
                 f"parameters, time_budget_s, seeds)")]
    try:
        raw = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [f"{manifest_path}: not valid TOML ({exc})"]
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        return [f"{manifest_path}: {_describe(err)}" for err in exc.errors()]
    problems = [f"{manifest_path}: {p}" for p in _manifest_problems(manifest)]
    notebook_path = root / manifest.notebook
    if not notebook_path.exists():
        problems.append(f"{root}: baseline notebook {manifest.notebook} is missing (manifest: notebook = "
                        f"{manifest.notebook!r})")
        return problems
    try:
        notebook = build.peek(notebook_path)  # checked as plain JSON: opening a study stays fast
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        problems.append(f"{notebook_path}: not a readable notebook ({str(exc).splitlines()[0][:200]})")
        return problems
    problems += [f"{notebook_path}: {p}" for p in baseline_problems(notebook, manifest)]
    code_ids = {c.get("id") for c in notebook.cells if c.cell_type == "code"}
    problems += _extras_problems(root, manifest, code_ids)
    return problems


def _manifest_problems(manifest: Manifest) -> list[str]:
    problems = []
    for name in manifest.metrics:
        if not _is_record_name(name):
            problems.append(f"metrics.{name}: a metric name must be letters, digits and underscores "
                            f"(it is the name the baseline records)")
    for name, param in manifest.parameters.items():
        if not name.isidentifier():
            problems.append(f"parameters.{name}: a parameter name must be a Python identifier "
                            f"(the parameters cell assigns it)")
        if not param.accepts(param.default):
            problems.append(f"parameters.{name}.default: {param.default!r} is not {A_TYPE[param.type]}")
        wrong = [c for c in param.choices if not param.accepts(c)]
        if wrong:
            problems.append(f"parameters.{name}.choices: {', '.join(map(repr, wrong))} "
                            f"{'is' if len(wrong) == 1 else 'are'} not {A_TYPE[param.type]}")
        elif param.choices and param.accepts(param.default) and param.default not in param.choices:
            problems.append(f"parameters.{name}.default: {param.default!r} is not among its choices "
                            f"({', '.join(map(repr, param.choices))}); list the default among them")
    if "seed_parameter" in manifest.model_fields_set and not manifest.has_seed_parameter:
        problems.append(f"seed_parameter: {manifest.seed_parameter!r} is not among [parameters] "
                        f"(replicas set it to each of the seeds)")
    return problems


def baseline_problems(notebook, manifest: Manifest) -> list[str]:
    """The baseline notebook against the manifest: a `parameters` cell that sets exactly
    the declared parameters to their defaults, and a record of every declared metric."""
    problems = []
    tagged = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        problems.append("no cell tagged 'parameters' (papermill needs one; tag the cell that sets "
                        f"{', '.join(manifest.parameters)})")
    elif len(tagged) > 1:
        problems.append(f"{len(tagged)} cells are tagged 'parameters'; tag exactly one")
    elif tagged[0].cell_type != "code":
        problems.append("the cell tagged 'parameters' is not a code cell")
    else:
        problems += _parameters_cell_problems(tagged[0].source, manifest)
    problems += _record_problems(notebook, manifest)
    return problems


def parameters_cell_values(source: str) -> dict[str, Any]:
    """name -> value for each `name = literal` line of a parameters cell (raises SyntaxError)."""
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                values[node.targets[0].id] = _NOT_LITERAL
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            try:
                values[node.target.id] = ast.literal_eval(node.value)
            except ValueError:
                values[node.target.id] = _NOT_LITERAL
    return values


_NOT_LITERAL = object()


def _parameters_cell_problems(source: str, manifest: Manifest) -> list[str]:
    try:
        values = parameters_cell_values(source)
    except SyntaxError as exc:
        return [f"the parameters cell is not valid Python (line {exc.lineno}: {exc.msg})"]
    problems = []
    for name, param in manifest.parameters.items():
        if name not in values:
            problems.append(f"the parameters cell does not set declared parameter {name!r} "
                            f"(add `{name} = {param.default!r}`)")
        elif values[name] is _NOT_LITERAL:
            problems.append(f"the parameters cell sets {name!r} to an expression; write a literal value")
        elif values[name] != param.default and param.accepts(param.default):
            problems.append(f"the parameters cell sets {name} = {values[name]!r} but the manifest's default is "
                            f"{param.default!r}; make them agree")
    for name in values:
        if name not in manifest.parameters:
            problems.append(f"the parameters cell sets {name!r}, which the manifest does not declare "
                            f"(add [parameters.{name}] or move it to another cell)")
    return problems


def recorded_names(notebook) -> tuple[set[str], bool]:
    """Metric names the notebook's code records with a literal name (`aisci.record("x", ...)`
    or `record("x", ...)`), and whether any record call computes its name (not checkable
    without running it)."""
    names: set[str] = set()
    dynamic = False
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_python_source(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called != "record":
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
            else:
                dynamic = True
    return names, dynamic


def _record_problems(notebook, manifest: Manifest) -> list[str]:
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "parameters" not in cell.get("metadata", {}).get("tags", []):
            try:
                ast.parse(_python_source(cell.source))
            except SyntaxError as exc:
                problems.append(f"code cell {index} is not valid Python (line {exc.lineno}: {exc.msg})")
    names, dynamic = recorded_names(notebook)
    if dynamic or problems:  # a computed name or unparsed code: only a run can tell (validate --run)
        return problems
    for metric in manifest.metrics:
        if metric not in names and _is_record_name(metric):
            problems.append(f"the baseline never records declared metric {metric!r} "
                            f"(add `aisci.record({metric!r}, value)`)")
    if manifest.data is not None and manifest.data.overlap_record not in names:
        record = manifest.data.overlap_record
        problems.append(f"[data] declares splits but the baseline never records {record!r} (add `aisci.record("
                        f"{record!r}, aisci.review.overlap.overlap_fraction(train, test))`)")
    return problems


def _python_source(source: str) -> str:
    """Cell source with IPython syntax (magics, shell escapes) turned into plain Python. Plain
    Python is returned as it is without loading IPython (a second of start-up)."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)


def _extras_problems(root: Path, manifest: Manifest, code_ids: set | None = None) -> list[str]:
    """The optional pieces, checked when present: seed ideas and the bibliography."""
    problems = []
    seeds_path = root / "seed_ideas.json"
    if seeds_path.exists():
        try:
            seeds = json.loads(seeds_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return [f"{seeds_path}: not valid JSON ({exc})"]
        if not isinstance(seeds, list):
            return [f"{seeds_path}: must be a JSON list of ideas"]
        for number, idea in enumerate(seeds, 1):
            where = f"{seeds_path}: idea {number}"
            if not isinstance(idea, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            missing = [k for k in ("name", "title", "hypothesis") if not isinstance(idea.get(k), str) or not idea[k]]
            if missing:
                problems.append(f"{where}: missing {', '.join(missing)}")
            unknown = [c for c in idea.get("cells_touched") or [] if code_ids is not None and c not in code_ids]
            if unknown:
                problems.append(f"{where}: cells_touched names {', '.join(map(str, unknown))}, not a code cell id "
                                f"of the notebook ({', '.join(sorted(map(str, code_ids)))})")
            for name, value in (idea.get("parameters") or {}).items():
                param = manifest.parameters.get(name)
                if param is None:
                    problems.append(f"{where}: sets {name!r}, which is not a declared parameter")
                elif not param.accepts(value):
                    problems.append(f"{where}: {name} = {value!r} is not {A_TYPE[param.type]}")
    bib_path = root / "references.bib"
    if bib_path.exists():
        import bibtexparser

        try:
            library = bibtexparser.parse_string(bib_path.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - bibtexparser raises several kinds for a broken file
            return problems + [f"{bib_path}: not readable BibTeX ({exc})"]
        for block in library.failed_blocks:
            line = getattr(block, "start_line", None)
            problems.append(f"{bib_path}: an entry{f' at line {line + 1}' if line is not None else ''} does not parse")
    return problems


def template_warnings(root: Path) -> list[str]:
    """What does not make a template invalid but will surprise its user: seed ideas over the compute
    limit of the ideas rubric, which ideation drops (and says so). Call it on a valid template. (The
    check of the template's description against its code lives with the paper checks; `aisci
    templates validate` runs both.)"""
    from aisci.ideas import MAX_COMPUTE_RATIO, compute_ratio

    root = Path(root)
    warnings: list[str] = []
    seeds_path = root / "seed_ideas.json"
    if not seeds_path.exists():
        return warnings
    manifest = Manifest.model_validate(tomllib.loads((root / MANIFEST).read_text(encoding="utf-8")))
    for number, idea in enumerate(json.loads(seeds_path.read_text(encoding="utf-8")), 1):
        ratio = compute_ratio(idea.get("parameters") or {}, manifest)
        if ratio > MAX_COMPUTE_RATIO:
            warnings.append(f"{seeds_path}: idea {number} ({idea['name']}): estimated compute {ratio:.2g}x the "
                            f"baseline's, over the {MAX_COMPUTE_RATIO:g}x a feasible idea may use: ideation will "
                            "drop it; choose a smaller setting to have it tested")
    return warnings


def baseline_run_problems(template: Template, workdir: Path, timeout_s: float | None = None,
                          sandboxed: bool = True) -> tuple[list[str], Any]:
    """Run the baseline once (parameters at their defaults, in workdir) and check that it
    finishes and records every declared metric as a number. Returns (problems, result).
    The baseline is code someone else wrote (a model, in template-free mode): it runs in
    the sandbox, workdir its only writable place, unless `sandboxed` is False."""
    from aisci.execution.execute import execute_notebook
    from aisci.execution.sandbox import SandboxSettings
    from aisci.records import read_records

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    notebook = workdir / "baseline.ipynb"
    notebook.write_bytes(template.baseline_path.read_bytes())
    limit = timeout_s or max(3 * template.manifest.time_budget_s, 60)
    sandbox = SandboxSettings(read_only=(str(template.root),)) if sandboxed else None
    result = execute_notebook(notebook, notebook, cwd=workdir, timeout_s=limit, sandbox=sandbox,
                              pass_env=tuple(template.manifest.environment))
    where = template.baseline_path
    if not result.ok:
        return [f"{where}: the baseline run {result.status}{_failing_cell(notebook)}: {result.reason}"], result
    records = {r.name: r.value for r in read_records(notebook)}
    problems = []
    for metric in template.manifest.metrics:
        if metric not in records:
            problems.append(f"{where}: the baseline run did not record declared metric {metric!r}")
        elif not isinstance(records[metric], (int, float)):
            problems.append(f"{where}: the baseline run recorded {metric} = {records[metric]!r}, not a number")
    return problems, result


def _failing_cell(path: Path) -> str:
    """' in cell N (`its first line`)' for the cell with an error output, or ''. N counts the
    notebook's own cells (papermill adds error banners to the executed copy)."""
    try:
        executed = build.read(path)
    except Exception:  # noqa: BLE001 - not written: the kernel died before the first save
        return ""
    cells = [c for c in executed.cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    for index, cell in reversed(list(enumerate(cells))):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            return f" in cell {index} (`{first[:60]}`)"
    return ""


def _is_record_name(name: str) -> bool:
    return bool(name) and name.replace("_", "").isalnum()


def _describe(err: dict) -> str:
    """One pydantic error as a line a template author can act on."""
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "missing":
        help_text = FIELD_HELP.get(str(err["loc"][-1]))
        return f"missing {loc}" + (f" ({help_text})" if help_text else "")
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
    return f"{loc or 'manifest'}: {err['msg']}{shown}"


def load_template(name_or_path: str | Path) -> Template:
    root = resolve_template(name_or_path)
    problems = template_problems(root)
    if problems:
        more = f" (and {len(problems) - 1} more; run `aisci templates validate {root}`)" if len(problems) > 1 else ""
        raise TemplateError(problems[0] + more)
    manifest = Manifest.model_validate(tomllib.loads((root / MANIFEST).read_text(encoding="utf-8")))
    return Template(root, manifest)
