"""Research ideas: the pydantic model every phase shares, and the checklist rubric."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RubricItem(BaseModel):
    criterion: str
    passed: bool
    reason: str


class Idea(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$", description="snake_case identifier")
    title: str
    hypothesis: str = Field(description="one falsifiable sentence: what changes, and what it does to which metric")
    related_work: str = ""
    abstract: str
    experiments: list[str] = Field(min_length=1, description="the runs that test the hypothesis")
    risks: list[str] = Field(default_factory=list, description="risks and limitations")
    parameters: dict[str, Any] = Field(default_factory=dict, description="template parameters this idea sets")
    rubric: list[RubricItem] = Field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(item.passed for item in self.rubric)


class IdeaBatch(BaseModel):
    ideas: list[Idea]


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


def checklist_rubric(idea: Idea, manifest, others: list[Idea]) -> list[RubricItem]:
    """The rubric: each criterion one point, each with its reason. Deterministic, so the
    offline engine and a model's ideas are scored the same way."""
    primary = manifest.primary_metric
    metrics = list(manifest.metrics)
    names_metric = any(m in idea.hypothesis for m in metrics) or any(
        m.replace("_", " ") in idea.hypothesis.lower() for m in metrics)
    problems = parameter_problems(idea, manifest)
    ratio = _compute_ratio(idea, manifest)
    same = [o.name for o in others if o.name != idea.name and o.parameters == idea.parameters]
    return [
        RubricItem(criterion="states a falsifiable hypothesis about a declared metric", passed=names_metric,
                   reason=("the hypothesis names a metric the template measures" if names_metric else
                           f"the hypothesis names none of the measured metrics ({', '.join(metrics)})")),
        RubricItem(criterion="changes something the template can run", passed=bool(idea.parameters) and not problems,
                   reason="; ".join(problems) if problems else (
                       f"sets {', '.join(f'{k}={v!r}' for k, v in idea.parameters.items())}" if idea.parameters
                       else "sets no template parameter")),
        RubricItem(criterion="feasible within the template's time budget", passed=ratio <= 2.0,
                   reason=f"estimated compute {ratio:.2g}x the baseline's (budget {manifest.time_budget_s} s per run)"),
        RubricItem(criterion="differs from the seed ideas and earlier ideas", passed=not same,
                   reason=f"same settings as {', '.join(same)}" if same else "no other idea uses these settings"),
        RubricItem(criterion="plans a comparison against the baseline", passed=len(idea.experiments) >= 1 and any(
            "baseline" in e.lower() for e in idea.experiments),
                   reason="an experiment compares with the baseline" if any(
                       "baseline" in e.lower() for e in idea.experiments) else "no planned comparison with the baseline"),
        RubricItem(criterion=f"targets the primary metric ({primary})", passed=primary in idea.hypothesis
                   or primary.replace("_", " ") in idea.hypothesis.lower(),
                   reason=f"{primary} is the metric the template optimises"),
    ]


def _compute_ratio(idea: Idea, manifest) -> float:
    ratio = 1.0
    for name, value in idea.parameters.items():
        param = manifest.parameters.get(name)
        if param is None or param.type not in ("int", "float") or not any(w in name for w in COMPUTE_WORDS):
            continue
        try:
            if float(param.default) > 0:
                ratio *= float(value) / float(param.default)
        except (TypeError, ValueError):
            continue
    return ratio
