"""Ideation: N ideas from the topic and the template, schema-validated, scored by the
checklist rubric; the ideas gate picks which go on."""

from __future__ import annotations

from typing import Any

from aisci import gates
from aisci.fsutil import atomic_write_json, canonical_json, read_json
from aisci.ideas import Idea, IdeaBatch, checklist_rubric
from aisci.llm.tasks import Task
from aisci.notebook import build

OUTPUTS = ("ideas/ideas.json",)


def _offline_ideas(inputs: dict[str, Any]) -> IdeaBatch:
    """Ideas from the template's parameter space: the seed ideas first, then one idea per
    declared alternative value of each parameter, in manifest order."""
    parameters, primary = inputs["parameters"], inputs["primary_metric"]
    taken = [e.get("parameters", {}) for e in inputs["earlier_ideas"] if e.get("origin") != "seed"]
    ideas: list[Idea] = []
    for seed in inputs["earlier_ideas"]:
        if seed.get("origin") == "seed" and seed["parameters"] not in taken:
            ideas.append(_idea(seed["name"], seed["title"], seed["hypothesis"], seed["parameters"], parameters, primary))
            taken.append(seed["parameters"])
    for name, spec in parameters.items():
        if name == "seed":
            continue
        for value in spec["choices"]:
            overrides = {name: value}
            if value == spec["default"] or overrides in taken:
                continue
            direction = "higher" if _is_more(value, spec["default"]) else "lower"
            hypothesis = (f"Setting {name} to {value!r} ({direction} than the baseline's {spec['default']!r}) "
                          f"changes {primary} relative to the baseline.")
            ideas.append(_idea(f"{name}_{_slug(value)}", f"{spec['description'] or name}: {value!r} instead of "
                               f"{spec['default']!r}", hypothesis, overrides, parameters, primary))
            taken.append(overrides)
    return IdeaBatch(ideas=ideas[: inputs["num_ideas"]])


def _idea(name, title, hypothesis, overrides, parameters, primary) -> Idea:
    changed = ", ".join(f"{k} = {v!r} (baseline {parameters[k]['default']!r})" for k, v in overrides.items())
    return Idea(
        name=name, title=title, hypothesis=hypothesis,
        related_work="Chosen by the offline engine from the template's parameter space; no literature was read.",
        abstract=f"A one-factor experiment on the template: {changed}, all else as in the baseline. "
                 f"We measure {primary} and the template's other metrics against the baseline.",
        experiments=[f"run the baseline and the variant with {changed}; compare {primary} with the baseline"],
        risks=["a single seed may not separate the variant from noise", "one factor at a time misses interactions"],
        parameters=overrides,
    )


def _is_more(value, default) -> bool:
    try:
        return float(value) > float(default)
    except (TypeError, ValueError):
        return str(value) > str(default)


def _slug(value) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(value).lower()).strip("_")[:20] or "value"


def _offline_reflect(inputs: dict[str, Any]) -> Idea:
    return Idea.model_validate(inputs["idea"])  # the offline engine's ideas need no rewording


PROPOSE = Task("ideation.propose", "ideation", IdeaBatch, _offline_ideas, temperature=0.9, max_tokens=6000)
REFLECT = Task("ideation.reflect", "ideation", Idea, _offline_reflect, temperature=0.3, max_tokens=3000)


def inputs(ctx) -> Any:
    return None


def run(ctx) -> list[str]:
    manifest = ctx.template.manifest
    seeds = [{**s, "origin": "seed"} for s in ctx.template.seed_ideas()]
    task_inputs = {
        "topic": ctx.config.study.topic,
        "template_description": manifest.description,
        "metrics": {k: m.model_dump() for k, m in manifest.metrics.items()},
        "primary_metric": manifest.primary_metric,
        "parameters": {k: p.model_dump() for k, p in manifest.parameters.items()},
        "earlier_ideas": seeds,
        "num_ideas": ctx.config.ideation.num_ideas,
    }
    result = ctx.llm.run(PROPOSE, **task_inputs)
    ideas = _unique(result.output.ideas)
    scored = []
    for idea in ideas:
        idea.rubric = checklist_rubric(idea, manifest, ideas)
        if idea.score < len(idea.rubric) and not ctx.llm.uses_offline_engine("ideation"):
            revised = ctx.llm.run(REFLECT, topic=task_inputs["topic"], parameters=task_inputs["parameters"],
                                  idea=idea.model_dump(), rubric=[r.model_dump() for r in idea.rubric]).output
            revised.name = idea.name
            revised.rubric = checklist_rubric(revised, manifest, ideas)
            idea = revised if revised.score >= idea.score else idea
        scored.append(idea)
    atomic_write_json(ctx.study.path("ideas", "ideas.json"),
                      {"author": result.author, "ideas": [i.model_dump() for i in scored]})
    ctx.execute_phase_notebook(_notebook(scored, result.author, ctx), ctx.study.path("ideas", "ideation.ipynb"),
                               label="ideation")
    return list(OUTPUTS)


def _unique(ideas: list[Idea]) -> list[Idea]:
    seen, kept = set(), []
    for idea in ideas:
        key = canonical_json(idea.parameters)
        if idea.name in seen or key in seen:
            continue
        seen.update({idea.name, key})
        kept.append(idea)
    return kept


def load_ideas(study) -> list[Idea]:
    data = read_json(study.path("ideas", "ideas.json"), default={"ideas": []})
    return [Idea.model_validate(i) for i in data["ideas"]]


def approved_ideas(study) -> list[Idea]:
    """The ideas the ideas gate let through, in the order chosen."""
    ideas = load_ideas(study)
    chosen = gates.selection(study, "ideas", [i.name for i in ideas], [i.score for i in ideas],
                             study.config.ideation.select)
    by_name = {i.name: i for i in ideas}
    return [by_name[n] for n in chosen]


def _notebook(ideas: list[Idea], author: str, ctx):
    nb = build.notebook("Ideation", author, intro=(
        f"Topic: **{ctx.config.study.topic}** — template `{ctx.template.name}`. "
        "Each card shows the idea and its checklist score (one point per criterion, with the reason)."))
    for rank, idea in enumerate(sorted(ideas, key=lambda i: -i.score), start=1):
        rubric = "\n".join(f"- {'✅' if r.passed else '❌'} {r.criterion} — {r.reason}" for r in idea.rubric)
        params = ", ".join(f"`{k} = {v!r}`" for k, v in idea.parameters.items()) or "none"
        nb.cells.append(build.markdown(
            f"## {rank}. {idea.title}\n\n`{idea.name}` · score **{idea.score}/{len(idea.rubric)}**\n\n"
            f"**Hypothesis.** {idea.hypothesis}\n\n**Abstract.** {idea.abstract}\n\n**Parameters.** {params}\n\n"
            f"**Experiments.** " + "; ".join(idea.experiments) + "\n\n**Risks.** " + "; ".join(idea.risks) +
            f"\n\n**Rubric.**\n{rubric}", author, idea=idea.name))
    nb.cells.append(build.code(
        "import json\nimport pandas as pd\n\n"
        "ideas = json.load(open('ideas.json'))['ideas']\n"
        "pd.DataFrame([{'name': i['name'], 'score': sum(r['passed'] for r in i['rubric']), "
        "'parameters': i['parameters']} for i in ideas]).sort_values('score', ascending=False)"))
    return nb
