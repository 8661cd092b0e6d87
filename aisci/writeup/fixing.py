"""The checks of every section (numbers, claims, citations, attributions, macros, references,
figures, chktex) and what follows them: a model-written section with problems is rewritten by
writeup.fix, first right after it is drafted (so the sections written from it read the fixed
text), then once the whole paper stands (a label or figure reference another section settles);
at most `[paper] fix_rounds` rewrites per section in all, and a section whose fix changed nothing
is not asked again. An invented citation key left after that is removed from aisci's own text."""

from __future__ import annotations

from typing import Callable

from aisci import gates
from aisci.literature.attribution import load_table
from aisci.paper import citations, render, verify
from aisci.paper.compile import chktex
from aisci.paper.sections import SECTIONS, read_section, write_section
from aisci.writeup import facts
from aisci.writeup.tasks import FIX
from aisci.writeup.workspace import Workspace


def paper_facts(ws: Workspace) -> verify.PaperFacts:
    m = ws.materials
    labels = {"tab:results", "sec:disclosure", *(f"sec:{n}" for n in render.NUMBERED)}
    for text in ws.manuscript.texts.values():
        labels |= verify.labels_in(text)
    return verify.PaperFacts(m.facts, m.evidence, m.bib.by_key(), m.macros, m.figures, labels, m.code,
                             m.template_text)


def check(ws: Workspace, names: tuple[str, ...] = SECTIONS) -> list[verify.Finding]:
    """The failed checks of the named sections (all: the whole paper). Whether every figure is
    referenced is asked of the text written so far, and reported on the results section."""
    known = paper_facts(ws)
    texts = ws.manuscript.texts
    found: list[verify.Finding] = []
    for name in names:
        found += verify.check_section(name, texts[name], known)
        if ws.cfg.chktex and name != "title":
            found += lint(ws, name)
    if "results" in names:
        found += verify.check_figures_referenced(texts, ws.materials.figures)
    return found


def lint(ws: Workspace, name: str) -> list[verify.Finding]:
    section = read_section(ws.sections_dir, name)
    offset = len(section.path.read_text(encoding="utf-8").splitlines()) - len(section.body.splitlines())
    lines = section.body.splitlines()
    return [verify.Finding(check="chktex", ok=False, section=name, severity="warning",
                           detail=f"chktex warning {w.number} at line {w.line - offset}: {w.message}",
                           snippet=lines[w.line - offset - 1].strip() if 0 < w.line - offset <= len(lines) else "")
            for w in chktex(section.path)]


def revise_section(ws: Workspace, name: str) -> None:
    """A section just drafted: checked, and fixed by the model for its bounded rounds."""
    if ws.model_fixes:
        fix_rounds(ws, lambda: check(ws, (name,)))


def revise(ws: Workspace) -> None:
    """The whole paper checked, the rounds sections have left spent on what is still wrong, and
    what is left kept as findings."""
    found = fix_rounds(ws, lambda: check(ws))
    ws.manuscript.findings = remove_unknown_keys(ws, found)
    apply_acceptances(ws)


def fix_rounds(ws: Workspace, checked: Callable[[], list[verify.Finding]]) -> list[verify.Finding]:
    """Check, let the model fix its own sections while they have rounds left, check again; the
    last findings."""
    ms = ws.manuscript
    found = checked()
    while ws.model_fixes:
        todo = {n: p for n, p in fixable(ws, found).items()
                if n not in ms.stuck and ms.fixes.get(n, 0) < ws.cfg.fix_rounds}
        if not todo:
            break
        ms.history += [f for f in found if f.section in todo]
        for name, problems in todo.items():
            before = ms.texts[name]
            fix(ws, name, [p.for_model() for p in with_canonical_keys(ws, problems)])
            ms.fixes[name] = ms.fixes.get(name, 0) + 1
            if ms.texts[name].strip() == before.strip():
                ms.stuck.add(name)  # asking again would not help
        ms.rounds["checks"] = max(ms.fixes.values())
        found = checked()
    return found


def apply_acceptances(ws: Workspace) -> None:
    """Problems a person accepted at the paper gate no longer block the final PDF."""
    accepted = gates.accepted_problems(ws.study)
    ws.manuscript.findings = verify.with_acceptances(ws.manuscript.findings, accepted)
    ws.materials.figure_findings = verify.with_acceptances(ws.materials.figure_findings, accepted)


def fixable(ws: Workspace, found: list[verify.Finding]) -> dict[str, list[verify.Finding]]:
    todo: dict[str, list[verify.Finding]] = {}
    for finding in found:
        if not finding.ok and finding.section and finding.section not in ws.manuscript.kept:
            todo.setdefault(finding.section, []).append(finding)
    return todo


def with_canonical_keys(ws: Workspace, problems: list[verify.Finding]) -> list[verify.Finding]:
    """An attribution problem offers the canonical work, added to references.bib so the
    fix can cite it."""
    out = []
    for problem in problems:
        if problem.check == "attribution" and problem.key:
            canonical = next((r for m in load_table().methods for r in m.references if r.key == problem.key), None)
            if canonical is not None:
                key = ws.materials.bib.add_canonical(canonical)
                problem = problem.model_copy(update={"suggestion": f"cite {canonical.short()} as \\cite{{{key}}} "
                                                                  "(it is in references.bib)"})
        out.append(problem)
    return out


def fix(ws: Workspace, name: str, problems: list[str]) -> None:
    """One writeup.fix call on one section; the rewrite is stamped and counted as a revision."""
    ms, m = ws.manuscript, ws.materials
    result = ws.ctx.llm.run(FIX, section=name, text=ms.texts[name], problems="\n".join(f"- {p}" for p in problems),
                            macros=facts.macro_lines(m), citations=facts.citation_lines(m),
                            labels=", ".join(sorted(paper_facts(ws).labels | {f.label for f in m.figures})))
    text = result.output.text
    if name == "title":
        text = " ".join(text.split())
    written = write_section(ws.sections_dir, name, text, result.author)
    ms.texts[name] = written.body
    calls = ms.meta[name].calls + ([result.call_id] if result.call_id else [])
    ms.meta[name] = ms.meta[name].model_copy(update={"author": result.author, "calls": calls,
                                                     "revisions": ms.meta[name].revisions + 1})


def remove_unknown_keys(ws: Workspace, found: list[verify.Finding]) -> list[verify.Finding]:
    """A citation key nobody supplied, still there after the fix rounds, is removed from a
    section aisci wrote (and reported); a person's section is only reported."""
    ms = ws.manuscript
    out = []
    for name in SECTIONS:
        bad = {f.key for f in found if f.check == "citation" and f.section == name and f.key}
        if bad and name not in ms.kept:
            text = citations.remove_keys(ms.texts[name], bad)
            ms.texts[name] = write_section(ws.sections_dir, name, text, ms.meta[name].author).body
    for finding in found:
        if finding.check == "citation" and finding.section not in ms.kept:
            finding = finding.model_copy(update={"ok": True, "status": "removed",
                                                 "suggestion": "removed from the text by aisci"})
        out.append(finding)
    return out


def open_problems(ws: Workspace) -> list[verify.Finding]:
    """Failed error-level checks nobody accepted: while there is one, the PDF is a draft."""
    return [f for f in ws.manuscript.findings + ws.materials.figure_findings if f.open]


def accepted_problems(ws: Workspace) -> list[verify.Finding]:
    return [f for f in ws.manuscript.findings + ws.materials.figure_findings if f.status == "accepted"]
