"""Writeup: the finished notebooks become a paper whose every number and citation is checked.

1. values.tex (one macro per record), references.bib (template, study library, attribution
   table: never invented) and the analysis figures (kept, captioned, deduplicated).
2. Sections, each a file in paper/sections/: method and experimental setup summarised from
   the executed baseline and best-run notebooks (task writeup.method), then title, abstract,
   introduction, related work, results, discussion, limitations and conclusion (writeup.draft).
   The offline engine fills fixed templates with the measured records instead. A section a
   person edited (or locked) is kept and disclosed as theirs.
3. Checks of every section (numbers, experiment claims, citation keys, attributions, value
   macros, references, figures, chktex); a model-written section with problems is rewritten
   by writeup.fix for at most `[paper] fix_rounds` rounds; an invented citation key left
   after that is removed; the rest is reported in paper/checks.json.
4. main.tex (aisci's article or a venue's style), compiled with a time limit; a LaTeX error
   located in a model-written section goes back to writeup.fix, again for bounded rounds.
   Without TeX: the .tex tree, a clear message, paper.md and paper.html.
5. The disclosure appendix, paper.md (the review reads it up to APPENDIX_MARK) and the
   executed paper.ipynb.
"""

from __future__ import annotations

import shutil
import string
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aisci import gates, results
from aisci.constants import OFFLINE_ENGINE
from aisci.errors import TexMissing
from aisci.artifacts import Analysis, ExperimentSummary, Ideas, Paper, novel_ideas
from aisci.fsutil import atomic_write_json, atomic_write_text, read_json, sha256_of
from aisci.literature.attribution import load_table
from aisci.literature.encoding import encode_text
from aisci.llm.tasks import Task
from aisci.notebook import build
from aisci.paper import (
    bibliography,
    citations,
    disclosure,
    latex,
    notebooks,
    render,
    style,
    verify,
)
from aisci.paper.claims import Evidence
from aisci.paper import code_diff
from aisci.paper.outcome import study_outcome
from aisci.paper.compile import CompileResult, chktex, compile_pdf, tex_available
from aisci.paper.figures import figures_tex, select
from aisci.paper.numbers import Fact, as_number, numbers_in_text
from aisci.paper.sections import HEADINGS, PERSON, SECTIONS, read_section, write_section
from aisci.paper.values import collect_values, values_tex

PAPER_DIR = Path(__file__).resolve().parent.parent / "paper"
METHOD_SECTIONS = ("method", "experimental_setup")
DRAFT_SECTIONS = tuple(s for s in SECTIONS if s not in METHOD_SECTIONS)
CONSUMES = (Ideas, ExperimentSummary, Analysis)
PRODUCES = (Paper,)
CONFIG = ("study.topic", "paper", "experiments.timeout_s")
APPENDIX_MARK = Paper.APPENDIX_MARK  # reviewers read the paper above it
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


# --- the tasks -------------------------------------------------------------------------------------
class MethodSections(BaseModel):
    method: str
    experimental_setup: str


class PaperDraft(BaseModel):
    title: str
    abstract: str
    introduction: str
    related_work: str
    results: str
    discussion: str
    limitations: str
    conclusion: str


class SectionRevision(BaseModel):
    text: str


def _fill(name: str, facts: dict[str, str]) -> str:
    text = (PAPER_DIR / "offline" / f"{name}.tex").read_text(encoding="utf-8")
    return string.Template(text).substitute(facts).strip() + "\n"


def _offline_method(inputs: dict[str, Any]) -> MethodSections:
    """The offline engine's method and setup: templates filled with the baseline notebook's
    own outline, its parameters and the study's settings."""
    return MethodSections(**{name: _fill(name, inputs["facts"]) for name in METHOD_SECTIONS})


def _offline_draft(inputs: dict[str, Any]) -> PaperDraft:
    """The offline engine's paper: fixed section templates filled with the study's facts and
    the macros of its records."""
    facts = inputs["facts"]
    sections = {name: _fill(name, facts) for name in DRAFT_SECTIONS if name != "title"}
    return PaperDraft(title=facts["title_tex"], **sections)


def _offline_fix(inputs: dict[str, Any]) -> SectionRevision:
    """The offline engine does not rewrite text: it keeps the section and the checks report."""
    return SectionRevision(text=inputs["text"])


METHOD = Task("writeup.method", "writeup", MethodSections, _offline_method, temperature=0.3, max_tokens=4000)
DRAFT = Task("writeup.draft", "writeup", PaperDraft, _offline_draft, temperature=0.4, max_tokens=8000)
FIX = Task("writeup.fix", "writeup", SectionRevision, _offline_fix, temperature=0.2, max_tokens=4000)


SENTENCE_OPENERS = {"how", "what", "why", "when", "whether", "which", "where", "does", "do", "can", "is", "are",
                    "the", "a", "an", "on"}


def _mid_sentence(text: str) -> str:
    """A topic written as a sentence ("How weight decay shapes grokking"), to follow "a study
    on": a leading question word or article is lowered; a name ("Adam", "GANs") is kept."""
    text = text.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    return first.lower() + text[len(first):] if first.lower() in SENTENCE_OPENERS else text


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- the runner's view ---------------------------------------------------------------------------
def inputs(ctx) -> Any:
    """Besides the upstream digest: the section files (a person's edit reruns the writeup and
    is kept), the study library, the venue style folder, and the paper and figures gates."""
    sections = ctx.study.path("paper", "sections")
    on_disk = ({p.name: sha256_of(p.read_bytes()) for p in sorted(sections.glob("*.tex"))}
               if sections.exists() else {})
    library = ctx.study.path("literature", "library.bib")
    style_files = {}
    if ctx.config.paper.style_dir:
        folder = Path(ctx.config.paper.style_dir).expanduser()
        folder = folder if folder.is_absolute() else ctx.study.root / folder
        if folder.is_dir():
            style_files = {p.name: sha256_of(p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()}
    return {"sections_on_disk": on_disk,
            "library": sha256_of(library.read_bytes()) if library.exists() else None,
            "template_bib": (sha256_of(ctx.template.references_bib.read_bytes())
                             if ctx.template.references_bib.exists() else None),
            "style": style_files,
            "paper_gate": gates.decisions_digest(ctx.study, "paper"),
            "figures_gate": gates.decisions_digest(ctx.study, "figures")}


def run(ctx) -> None:
    writer = _Writer(ctx)
    writer.prepare()
    writer.draft()
    writer.revise()
    writer.build()
    writer.publish()


class _Writer:
    def __init__(self, ctx):
        self.ctx = ctx
        self.study = ctx.study
        self.cfg = ctx.config.paper
        self.paper = self.study.path("paper")
        self.sections_dir = self.paper / "sections"
        self.model_fixes = not ctx.llm.uses_offline_engine("writeup") and self.cfg.fix_rounds > 0
        self.texts: dict[str, str] = {}
        self.meta: dict[str, disclosure.SectionAuthor] = {}
        self.kept: set[str] = set()  # sections a person wrote, edited or locked: never rewritten
        self.findings: list[verify.Finding] = []
        self.history: list[verify.Finding] = []  # problems found before a fix
        self.rounds = {"checks": 0, "latex": 0}
        self.compile_status: dict[str, Any] = {"status": "off"}

    # --- 1. what the paper is made from ------------------------------------------------------------
    def prepare(self) -> None:
        ctx = self.ctx
        for sub in ("sections", "generated", "figures"):
            (self.paper / sub).mkdir(parents=True, exist_ok=True)
        self.style = style.load_style(self.cfg.style_dir, self.study.root)
        # as the JSON the gathering code reads (the split of this class, issue 14, reads them typed)
        self.summary = ExperimentSummary.load(self.study).as_json()
        self.analysis = Analysis.load(self.study).as_json()
        self.values = collect_values(results.experiment_records(self.study.root),
                                     results.analysis_records(self.study.root))
        atomic_write_text(self.paper / "values.tex", values_tex(self.values))
        self.macros = {v.macro: v.text for v in self.values}
        self.ideas = {i.name: i for i in Ideas.load(self.study).ideas}
        query = " ".join([ctx.config.study.topic, ctx.template.manifest.title, *(i.title for i in self.ideas.values())])
        self.bib = bibliography.collect(ctx.template.references_bib, self.study.path("literature"),
                                        query=query, limit=self.cfg.max_references)
        self.figures, figure_problems = select(self.study, self.analysis.get("figures", []), self.paper)
        self.figure_findings = [verify.Finding(check="figure", ok=False, section=None, detail=p, status="open")
                                for p in figure_problems]
        self.evidence = Evidence.from_study(self.study.root, self.summary, ctx.template.manifest)
        self.facts = self._number_facts()
        self.outcome = self._outcome()
        self.code_changes = code_diff.best_run_diff(self.study, self.summary)

    def _outcome(self):
        """aisci's own account when no idea ran, every run failed or nothing beat the baseline."""
        verdicts = read_json(self.study.path("ideas", "novelty.json"), default={})
        tested = novel_ideas(self.study)
        primary, metric = self.ctx.template.primary()
        return study_outcome(self.summary.get("nodes", []), ideas_proposed=len(self.ideas), ideas_passed=len(tested),
                             not_novel=sum(1 for d in verdicts.values() if isinstance(d, dict) and d.get("novel") is False),
                             primary=primary, direction=metric.direction, best=self.summary.get("best"))

    def _number_facts(self) -> list[Fact]:
        manifest, summary = self.ctx.template.manifest, self.summary
        facts = [Fact(float(v.record.value), f"record {v.record.name} of {v.source}") for v in self.values
                 if as_number(v.record.value) is not None]
        for node in summary.get("nodes", []):
            facts += [Fact(as_number(x), f"parameter {k} of {node['id']}") for k, x in node.get("parameters", {}).items()
                      if as_number(x) is not None]
        for name, param in manifest.parameters.items():
            facts += [Fact(as_number(x), f"declared value of {name}") for x in param.values() if as_number(x) is not None]
        facts += [Fact(float(s), "a seed the template declares") for s in manifest.seeds]
        facts.append(Fact(float(manifest.time_budget_s), "the template's time budget"))
        facts.append(Fact(float(self.ctx.config.experiments.timeout_s), "the wall-time limit per notebook"))
        text = " ".join([manifest.title, manifest.description, *(c.source for c in self.ctx.template.baseline().cells
                                                                  if c.cell_type == "markdown")])
        facts += [Fact(x, "the template's description") for x in numbers_in_text(text)]
        nodes = summary.get("nodes", [])
        counts = {"runs": len(nodes), "finished runs": sum(n["status"] == "done" for n in nodes),
                  "ideas tested": len({n["idea"] for n in nodes if n["kind"] != "baseline"}), "seeds per configuration":
                  self.evidence.seeds, "metrics": len(manifest.metrics), "parameters": len(manifest.parameters),
                  "figures": len(self.figures)}
        facts += [Fact(float(n), f"number of {what}") for what, n in counts.items()]
        return facts

    def paper_facts(self) -> verify.PaperFacts:
        labels = {"tab:results", "sec:disclosure", *(f"sec:{n}" for n in render.NUMBERED)}
        for text in self.texts.values():
            labels |= verify.labels_in(text)
        return verify.PaperFacts(self.facts, self.evidence, self.bib.by_key(), self.macros, self.figures, labels)

    # --- 2. the sections --------------------------------------------------------------------------
    def draft(self) -> None:
        previous = read_json(self.paper / "sections.json", default={})
        locked = gates.locked_sections(self.study)
        for name in SECTIONS:
            current = read_section(self.sections_dir, name)
            if current.by_person or (name in locked and current.exists):
                self.kept.add(name)
                self.texts[name] = current.body
                before = previous.get(name, {})
                based_on = current.author or before.get("based_on") or before.get("author")
                self.meta[name] = disclosure.SectionAuthor(
                    name=name, author=PERSON if current.by_person else current.author,
                    based_on=based_on if current.by_person and based_on != PERSON else None, locked=name in locked)
            elif name in locked:
                self.ctx.warn(f"paper section {name} is locked but paper/sections/{name}.tex is missing: written afresh")
        facts = self._offline_facts()
        needed = [n for n in METHOD_SECTIONS if n not in self.kept]
        if needed:
            result = self.ctx.llm.run(METHOD, facts=facts, **self._method_inputs())
            self._write_drafts(result.output, needed, result.author, result.call_id)
        needed = [n for n in DRAFT_SECTIONS if n not in self.kept]
        if needed:
            result = self.ctx.llm.run(DRAFT, facts=facts, **self._draft_inputs())
            draft = result.output
            if "title" in needed:
                draft.title = latex.escape(draft.title) if result.author != OFFLINE_ENGINE else draft.title
            self._write_drafts(draft, needed, result.author, result.call_id)

    def _write_drafts(self, output: BaseModel, names: list[str], author: str, call_id: int | None) -> None:
        for name in names:
            written = write_section(self.sections_dir, name, getattr(output, name), author)
            self.texts[name] = written.body
            self.meta[name] = disclosure.SectionAuthor(name=name, author=author, calls=[call_id] if call_id else [])

    # --- 3. checks, and fixes by the model ---------------------------------------------------------
    def check(self) -> list[verify.Finding]:
        facts = self.paper_facts()
        found: list[verify.Finding] = []
        for name in SECTIONS:
            found += verify.check_section(name, self.texts[name], facts)
            if self.cfg.chktex and name != "title":
                found += self._lint(name)
        found += verify.check_figures_referenced(self.texts, self.figures)
        return found

    def _lint(self, name: str) -> list[verify.Finding]:
        section = read_section(self.sections_dir, name)
        offset = len(section.path.read_text(encoding="utf-8").splitlines()) - len(section.body.splitlines())
        lines = section.body.splitlines()
        return [verify.Finding(check="chktex", ok=False, section=name, severity="warning",
                               detail=f"chktex warning {w.number} at line {w.line - offset}: {w.message}",
                               snippet=lines[w.line - offset - 1].strip() if 0 < w.line - offset <= len(lines) else "")
                for w in chktex(section.path)]

    def revise(self) -> None:
        found = self.check()
        stuck: set[str] = set()  # sections whose last fix changed nothing: asking again would not help
        for round_number in range(1, self.cfg.fix_rounds + 1):
            todo = {n: p for n, p in self._fixable(found).items() if n not in stuck}
            if not self.model_fixes or not todo:
                break
            self.rounds["checks"] = round_number
            self.history += [f for f in found if f.section in todo]
            for name, problems in todo.items():
                before = self.texts[name]
                self._fix(name, [p.for_model() for p in self._with_canonical_keys(problems)])
                if self.texts[name].strip() == before.strip():
                    stuck.add(name)
            found = self.check()
        self.findings = self._remove_unknown_keys(found)

    def _fixable(self, found: list[verify.Finding]) -> dict[str, list[verify.Finding]]:
        todo: dict[str, list[verify.Finding]] = {}
        for finding in found:
            if not finding.ok and finding.section and finding.section not in self.kept:
                todo.setdefault(finding.section, []).append(finding)
        return todo

    def _with_canonical_keys(self, problems: list[verify.Finding]) -> list[verify.Finding]:
        """An attribution problem offers the canonical work, added to references.bib so the
        fix can cite it."""
        out = []
        for problem in problems:
            if problem.check == "attribution" and problem.key:
                canonical = next((r for m in load_table().methods for r in m.references if r.key == problem.key), None)
                if canonical is not None:
                    key = self.bib.add_canonical(canonical)
                    problem = problem.model_copy(update={"suggestion": f"cite {canonical.short()} as \\cite{{{key}}} "
                                                                      "(it is in references.bib)"})
            out.append(problem)
        return out

    def _fix(self, name: str, problems: list[str]) -> None:
        result = self.ctx.llm.run(FIX, section=name, text=self.texts[name], problems="\n".join(f"- {p}" for p in problems),
                                  macros=self._macro_lines(), citations=self._citation_lines(),
                                  labels=", ".join(sorted(self.paper_facts().labels | {f.label for f in self.figures})))
        text = result.output.text
        if name == "title":
            text = " ".join(text.split())
        written = write_section(self.sections_dir, name, text, result.author)
        self.texts[name] = written.body
        calls = self.meta[name].calls + ([result.call_id] if result.call_id else [])
        self.meta[name] = self.meta[name].model_copy(update={"author": result.author, "calls": calls,
                                                             "revisions": self.meta[name].revisions + 1})

    def _remove_unknown_keys(self, found: list[verify.Finding]) -> list[verify.Finding]:
        """A citation key nobody supplied, still there after the fix rounds, is removed from a
        section aisci wrote (and reported); a person's section is only reported."""
        out = []
        for name in SECTIONS:
            bad = {f.key for f in found if f.check == "citation" and f.section == name and f.key}
            if bad and name not in self.kept:
                text = citations.remove_keys(self.texts[name], bad)
                self.texts[name] = write_section(self.sections_dir, name, text, self.meta[name].author).body
        for finding in found:
            if finding.check == "citation" and finding.section not in self.kept:
                finding = finding.model_copy(update={"ok": True, "status": "removed",
                                                     "suggestion": "removed from the text by aisci"})
            out.append(finding)
        return out

    # --- 4. LaTeX ----------------------------------------------------------------------------------
    def build(self) -> None:
        metrics = list(self.ctx.template.manifest.metrics)
        rows = [{"idea": n["idea"] if n["id"].endswith("/node-0") else n["id"], "node": n["id"]}
                for n in self.summary.get("nodes", []) if n["status"] == "done"]
        table = {(v.source, v.record.name): v.macro for v in self.values}
        atomic_write_text(self.paper / "generated" / "results_table.tex",
                          latex.results_table(rows, metrics, lambda node, metric: table.get((node, metric))))
        atomic_write_text(self.paper / "generated" / "figures.tex", figures_tex(self.figures))
        atomic_write_text(self.paper / "generated" / "outcome.tex", self.outcome.to_latex() if self.outcome else "")
        atomic_write_text(self.paper / "generated" / "code_changes.tex",
                          code_diff.appendix_tex(self.summary.get("best"), self.code_changes))
        style.install(self.style, self.paper)
        self.bib.write(self.paper / "references.bib")
        changed = [n for n in self.bib.notes if ": " in n and "left out" not in n]
        if changed:
            self.ctx.warn(f"references.bib: {len(changed)} field(s) could not be written as the source gave them, "
                          f"e.g. {changed[0]} (all in paper/checks.json, bibliography_notes)")
        self._write_tex()
        (self.paper / "paper.pdf").unlink(missing_ok=True)  # never leave a PDF of other sources
        if not self.cfg.compile:
            return
        if not tex_available():
            self.compile_status = {"status": "no-tex"}
            self.ctx.warn(str(TexMissing(
                f"no LaTeX found, so no PDF was built; the .tex is in {self.study.relative(self.paper)}/ and the paper "
                "is readable as paper/paper.md and paper/paper.html (apt-get install texlive-latex-recommended "
                "texlive-fonts-recommended latexmk)")))
            return
        result = self._compile_with_fixes()
        if result.ok and self.model_fixes and self.rounds["latex"]:
            before = self._disclosure_tex()
            self.findings = self._remove_unknown_keys(self.check())  # what the LaTeX fixes changed
            if self._disclosure_tex() != before or any(f.status == "removed" for f in self.findings):
                self._write_tex()
                result = compile_pdf(self.paper, timeout_s=self.cfg.compile_timeout_s)
        self._record_compile(result)

    def _compile_with_fixes(self) -> CompileResult:
        result = compile_pdf(self.paper, timeout_s=self.cfg.compile_timeout_s)
        for round_number in range(1, self.cfg.fix_rounds + 1):
            located = {n: e for n, e in result.section_errors().items() if n in self.texts and n not in self.kept}
            if result.ok or not self.model_fixes or not located:
                break
            self.rounds["latex"] = round_number
            for name, errors in located.items():
                offset = self._header_lines(name)
                lines = self.texts[name].splitlines()
                problems = []
                for line, message in errors:
                    body_line = line - offset
                    shown = lines[body_line - 1].strip() if 0 < body_line <= len(lines) else ""
                    problems.append(f"[latex] LaTeX stopped with \"{message}\" at line {body_line} of the section"
                                    + (f": \"{shown}\"" if shown else ""))
                    self.history.append(verify.Finding(check="latex", ok=False, section=name,
                                                       detail=f"LaTeX error: {message} (line {body_line})",
                                                       snippet=shown))
                self._fix(name, problems)
            self._write_tex()
            result = compile_pdf(self.paper, timeout_s=self.cfg.compile_timeout_s)
        return result

    def _header_lines(self, name: str) -> int:
        section = read_section(self.sections_dir, name)
        return len(section.path.read_text(encoding="utf-8").splitlines()) - len(section.body.splitlines())

    def _record_compile(self, result: CompileResult) -> None:
        log = self.study.relative(result.log)
        if result.ok and result.pdf:
            shutil.copyfile(result.pdf, self.paper / "paper.pdf")
            self.compile_status = {"status": "ok", "log": log, "latex_fix_rounds": self.rounds["latex"]}
            return
        reason = "timed out" if result.timed_out else "; ".join(result.errors[:3]) or f"see {log}"
        self.compile_status = {"status": "failed", "log": log, "errors": result.errors,
                               "latex_fix_rounds": self.rounds["latex"]}
        located = result.section_errors()
        for name, errors in located.items():
            for line, message in errors:
                self.findings.append(verify.Finding(check="latex", ok=False, section=name,
                                                    detail=f"LaTeX error in sections/{name}.tex line {line}: {message}"))
        if not located:
            self.findings.append(verify.Finding(check="latex", ok=False, detail=f"LaTeX failed: {reason}"))
        self.ctx.warn(f"LaTeX failed ({reason}); no PDF. The .tex is in paper/, the log in {log}, and the paper "
                      "is readable as paper/paper.md and paper/paper.html")

    def _write_tex(self) -> None:
        atomic_write_text(self.paper / "generated" / "disclosure.tex", self._disclosure_tex())
        atomic_write_text(self.paper / "main.tex", style.main_tex(
            self.style, title=self.texts["title"].strip(), title_note=self._title_note_tex(), author=self._author_tex(),
            options=self.cfg.style_options, preamble=self.cfg.preamble))

    def _author_tex(self) -> str:
        return latex.escape(self.cfg.author)

    def _title_note_tex(self) -> str:
        return r"\thanks{" + latex.escape(self._note()) + " See the disclosure appendix.}"

    def _note(self) -> str:
        writers = {m.author for m in self.meta.values()} - {PERSON}
        if writers <= {OFFLINE_ENGINE}:
            return ("Written by aisci's offline engine: deterministic and model-free; no language model wrote this text. "
                    "The experiments and every number in it are real.")
        models = ", ".join(sorted(w.removeprefix("model:") for w in writers if w.startswith("model:")))
        return f"Drafted by {models} through aisci."

    # --- 5. the disclosure, paper.md, paper.html, paper.ipynb -------------------------------------
    def _open_problems(self) -> list[verify.Finding]:
        return [f for f in self.findings + self.figure_findings if not f.ok and f.severity == "error"]

    def _disclosure(self) -> disclosure.Disclosure:
        return disclosure.gather(self.study, [self.meta[n] for n in SECTIONS], len(self._open_problems()))

    def _disclosure_tex(self) -> str:
        return disclosure.to_latex(self._disclosure())

    def publish(self) -> None:
        record = self._disclosure()
        cited = list(dict.fromkeys(k for n in SECTIONS for k in citations.cited_keys(self.texts[n])))
        markdown = render.paper_markdown(
            title=self.texts["title"], note=self._note(), bodies=self.texts, values=self.macros,
            table_tex=(self.paper / "generated" / "results_table.tex").read_text(encoding="utf-8"),
            figures=self.figures, bib=self.bib.by_key(), cited=cited, appendix_mark=APPENDIX_MARK,
            appendix=disclosure.to_markdown(record) + code_diff.appendix_markdown(self.summary.get("best"),
                                                                                  self.code_changes),
            outcome=self.outcome.to_markdown() if self.outcome else "")
        atomic_write_text(self.paper / "paper.md", markdown)
        page = render.paper_html(markdown, latex.to_markdown(self.texts["title"], self.macros))
        if page is not None:
            atomic_write_text(self.paper / "paper.html", page)
        atomic_write_json(self.paper / "sections.json", {n: {**self.meta[n].model_dump(), "kept": n in self.kept}
                                                         for n in SECTIONS})
        atomic_write_json(self.paper / "checks.json", self._checks_record())
        open_problems = self._open_problems()
        if open_problems:
            self.ctx.warn(f"the paper's checks left {len(open_problems)} problem(s) open, e.g. "
                          f"{open_problems[0].section or 'paper'}: {open_problems[0].detail} (see paper/checks.json)")
        self.ctx.execute_phase_notebook(self._notebook(markdown), self.paper / "paper.ipynb",
                                        parameters={"study_dir": self.study.root_from(self.paper)}, label="writeup")

    def _checks_record(self) -> dict:
        final = self.findings + self.figure_findings
        still = {(f.check, f.section, f.detail) for f in final}
        fixed = [f.model_copy(update={"ok": True, "status": "fixed"}) for f in self.history
                 if (f.check, f.section, f.detail) not in still]
        fixed = list({(f.check, f.section, f.detail): f for f in fixed}.values())
        failing = {f.section for f in final if not f.ok}
        passed = [verify.passes(n) for n in SECTIONS if n not in failing]
        return {"findings": [f.model_dump() for f in passed + fixed + final],
                "open": len(self._open_problems()),
                "warnings": sum(1 for f in final if not f.ok and f.severity == "warning"),
                "fix_rounds": self.rounds, "compile": self.compile_status, "style": self.style.describe(),
                "bibliography": self.bib.provenance(), "bibliography_notes": self.bib.notes}

    def _notebook(self, markdown: str):
        main_author = next(iter(sorted({m.author for m in self.meta.values()} - {PERSON})), PERSON)
        title = latex.to_markdown(self.texts["title"], self.macros)
        nb = build.notebook(title, main_author, intro=(
            "The paper, one cell per section. The LaTeX source of each section is `paper/sections/NAME.tex` "
            "(edit it there and rerun: an edited section is kept and disclosed as written by a person); "
            "`paper/main.tex` assembles them with `values.tex`, whose macros carry the recorded numbers. "
            "The whole paper is also in `paper.md` and `paper.html`."))
        nb.cells.append(build.parameters_cell({"study_dir": self.study.root_from(self.paper)}))
        body, _, appendix = markdown.partition(APPENDIX_MARK)
        for chunk in body.split("\n## ")[1:]:
            heading = chunk.split("\n", 1)[0]
            name = next((n for n in SECTIONS if heading.endswith(HEADINGS[n])), None)
            author = self.meta[name].author if name else build.AISCI_AUTHOR
            nb.cells.append(build.markdown("## " + chunk.strip(), author, **({"section": name} if name else {})))
        nb.cells.append(build.markdown("## The writeup's checks\n\nEach number, claim, citation, figure and LaTeX "
                                       "problem the checks found, and what became of it (`paper/checks.json`).",
                                       build.AISCI_AUTHOR))
        nb.cells.append(build.code(
            "import json\nfrom pathlib import Path\nimport pandas as pd\n\n"
            "checks = json.loads(Path(study_dir, 'paper', 'checks.json').read_text())\n"
            "print(f\"{checks['open']} open problem(s), {checks['warnings']} warning(s); PDF: {checks['compile']['status']}\")\n"
            "pd.DataFrame(checks['findings'], columns=['check', 'ok', 'status', 'section', 'detail', 'suggestion'])"))
        nb.cells.append(build.markdown("## Where every number comes from", build.AISCI_AUTHOR))
        nb.cells.append(build.code(
            "from aisci import results\nfrom aisci.paper.values import collect_values\n\n"
            "values = collect_values(results.experiment_records(study_dir), results.analysis_records(study_dir))\n"
            "pd.DataFrame([{'macro': '\\\\' + v.macro, 'value': v.text, 'record': v.record.name, "
            "'notebook': v.record.notebook, 'cell': v.record.cell_index} for v in values])"))
        nb.cells.append(build.markdown(appendix.strip(), build.AISCI_AUTHOR))
        return nb

    # --- the tasks' inputs ----------------------------------------------------------------------
    def _baseline_node(self) -> dict | None:
        return next((n for n in self.summary.get("nodes", []) if n["kind"] == "baseline"), None)

    def _offline_facts(self) -> dict[str, str]:
        manifest = self.ctx.template.manifest
        primary, metric = self.ctx.template.primary()
        nodes = self.summary.get("nodes", [])
        tested = list(dict.fromkeys(n["idea"] for n in nodes if n["kind"] != "baseline"))
        best = self.summary.get("best") or "baseline/node-0"
        macro_of = {(v.source, v.record.name): v.macro for v in self.values}
        by_id = {n["id"]: n for n in nodes}

        def value(name: str) -> str:
            macro = macro_of.get(("analysis", name))
            return f"\\{macro}" if macro else "not available"

        def setting(name: str, v) -> str:
            if isinstance(v, str):  # a string in math mode would set its quotes as primes
                return f"\\texttt{{{latex.escape(name)}}} = \\texttt{{{latex.escape(repr(v))}}}"
            return f"\\texttt{{{latex.escape(name)}}} $= {latex.escape(repr(v))}$"

        def describe(name: str) -> str:
            idea = self.ideas.get(name)
            changed = ", ".join(setting(k, v) for k, v in (idea.parameters if idea else {}).items())
            return f"\\emph{{{latex.escape(idea.title if idea else name)}}}" + (f" ({changed})" if changed else "")

        def run_line(node: dict) -> str:
            parent = by_id.get(node.get("parent") or "", {})
            changes = {k: v for k, v in node.get("parameters", {}).items() if parent.get("parameters", {}).get(k) != v}
            status = "" if node["status"] == "done" else f", {latex.escape(node['status'])}"
            return (f"\\texttt{{{latex.escape(node['id'])}}} ({latex.escape(node['kind'])}{status}, from "
                    f"\\texttt{{{latex.escape(parent.get('id', 'nothing'))}}}): "
                    + (", ".join(setting(k, v) for k, v in changes.items()) or "no setting changed"))

        seeds = max(self.evidence.seeds, 1)
        baseline = self._baseline_node()
        figures = " ".join(f"Figure~\\ref{{{f.label}}} shows the "
                           f"{latex.escape(f.caption[:1].lower() + f.caption[1:]).rstrip('.')}." for f in self.figures)
        improved = best.split("/")[0] != "baseline"
        changed = sorted({k for n in nodes if n["kind"] != "baseline" for k, v in n.get("parameters", {}).items()
                          if (baseline or {}).get("parameters", {}).get(k) != v})
        return {
            "title_tex": (f"{latex.escape(manifest.title)}: how {latex.escape(_and([c.replace('_', ' ') for c in changed]))} "
                          f"{'moves' if len(changed) == 1 else 'move'} the {latex.escape(primary.replace('_', ' '))}"
                          if changed else f"{latex.escape(manifest.title)}: a baseline study"),
            "topic_tex": latex.escape(_mid_sentence(self.ctx.config.study.topic)),
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
            "num_finished": value("num_finished_runs"),
            "ideas_itemize": latex.itemize([describe(n) for n in tested]) or "(no idea passed the gates)",
            "runs_itemize": latex.itemize([run_line(n) for n in nodes if n["kind"] != "baseline"]) or "(none)",
            "related_itemize": latex.itemize([f"{encode_text(e.reference.title or e.reference.key).latex}~\\cite{{{e.reference.key}}}"
                                              for e in self.bib.entries]) or "(the study's bibliography is empty)",
            "notebook_steps_itemize": latex.itemize([latex.prose(s) for s in notebooks.outline(self.ctx.template.baseline())])
                                      or "(the notebook has no markdown headings)",
            "baseline_parameters_itemize": latex.itemize(
                [setting(k, v) for k, v in (baseline or {}).get("parameters", {}).items()]),
            "metrics_itemize": latex.itemize([f"\\texttt{{{latex.escape(k)}}} ({'higher' if m.direction == 'maximize' else 'lower'}"
                                              f" is better): {latex.escape(m.description)}" for k, m in manifest.metrics.items()]),
            "timeout_s": str(self.ctx.config.experiments.timeout_s),
            "seeds_phrase": f"{NUMBER_WORDS[seeds] if seeds < len(NUMBER_WORDS) else seeds} seed{'s' if seeds > 1 else ''}",
            "observations_tex": " ".join(latex.escape(o) for o in self.analysis.get("observations", [])),
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

    def _method_inputs(self) -> dict[str, Any]:
        manifest = self.ctx.template.manifest
        baseline = self._baseline_node()
        best_id = self.summary.get("best")
        best = next((n for n in self.summary.get("nodes", []) if n["id"] == best_id), None)
        base_path = self.study.path(baseline["notebook"]) if baseline and baseline.get("notebook") else None
        base_params = (baseline or {}).get("parameters", {})
        if best and best is not baseline and best.get("notebook") and base_path:
            # the method section describes the code change: the diff of the cells, else the new code
            changes = self.code_changes or notebooks.notebook_text(self.study.path(best["notebook"]),
                                                                   leave_out=notebooks.sources(base_path))
        else:
            changes = "(the best run is the baseline itself)"
        return {
            "topic": self.ctx.config.study.topic, "template_title": manifest.title,
            "template_description": " ".join(manifest.description.split()),
            "metrics": {k: f"{m.direction}: {m.description}" for k, m in manifest.metrics.items()},
            "parameters": {k: f"{p.default!r}: {p.description}" for k, p in manifest.parameters.items()},
            "baseline_notebook": notebooks.notebook_text(base_path) if base_path else "(no baseline run finished)",
            "best_run": best_id or "none", "best_changes": changes,
            "runs": [{"run": n["id"], "kind": n["kind"], "status": n["status"], "started_from": n.get("parent"),
                      "changed": {k: v for k, v in n.get("parameters", {}).items() if base_params.get(k) != v}}
                     for n in self.summary.get("nodes", [])],
            "timeout_s": str(self.ctx.config.experiments.timeout_s), "seeds": str(max(self.evidence.seeds, 1)),
            "citations": self._citation_lines(),
        }

    def _draft_inputs(self) -> dict[str, Any]:
        by_source: dict[str, dict[str, str]] = {}
        for v in self.values:
            by_source.setdefault(v.source, {})[v.record.name] = f"\\{v.macro} (= {v.text})"
        runs = [{"run": n["id"], "kind": n["kind"], "status": n["status"], "parameters": n["parameters"],
                 "metrics": by_source.get(n["id"], {})} for n in self.summary.get("nodes", [])]
        analysis = {v.record.name: f"\\{v.macro} (= {v.text}): {v.record.description or v.record.name}"
                    for v in self.values if v.source == "analysis"}
        return {
            "topic": self.ctx.config.study.topic, "template_description": self.ctx.template.manifest.description,
            "ideas": [i.model_dump(exclude={"rubric"}) for i in self.ideas.values()
                      if any(n["idea"] == i.name for n in self.summary.get("nodes", []))],
            "method": self.texts.get("method", ""), "experimental_setup": self.texts.get("experimental_setup", ""),
            "runs": runs, "analysis_values": analysis, "observations": self.analysis.get("observations", []),
            "figures": [{"label": f.label, "caption": f.caption} for f in self.figures],
            "citations": self._citation_lines(),
        }

    def _citation_lines(self) -> list[str]:
        return [f"{e.reference.key}: {', '.join(e.reference.surnames_display()[:3]) or '?'}"
                f"{' et al.' if len(e.reference.authors) > 3 else ''}, {e.reference.year or 'n.d.'}, {e.reference.title}"
                for e in self.bib.entries]

    def _macro_lines(self) -> list[str]:
        return [f"\\{v.macro} = {v.text}: {v.record.name} of {v.source}"
                + (f" ({v.record.description})" if v.record.description else "") for v in self.values]
