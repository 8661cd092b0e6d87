"""What the paper is made from, read once per writeup run: the value macros (values.tex), the
bibliography, the kept figures, the evidence of what ran, the facts a number in the text may
state, and the inputs each writeup task is given."""

from __future__ import annotations

from typing import Any, Callable

from aisci import gates, results
from aisci.artifacts import Analysis, ExperimentSummary, Ideas, NoveltyDecisions, novel_ideas
from aisci.constants import OFFLINE_ENGINE
from aisci.fsutil import atomic_write_text
from aisci.literature.encoding import encode_text
from aisci.paper import bibliography, code_diff, code_facts, latex, notebooks, style, verify
from aisci.paper.claims import Evidence
from aisci.paper.figures import select
from aisci.paper import meaning
from aisci.paper.numbers import Fact, as_number, numbers_in_context
from aisci.paper.outcome import study_outcome
from aisci.paper.sections import SECTIONS
from aisci.paper.values import collect_values, values_tex
from aisci.search.node import Node, NodeKind, NodeStatus
from aisci.writeup.workspace import Materials, Workspace

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
SENTENCE_OPENERS = {"how", "what", "why", "when", "whether", "which", "where", "does", "do", "can", "is", "are",
                    "the", "a", "an", "on"}


def gather(ctx) -> Materials:
    """Read the study, write values.tex, and collect everything the sections are made from."""
    study, cfg = ctx.study, ctx.config.paper
    paper = study.path("paper")
    for sub in ("sections", "generated", "figures"):
        (paper / sub).mkdir(parents=True, exist_ok=True)
    summary = ExperimentSummary.load(study)
    analysis = Analysis.load(study)
    values = collect_values(results.experiment_records(study.root), results.analysis_records(study.root))
    atomic_write_text(paper / "values.tex", values_tex(values))
    ideas = {i.name: i for i in Ideas.load(study).ideas}
    query = " ".join([ctx.config.study.topic, ctx.template.manifest.title, *(i.title for i in ideas.values())])
    bib = bibliography.collect(ctx.template.references_bib, study.path("literature"), query=query,
                               limit=cfg.max_references)
    figures, figure_problems = select(study, analysis.figures, paper)
    materials = Materials(
        style=style.load_style(cfg.style_dir, study.root), summary=summary, analysis=analysis, values=values,
        macros={v.macro: v.text for v in values}, ideas=ideas, bib=bib, figures=figures,
        figure_findings=[verify.Finding(check="figure", ok=False, section=None, detail=p, status="open")
                         for p in figure_problems],
        evidence=Evidence.from_study(study.root, summary, ctx.template.manifest),
        code=code_facts.from_study(study.root, summary))
    materials.template_text = template_text(ctx)
    materials.facts = number_facts(ctx, materials)
    materials.outcome = _outcome(ctx, summary, ideas)
    materials.code_changes = code_diff.best_run_diff(study, summary)
    return materials


def _outcome(ctx, summary: ExperimentSummary, ideas: dict):
    """aisci's own account when no idea ran, every run failed or nothing beat the baseline."""
    decisions = NoveltyDecisions.load(ctx.study).decisions
    primary, metric = ctx.template.primary()
    return study_outcome(summary.nodes, ideas_proposed=len(ideas), ideas_passed=len(novel_ideas(ctx.study)),
                         not_novel=sum(1 for d in decisions.values() if d.novel is False),
                         primary=primary, direction=metric.direction, best=summary.best)


def template_text(ctx) -> str:
    return author_text(ctx.template)


def author_text(template) -> str:
    """The template author's own words: its title, description, metric and parameter descriptions,
    and the baseline's markdown (each a sentence of its own)."""
    manifest = template.manifest
    parts = [manifest.title, manifest.description,
             *(f"{k} ({'higher' if m.direction == 'maximize' else 'lower'} is better): {m.description}"
               for k, m in manifest.metrics.items()),
             *(f"{k}: {p.description}" for k, p in manifest.parameters.items()),
             *(c.source for c in template.baseline().cells if c.cell_type == "markdown")]
    return " .\n".join(parts)


def number_facts(ctx, m: Materials) -> list[Fact]:
    """Every number the text may state, each with the words that say what it is about
    (aisci.paper.meaning): records of the runs and the analysis, the parameters each run used
    and the template declares, the study's settings and counts, and the numbers of the
    template's own description (bound to the words around them there)."""
    manifest, summary = ctx.template.manifest, m.summary
    metric_of = {name: metric for name, metric in manifest.metrics.items()}
    facts = []
    for v in m.values:
        value = as_number(v.record.value)
        if value is None:
            continue
        metric_name = next((k for k in sorted(metric_of, key=len, reverse=True) if k in v.record.name), None)
        metric = metric_of.get(metric_name)
        quantity = meaning.quantity_words(v.record.name) | (meaning.quantity_words(metric_name) if metric_name else set())
        context = meaning.words(" ".join(filter(None, [
            v.record.name.replace("_", " "), v.record.description, v.record.unit, v.source.replace("/", " "),
            metric.description if metric else None, metric.unit if metric else None])))
        facts.append(Fact(float(value), f"record {v.record.name} of {v.source}", frozenset(quantity),
                          frozenset(context), measured=True))
    for node in summary.nodes:
        for k, x in node.parameters.items():
            if as_number(x) is not None:
                facts.append(_parameter_fact(as_number(x), k, manifest, f"parameter {k} of {node.id}",
                                             node.id.replace("/", " ")))
    for name, param in manifest.parameters.items():
        facts += [_parameter_fact(as_number(x), name, manifest, f"declared value of {name}") for x in param.values()
                  if as_number(x) is not None]
    setting = lambda value, source, words: Fact(float(value), source, frozenset(meaning.words(words)))
    facts += [setting(s, "a seed the template declares", "seed replica") for s in manifest.seeds]
    facts.append(setting(manifest.time_budget_s, "the template's time budget", "time budget second limit"))
    facts.append(setting(ctx.config.experiments.timeout_s, "the wall-time limit per notebook",
                         "wall time limit timeout second notebook"))
    for value, around in numbers_in_context(m.template_text):
        bound = frozenset(meaning.words(around)) or frozenset({"(template)"})  # never a number about anything
        facts.append(Fact(value, f"the template's description (\"{around}\")", bound, bound))
    nodes = summary.nodes
    counts = [("runs", len(nodes), "run experiment node"),
              ("finished runs", sum(n.status == NodeStatus.DONE for n in nodes), "run experiment node finished"),
              ("runs that change settings", sum(n.kind != NodeKind.BASELINE for n in nodes),
               "run experiment node setting change"),
              ("ideas tested", len({n.idea for n in nodes if n.kind != NodeKind.BASELINE}), "idea"),
              ("seeds per configuration", m.evidence.seeds, "seed replica configuration"),
              ("metrics", len(manifest.metrics), "metric"), ("parameters", len(manifest.parameters),
                                                             "parameter setting hyperparameter"),
              ("figures", len(m.figures), "figure")]
    facts += [setting(n, f"number of {what}", words) for what, n, words in counts]
    return facts


def _parameter_fact(value: float, name: str, manifest, source: str, run: str = "") -> Fact:
    """A parameter's value is about the parameter, by its name (lr is the learning rate), not by the
    words of its description ("units in each hidden layer" does not make 16 a number of layers)."""
    quantity = meaning.words(name.replace("_", " "))
    context = meaning.words(" ".join([name.replace("_", " "), run]))
    return Fact(float(value), source, frozenset(quantity), frozenset(context))


# --- words -------------------------------------------------------------------------------------------
def mid_sentence(text: str) -> str:
    """A topic written as a sentence ("How weight decay shapes grokking"), to follow "a study
    on": a leading question word or article is lowered; a name ("Adam", "GANs") is kept."""
    text = text.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    return first.lower() + text[len(first):] if first.lower() in SENTENCE_OPENERS else text


def and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def dropped_seeds_sentence(ideas: Ideas) -> str:
    """For the limitations: the template's seed ideas that ideation dropped as infeasible (ideas.json),
    which the study therefore never tested."""
    dropped = [d for d in ideas.dropped if d.get("stage") == "feasibility"]  # each a free-form note
    if not dropped:
        return ""
    titles = and_list([f"\\emph{{{latex.escape(d['title'])}}}" for d in dropped])
    many = len(dropped) > 1
    return (f" The template's seed idea{'s' if many else ''} {titles} {'were' if many else 'was'} not tested: the "
            f"estimated compute is over the limit the ideas rubric allows, so ideation dropped {'them' if many else 'it'}.")


def offline_title(manifest, changed: list[str]) -> str:
    """The offline paper's title, in the paper's words: the manifest's labels (or descriptions) of the
    parameters the study changed and of its primary metric, not their identifiers."""
    if not changed:
        return f"{manifest.title}: a baseline study"
    names = [f"the {manifest.parameters[c].prose(c) if c in manifest.parameters else c.replace('_', ' ')}"
             for c in changed]
    primary = manifest.primary_metric
    return (f"{manifest.title}: how {and_list(names)} {'moves' if len(changed) == 1 else 'move'} the "
            f"{manifest.metrics[primary].prose(primary)}")


# --- the tasks' inputs ---------------------------------------------------------------------------------
def baseline_node(m: Materials) -> Node | None:
    return next((n for n in m.summary.nodes if n.kind == NodeKind.BASELINE), None)


def offline_facts(ws: Workspace) -> dict[str, str]:
    """The facts the offline section templates are filled with (also given to the model tasks)."""
    ctx, m = ws.ctx, ws.materials
    manifest = ctx.template.manifest
    primary, metric = ctx.template.primary()
    nodes = m.summary.nodes
    changed_runs = [n for n in nodes if n.kind != NodeKind.BASELINE]
    tested = list(dict.fromkeys(n.idea for n in changed_runs))
    best = m.summary.best or "baseline/node-0"
    macro_of = {(v.source, v.record.name): v.macro for v in m.values}

    def value(name: str) -> str:
        macro = macro_of.get(("analysis", name))
        return f"\\{macro}" if macro else "not available"

    def setting(name: str, v) -> str:
        if isinstance(v, str):  # a string in math mode would set its quotes as primes
            return f"\\texttt{{{latex.escape(name)}}} = \\texttt{{{latex.escape(repr(v))}}}"
        return f"\\texttt{{{latex.escape(name)}}} $= {latex.escape(repr(v))}$"

    def describe(name: str) -> str:
        idea = m.ideas.get(name)
        changed = ", ".join(setting(k, v) for k, v in (idea.parameters if idea else {}).items())
        return f"\\emph{{{latex.escape(idea.title if idea else name)}}}" + (f" ({changed})" if changed else "")

    def run_line(node: Node) -> str:
        parent = m.summary.node(node.parent)
        parent_parameters = parent.parameters if parent else {}
        changes = {k: v for k, v in node.parameters.items() if parent_parameters.get(k) != v}
        status = "" if node.status == NodeStatus.DONE else f", {latex.escape(node.status.value)}"
        return (f"\\texttt{{{latex.escape(node.id)}}} ({latex.escape(node.kind.value)}{status}, from "
                f"\\texttt{{{latex.escape(parent.id if parent else 'nothing')}}}): "
                + (", ".join(setting(k, v) for k, v in changes.items()) or "no setting changed"))

    seeds = max(m.evidence.seeds, 1)
    baseline = baseline_node(m)
    figures = " ".join(f"Figure~\\ref{{{f.label}}} shows the "
                       f"{latex.escape(f.caption[:1].lower() + f.caption[1:]).rstrip('.')}." for f in m.figures)
    improved = best.split("/")[0] != "baseline"
    baseline_parameters = baseline.parameters if baseline else {}
    changed = sorted({k for n in changed_runs for k, v in n.parameters.items() if baseline_parameters.get(k) != v})
    return {
        "title_tex": latex.escape(offline_title(manifest, changed)),
        "topic_tex": latex.escape(mid_sentence(ctx.config.study.topic)),
        "template_title_tex": latex.escape(manifest.title),
        "template_description_tex": latex.prose(" ".join(manifest.description.split())),
        "num_ideas_words": NUMBER_WORDS[len(tested)] if len(tested) < len(NUMBER_WORDS) else str(len(tested)),
        "plural_ideas": "" if len(tested) == 1 else "s",
        "primary_tex": latex.escape(primary.replace("_", " ")),
        "direction_word": "higher" if metric.direction == "maximize" else "lower",
        "baseline_value": value(f"baseline_{primary}"),
        "best_value": value(f"best_{primary}"),
        "delta_value": value(f"best_minus_baseline_{primary}"),
        "best_run_tex": f"\\texttt{{{latex.escape(best)}}}",
        "num_runs": value("num_runs"),
        "num_changed_runs": str(len(changed_runs)),
        "plural_changed_runs": "" if len(changed_runs) == 1 else "s",
        "ideas_provenance_sentence": ideas_provenance(ws, tested),
        "dropped_seeds_tex": dropped_seeds_sentence(Ideas.load(ctx.study)),
        "num_finished": value("num_finished_runs"),
        "ideas_itemize": latex.itemize([describe(n) for n in tested]) or "(no idea passed the gates)",
        "runs_itemize": latex.itemize([run_line(n) for n in changed_runs]) or "(none)",
        "related_itemize": latex.itemize([f"{encode_text(e.reference.title or e.reference.key).latex}~\\cite{{{e.reference.key}}}"
                                          for e in m.bib.entries]) or "(the study's bibliography is empty)",
        "notebook_steps_itemize": latex.itemize([latex.prose(s) for s in notebooks.outline(ctx.template.baseline())])
                                  or "(the notebook has no markdown headings)",
        "baseline_parameters_itemize": latex.itemize(
            [setting(k, v) for k, v in baseline_parameters.items()]),
        "metrics_itemize": latex.itemize([f"\\texttt{{{latex.escape(k)}}} ({'higher' if m_.direction == 'maximize' else 'lower'}"
                                          f" is better): {latex.escape(m_.description)}" for k, m_ in manifest.metrics.items()]),
        "timeout_s": str(ctx.config.experiments.timeout_s),
        "seeds_phrase": f"{NUMBER_WORDS[seeds] if seeds < len(NUMBER_WORDS) else seeds} seed{'s' if seeds > 1 else ''}",
        "observations_tex": " ".join(latex.escape(o) for o in m.analysis.observations),
        "figures_sentence": f" {figures}" if figures else "",
        "verdict_sentence": (f"The largest improvement over the baseline came from \\texttt{{{latex.escape(best)}}}."
                             if improved else f"No run improved on the baseline's {latex.escape(primary.replace('_', ' '))}."),
        # when the baseline stays best, "the best run (baseline) reaches X, a difference of 0" says nothing
        "outcome_sentence": (f"The baseline reaches {value(f'baseline_{primary}')}; the best run "
                             f"(\\texttt{{{latex.escape(best)}}}) reaches {value(f'best_{primary}')}, a difference of "
                             f"{value(f'best_minus_baseline_{primary}')}." if improved else
                             f"The baseline reaches {value(f'baseline_{primary}')}, and no run that changed its "
                             "settings did better."),
        "finding_clause": (f"found that the best setting, \\texttt{{{latex.escape(best)}}}, changes the baseline's "
                           f"{latex.escape(primary.replace('_', ' '))} by {value(f'best_minus_baseline_{primary}')}"
                           if improved else
                           f"found that no setting we tried improved on the baseline's "
                           f"{latex.escape(primary.replace('_', ' '))} of {value(f'baseline_{primary}')}"),
    }


ORIGINS = {"seed": "the template's own seed ideas (seed_ideas.json)",
           OFFLINE_ENGINE: "aisci's offline engine, which proposes values from the template's declared parameters"}


def ideas_provenance(ws: Workspace, tested: list[str]) -> str:
    """Where the tested ideas came from, as their `origin` says (seed ideas, the offline engine,
    a model), and how many a person edited at the ideas gate."""
    origins: dict[str, int] = {}
    for name in tested:
        idea = ws.materials.ideas.get(name)
        origin = getattr(idea, "origin", "") or "unknown"
        label = ORIGINS.get(origin) or (f"the language model {origin.removeprefix('model:')}"
                                        if origin.startswith("model:") else "an unrecorded source")
        origins[label] = origins.get(label, 0) + 1
    if not origins:
        return "No idea was tested."
    parts = [label if len(origins) == 1 else f"{label} ({count})" for label, count in origins.items()]
    edited = len([n for n in tested if n in gates.idea_edits(ws.study)])
    text = f"The ideas came from {latex.escape(and_list(parts))} rather than from a survey of the literature"
    if edited:
        text += f"; a person edited {edited} of them at the ideas gate"
    return text + ", so the study explores a fixed set of directions, not necessarily the most promising ones."


def section_inputs(ws: Workspace, task) -> dict[str, Any]:
    """What one section's prompt names ($NAME in its file): facts of the study (SECTION_FACTS) and
    the text of sections written before it, as they stand after their own checks and fixes. A
    section's call is replayed from the call store while all of these stay the same, so an edit
    re-asks only the sections whose prompts show what changed."""
    inputs: dict[str, Any] = {}
    for name in task.placeholders():
        if name in SECTIONS:
            inputs[name] = ws.manuscript.texts.get(name) or "(not written)"
        elif name in SECTION_FACTS:
            inputs[name] = SECTION_FACTS[name](ws)
        else:
            raise ValueError(f"prompt {task.name} names ${name}, which no writeup fact provides")
    return inputs


def _best_changes(ws: Workspace) -> str:
    """The method section describes the code change: the diff of the best run's cells from the
    baseline, else the best run's new code."""
    m, study = ws.materials, ws.study
    baseline = baseline_node(m)
    best = m.summary.best_node
    base_path = study.path(baseline.notebook) if baseline and baseline.notebook else None
    if best and best is not baseline and best.notebook and base_path:
        return m.code_changes or notebooks.notebook_text(study.path(best.notebook),
                                                         leave_out=notebooks.sources(base_path))
    return "(the best run is the baseline itself)"


def _baseline_notebook(ws: Workspace) -> str:
    baseline = baseline_node(ws.materials)
    if not baseline or not baseline.notebook:
        return "(no baseline run finished)"
    return notebooks.notebook_text(ws.study.path(baseline.notebook))


def _runs_changed(ws: Workspace) -> list[dict]:
    """Every run, with the parameters it sets differently from the baseline."""
    baseline = baseline_node(ws.materials)
    base = baseline.parameters if baseline else {}
    return [{"run": n.id, "kind": n.kind.value, "status": n.status.value, "started_from": n.parent,
             "changed": {k: v for k, v in n.parameters.items() if base.get(k) != v}}
            for n in ws.materials.summary.nodes]


def _runs_measured(ws: Workspace) -> list[dict]:
    """Every run, with its parameters and the macro holding each metric it recorded."""
    by_source: dict[str, dict[str, str]] = {}
    for v in ws.materials.values:
        by_source.setdefault(v.source, {})[v.record.name] = f"\\{v.macro} (= {v.text})"
    return [{"run": n.id, "kind": n.kind.value, "status": n.status.value, "parameters": n.parameters,
             "metrics": by_source.get(n.id, {})} for n in ws.materials.summary.nodes]


def _outcome_text(ws: Workspace) -> str:
    outcome = ws.materials.outcome
    if outcome is None:
        return "(a run beat the baseline; aisci adds no paragraph of its own)"
    return outcome.text


SECTION_FACTS: dict[str, Callable[[Workspace], Any]] = {
    "topic": lambda ws: ws.ctx.config.study.topic,
    "template_title": lambda ws: ws.ctx.template.manifest.title,
    "template_description": lambda ws: " ".join(ws.ctx.template.manifest.description.split()),
    "metrics": lambda ws: {k: f"{x.direction}: {x.description}" for k, x in ws.ctx.template.manifest.metrics.items()},
    "parameters": lambda ws: {k: f"{p.default!r}: {p.description}"
                              for k, p in ws.ctx.template.manifest.parameters.items()},
    "baseline_notebook": _baseline_notebook,
    "best_run": lambda ws: ws.materials.summary.best or "none",
    "best_changes": _best_changes,
    "runs_changed": _runs_changed,
    "runs_measured": _runs_measured,
    "timeout_s": lambda ws: str(ws.ctx.config.experiments.timeout_s),
    "seeds": lambda ws: str(max(ws.materials.evidence.seeds, 1)),
    "ideas": lambda ws: [i.model_dump(exclude={"rubric"}) for i in ws.materials.ideas.values()
                         if any(n.idea == i.name for n in ws.materials.summary.nodes)],
    "analysis_values": lambda ws: {v.record.name: f"\\{v.macro} (= {v.text}): {v.record.description or v.record.name}"
                                   for v in ws.materials.values if v.source == "analysis"},
    "observations": lambda ws: ws.materials.analysis.observations,
    "figures": lambda ws: [{"label": f.label, "caption": f.caption} for f in ws.materials.figures],
    "outcome": _outcome_text,
    "citations": lambda ws: citation_lines(ws.materials),
}


def citation_lines(m: Materials) -> list[str]:
    return [f"{e.reference.key}: {', '.join(e.reference.surnames_display()[:3]) or '?'}"
            f"{' et al.' if len(e.reference.authors) > 3 else ''}, {e.reference.year or 'n.d.'}, {e.reference.title}"
            for e in m.bib.entries]


def macro_lines(m: Materials) -> list[str]:
    return [f"\\{v.macro} = {v.text}: {v.record.name} of {v.source}"
            + (f" ({v.record.description})" if v.record.description else "") for v in m.values]
