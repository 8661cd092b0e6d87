"""Writeup: values.tex from the records, the sections (an LLM task, or the offline
engine's templates filled with the measured records), paper.ipynb, main.tex, the PDF."""

from __future__ import annotations

import re
import shutil
import string
from datetime import date
from pathlib import Path
from typing import Any

import bibtexparser
from pydantic import BaseModel

from aisci import __version__, results
from aisci.errors import TexMissing
from aisci.fsutil import atomic_write_json, atomic_write_text, read_json, sha256_of
from aisci.llm.tasks import Task
from aisci.notebook import build
from aisci.paper import latex
from aisci.paper.compile import compile_pdf, tex_available
from aisci.paper.values import collect_values, values_tex
from aisci.phases import experiments
from aisci.phases.ideation import load_ideas

PAPER_DIR = Path(__file__).resolve().parent.parent / "paper"
SECTIONS = ("abstract", "introduction", "related_work", "method", "experimental_setup", "results",
            "discussion", "conclusion")
OUTPUTS = ("paper/main.tex", "paper/values.tex", "paper/references.bib", "paper/paper.md",
           *(f"paper/sections/{s}.tex" for s in SECTIONS))
APPENDIX_MARK = "<!-- appendix: how this paper was made -->"  # reviewers read the paper above it
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


class PaperDraft(BaseModel):
    title: str
    abstract: str
    introduction: str
    related_work: str
    method: str
    experimental_setup: str
    results: str
    discussion: str
    conclusion: str


def _offline_draft(inputs: dict[str, Any]) -> PaperDraft:
    """The offline engine's paper: fixed section templates filled with the study's facts and
    the macros of its records."""
    facts = inputs["facts"]
    sections = {}
    for name in SECTIONS:
        text = (PAPER_DIR / "offline" / f"{name}.tex").read_text(encoding="utf-8")
        sections[name] = string.Template(text).substitute(facts).strip() + "\n"
    return PaperDraft(title=f"{facts['template_title_tex']}: a single-factor study", **sections)


DRAFT = Task("writeup.draft", "writeup", PaperDraft, _offline_draft, temperature=0.4, max_tokens=8000)


def inputs(ctx) -> Any:
    sections = ctx.study.path("paper", "sections")
    return {"sections_on_disk": {p.name: sha256_of(p.read_bytes()) for p in sorted(sections.glob("*.tex"))}
            if sections.exists() else {}}


def run(ctx) -> list[str]:
    paper = ctx.study.path("paper")
    for sub in ("sections", "generated", "figures"):
        (paper / sub).mkdir(parents=True, exist_ok=True)
    summary = experiments.summary(ctx.study)
    analysis = read_json(ctx.study.path("analysis", "summary.json"), default={"figures": [], "observations": []})
    values = collect_values(results.experiment_records(ctx.study.root), results.analysis_records(ctx.study.root))
    atomic_write_text(paper / "values.tex", values_tex(values))
    citations = _write_references(ctx, paper / "references.bib")
    macro_for = _macro_lookup(values)
    facts = _facts(ctx, summary, analysis, values, macro_for, citations)
    result = ctx.llm.run(DRAFT, facts=facts, **_model_inputs(ctx, summary, analysis, values, citations))
    draft = result.output
    authors = _write_sections(ctx, paper, draft, result.author)
    metrics = list(ctx.template.manifest.metrics)
    rows = [{"idea": n["idea"], "node": n["id"]} for n in summary["nodes"] if n["status"] == "done"]
    atomic_write_text(paper / "generated" / "results_table.tex", latex.results_table(rows, metrics, macro_for))
    atomic_write_text(paper / "generated" / "figures.tex", _figures(ctx, analysis["figures"], paper))
    atomic_write_text(paper / "generated" / "disclosure.tex", _disclosure(ctx, authors))
    atomic_write_text(paper / "main.tex", _main_tex(draft.title, result.author))
    atomic_write_json(paper / "sections.json", authors)
    atomic_write_text(paper / "paper.md", _markdown(ctx, draft, values))
    ctx.execute_phase_notebook(_notebook(ctx, draft, authors, values), paper / "paper.ipynb", label="writeup")
    _compile(ctx, paper)
    return list(OUTPUTS)


# --- inputs to the draft -------------------------------------------------------------------
def _macro_lookup(values):
    table = {(v.source, v.record.name): v.macro for v in values}
    return lambda source, name: table.get((source, name))


def _write_references(ctx, path: Path) -> list[dict]:
    """references.bib: the template's bibliography (later: the study's library). Never
    invented: every entry comes from a .bib file."""
    source = ctx.template.references_bib
    text = source.read_text(encoding="utf-8") if source.exists() else ""
    atomic_write_text(path, text)
    library = bibtexparser.parse_string(text)
    return [{"key": e.key, "title": str(e.fields_dict["title"].value) if "title" in e.fields_dict else e.key}
            for e in library.entries]


def _facts(ctx, summary, analysis, values, macro_for, citations) -> dict[str, str]:
    manifest = ctx.template.manifest
    primary, metric = ctx.template.primary()
    ideas = {i.name: i for i in load_ideas(ctx.study)}
    tested = [n for n in summary["nodes"] if n["kind"] != "baseline"]
    best = summary.get("best") or "baseline/node-0"
    num_ideas = len(tested)

    def value(name: str) -> str:
        macro = macro_for("analysis", name)
        return f"\\{macro}" if macro else "not available"

    def describe(node):
        idea = ideas.get(node["idea"])
        changed = ", ".join(f"\\texttt{{{latex.escape(k)}}} $= {latex.escape(repr(v))}$" for k, v in
                            (idea.parameters if idea else {}).items())
        return f"\\emph{{{latex.escape(idea.title if idea else node['idea'])}}} ({changed})"

    observations = analysis.get("observations", [])
    return {
        "topic_tex": latex.escape(ctx.config.study.topic),
        "template_title_tex": latex.escape(manifest.title),
        "template_description_tex": latex.escape(" ".join(manifest.description.split())),
        "num_ideas_words": NUMBER_WORDS[num_ideas] if num_ideas < len(NUMBER_WORDS) else str(num_ideas),
        "plural_ideas": "" if num_ideas == 1 else "s",
        "primary_tex": latex.escape(primary.replace("_", " ")),
        "direction_word": "higher" if metric.direction == "maximize" else "lower",
        "baseline_value": value(f"baseline_{primary}"),
        "best_value": value(f"best_{primary}"),
        "delta_value": value(f"best_minus_baseline_{primary}"),
        "best_run_tex": latex.escape(best.split("/")[0]),
        "num_runs": value("num_runs"),
        "num_finished": value("num_finished_runs"),
        "ideas_itemize": latex.itemize([describe(n) for n in tested]) or "(no idea passed the gates)",
        "related_itemize": latex.itemize([f"{latex.escape(c['title'])}~\\cite{{{c['key']}}}" for c in citations]),
        "baseline_parameters_itemize": latex.itemize(
            [f"\\texttt{{{latex.escape(k)}}} $= {latex.escape(repr(v))}$" for k, v in
             next((n["parameters"] for n in summary["nodes"] if n["kind"] == "baseline"), {}).items()]),
        "metrics_itemize": latex.itemize([f"\\texttt{{{latex.escape(k)}}} ({'higher' if m.direction == 'maximize' else 'lower'}"
                                          f" is better): {latex.escape(m.description)}" for k, m in manifest.metrics.items()]),
        "timeout_s": str(ctx.config.experiments.timeout_s),
        "observations_tex": " ".join(latex.escape(o) for o in observations),
        "curves_sentence": (" Figure~\\ref{fig:curves} shows the training curves of every run."
                            if any(f["name"] == "curves" for f in analysis["figures"]) else ""),
    }


def _model_inputs(ctx, summary, analysis, values, citations) -> dict[str, Any]:
    by_source: dict[str, dict[str, str]] = {}
    for v in values:
        by_source.setdefault(v.source, {})[v.record.name] = f"\\{v.macro} (= {v.text})"
    runs = [{"run": n["id"], "kind": n["kind"], "status": n["status"], "parameters": n["parameters"],
             "metrics": by_source.get(n["id"], {})} for n in summary["nodes"]]
    return {
        "topic": ctx.config.study.topic, "template_description": ctx.template.manifest.description,
        "ideas": [i.model_dump(exclude={"rubric"}) for i in load_ideas(ctx.study)
                  if any(n["idea"] == i.name for n in summary["nodes"])],
        "runs": runs, "analysis_values": by_source.get("analysis", {}),
        "observations": analysis.get("observations", []),
        "figures": [{"name": f["name"], "caption": f["caption"]} for f in analysis["figures"]],
        "citations": {c["key"]: c["title"] for c in citations},
    }


# --- outputs ---------------------------------------------------------------------------------
def _write_sections(ctx, paper: Path, draft: PaperDraft, author: str) -> dict[str, dict]:
    """Write each section unless a person edited it since aisci last wrote it: then keep
    theirs and record it as human-written."""
    previous = read_json(paper / "sections.json", default={})
    authors = {}
    for name in SECTIONS:
        path = paper / "sections" / f"{name}.tex"
        last = previous.get(name, {})
        if path.exists() and last.get("written_hash") and sha256_of(path.read_bytes()) != last["written_hash"]:
            authors[name] = {"author": "person", "written_hash": last["written_hash"],
                             "edited_hash": sha256_of(path.read_bytes())}
            continue
        if last.get("author") == "person" and path.exists():
            authors[name] = last
            continue
        text = getattr(draft, name)
        atomic_write_text(path, text if text.endswith("\n") else text + "\n")
        authors[name] = {"author": author, "written_hash": sha256_of(path.read_bytes())}
    return authors


def _figures(ctx, figures: list[dict], paper: Path) -> str:
    blocks = []
    for fig in figures:
        source = ctx.study.path(fig["path"])
        if source.exists():
            shutil.copyfile(source, paper / "figures" / source.name)
            blocks.append(latex.figure_block(f"figures/{source.name}", fig["name"], fig["caption"]))
    return "\n".join(blocks)


def _disclosure(ctx, authors: dict[str, dict]) -> str:
    from aisci.llm.store import CallStore

    totals = CallStore(ctx.study.path("llm", "calls.sqlite")).totals()
    compute = sum(e.get("duration_s", 0) for e in ctx.study.executions())
    who = {a["author"] for a in authors.values()}
    lines = [f"\\texttt{{{name.replace('_', ' ')}}}: "
             f"{latex.escape(build.author_label(a['author']) if a['author'] != 'person' else 'edited by a person')}"
             for name, a in authors.items()]
    return "\n".join([
        r"\section{Disclosure: how this paper was made}",
        f"This paper was produced by aisci {__version__}. Sections and their authors:",
        latex.itemize(lines),
        ("No language model was used: every section was written by aisci's offline engine, which is deterministic "
         "and model-free. " if who <= {"offline-engine", "person"} else ""),
        f"The study made {totals.calls} LLM task calls using {totals.tokens} tokens at a cost of "
        f"\\${totals.cost_usd:.2f}; its notebooks ran for {compute:.0f} seconds of wall time in all. ",
        "Every number in the text is typeset from a record of an executed notebook (see values.tex).", ""])


def _main_tex(title: str, author: str) -> str:
    template = string.Template((PAPER_DIR / "article.tex").read_text(encoding="utf-8"))
    note = (r"\thanks{Written by aisci's offline engine: deterministic and model-free; no language model wrote "
            r"this text. The experiments and every number in it are real.}" if author == "offline-engine" else
            f"\\thanks{{Drafted by {latex.escape(author.removeprefix('model:'))} through aisci; see the disclosure appendix.}}")
    return template.substitute(title=latex.escape(title), title_note=note, author="aisci",
                               date=date.today().isoformat())


def _markdown(ctx, draft: PaperDraft, values) -> str:
    """The paper as Markdown, numbers filled in: readable without TeX, and what reviewers read."""
    shown = {v.macro: v.text for v in values}
    paper = ctx.study.path("paper")
    parts = [f"# {draft.title}\n"]
    for name in SECTIONS:
        text = (paper / "sections" / f"{name}.tex").read_text(encoding="utf-8")
        heading = "Abstract" if name == "abstract" else name.replace("_", " ").title()
        parts.append(f"## {heading}\n\n{latex.to_markdown(text, shown)}\n")
        if name == "results":
            parts.append(latex.table_to_markdown((paper / "generated" / "results_table.tex").read_text(), shown))
            parts += [f"![{caption}]({path})\n\nFigure {n}: {caption}\n" for n, (path, caption) in enumerate(
                re.findall(r"\\includegraphics\[[^\]]*\]\{([^}]*)\}\s*\\caption\{([^}]*)\}",
                           (paper / "generated" / "figures.tex").read_text()), start=1)]
    disclosure = ctx.study.path("paper", "generated", "disclosure.tex").read_text(encoding="utf-8")
    parts.append(APPENDIX_MARK + "\n\n## " + latex.to_markdown(
        disclosure.replace("\\section{", "").replace("}\n", "\n", 1), shown))
    return "\n".join(parts) + "\n"


def _notebook(ctx, draft: PaperDraft, authors: dict, values):
    shown = {v.macro: v.text for v in values}
    main_author = next(iter({a["author"] for a in authors.values()} - {"person"}), "person")
    nb = build.notebook(draft.title, main_author, intro=(
        "The paper, one cell per section. The LaTeX source of each section is `paper/sections/NAME.tex` "
        "(edit it there and rerun: a hand-edited section is kept and disclosed as human-written); "
        "`paper/main.tex` assembles them with `values.tex`, whose macros carry the recorded numbers."))
    nb.cells.append(build.parameters_cell({"study_dir": str(ctx.study.root)}))
    for name in SECTIONS:
        text = (ctx.study.path("paper", "sections", f"{name}.tex")).read_text(encoding="utf-8")
        nb.cells.append(build.markdown(f"## {name.replace('_', ' ').title()}\n\n{latex.to_markdown(text, shown)}",
                                       authors[name]["author"], section=name))
    nb.cells.append(build.markdown("## Where every number comes from", build.AISCI_AUTHOR))
    nb.cells.append(build.code(
        "import pandas as pd\nfrom aisci import results\nfrom aisci.paper.values import collect_values\n\n"
        "values = collect_values(results.experiment_records(study_dir), results.analysis_records(study_dir))\n"
        "pd.DataFrame([{'macro': '\\\\' + v.macro, 'value': v.text, 'record': v.record.name, "
        "'notebook': v.record.notebook, 'cell': v.record.cell_index} for v in values])"))
    return nb


def _compile(ctx, paper: Path) -> None:
    if not ctx.config.paper.compile:
        return
    if not tex_available():
        ctx.warn(str(TexMissing(f"no LaTeX found, so no PDF was built; the .tex is in {ctx.study.relative(paper)}/ "
                                "(apt-get install texlive-latex-recommended texlive-fonts-recommended latexmk)")))
        return
    result = compile_pdf(paper, timeout_s=ctx.config.paper.compile_timeout_s)
    if result.ok and result.pdf:
        shutil.copyfile(result.pdf, paper / "paper.pdf")
    else:
        ctx.warn(f"LaTeX failed ({'; '.join(result.errors[:2]) or 'see paper/compile.log'}); the .tex is in paper/")
