"""LaTeX: the results table and figures, the bibliography and style files, main.tex, and the
compile (with a time limit); a LaTeX error located in a model-written section goes back to
writeup.fix for bounded rounds. Without TeX the .tex tree stays and the run says so."""

from __future__ import annotations

import shutil

from aisci.errors import TexMissing
from aisci.fsutil import atomic_write_text
from aisci.paper import latex, style, verify
from aisci.paper.compile import CompileResult, compile_pdf, tex_available
from aisci.paper import code_diff
from aisci.paper.figures import figures_tex
from aisci.paper.sections import read_section
from aisci.search.node import NodeStatus
from aisci.writeup import disclosing, fixing
from aisci.writeup.workspace import Workspace

FINAL_PDF, DRAFT_PDF = "paper.pdf", "paper-draft.pdf"
MAX_LISTED = 12  # problems listed in the first-page box (all are in checks.json and the appendix)


def build(ws: Workspace) -> None:
    m, ms, paper = ws.materials, ws.manuscript, ws.paper
    metrics = list(ws.ctx.template.manifest.metrics)
    rows = [{"idea": n.idea if n.id.endswith("/node-0") else n.id, "node": n.id}
            for n in m.summary.nodes if n.status == NodeStatus.DONE]
    table = {(v.source, v.record.name): v.macro for v in m.values}
    atomic_write_text(paper / "generated" / "results_table.tex",
                      latex.results_table(rows, metrics, lambda node, metric: table.get((node, metric))))
    atomic_write_text(paper / "generated" / "figures.tex", figures_tex(m.figures))
    atomic_write_text(paper / "generated" / "outcome.tex", m.outcome.to_latex() if m.outcome else "")
    atomic_write_text(paper / "generated" / "code_changes.tex",
                      code_diff.appendix_tex(m.summary.best, m.code_changes))
    style.install(m.style, paper)
    m.bib.write(paper / "references.bib")
    changed = [n for n in m.bib.notes if ": " in n and "left out" not in n]
    if changed:
        ws.ctx.warn(f"references.bib: {len(changed)} field(s) could not be written as the source gave them, "
                    f"e.g. {changed[0]} (all in paper/checks.json, bibliography_notes)")
    write_tex(ws)
    for name in (FINAL_PDF, DRAFT_PDF):
        (paper / name).unlink(missing_ok=True)  # never leave a PDF of other sources
    if not ws.cfg.compile:
        return
    if not tex_available():
        ms.compile_status = {"status": "no-tex"}
        ws.ctx.warn(str(TexMissing(
            f"no LaTeX found, so no PDF was built; the .tex is in {ws.study.relative(paper)}/ and the paper "
            "is readable as paper/paper.md and paper/paper.html (apt-get install texlive-latex-recommended "
            "texlive-fonts-recommended latexmk)")))
        return
    result = compile_with_fixes(ws)
    if result.ok and ws.model_fixes and ms.rounds["latex"]:
        before = disclosing.appendix_tex(ws)
        ms.findings = fixing.remove_unknown_keys(ws, fixing.check(ws))  # what the LaTeX fixes changed
        if disclosing.appendix_tex(ws) != before or any(f.status == "removed" for f in ms.findings):
            write_tex(ws)
            result = compile_pdf(paper, timeout_s=ws.cfg.compile_timeout_s)
    record_compile(ws, result)


def compile_with_fixes(ws: Workspace) -> CompileResult:
    ms = ws.manuscript
    result = compile_pdf(ws.paper, timeout_s=ws.cfg.compile_timeout_s)
    for round_number in range(1, ws.cfg.fix_rounds + 1):
        located = {n: e for n, e in result.section_errors().items() if n in ms.texts and n not in ms.kept}
        if result.ok or not ws.model_fixes or not located:
            break
        ms.rounds["latex"] = round_number
        for name, errors in located.items():
            offset = header_lines(ws, name)
            lines = ms.texts[name].splitlines()
            problems = []
            for line, message in errors:
                body_line = line - offset
                shown = lines[body_line - 1].strip() if 0 < body_line <= len(lines) else ""
                problems.append(f"[latex] LaTeX stopped with \"{message}\" at line {body_line} of the section"
                                + (f": \"{shown}\"" if shown else ""))
                ms.history.append(verify.Finding(check="latex", ok=False, section=name,
                                                 detail=f"LaTeX error: {message} (line {body_line})",
                                                 snippet=shown))
            fixing.fix(ws, name, problems)
        write_tex(ws)
        result = compile_pdf(ws.paper, timeout_s=ws.cfg.compile_timeout_s)
    return result


def header_lines(ws: Workspace, name: str) -> int:
    section = read_section(ws.sections_dir, name)
    return len(section.path.read_text(encoding="utf-8").splitlines()) - len(section.body.splitlines())


def record_compile(ws: Workspace, result: CompileResult) -> None:
    ms = ws.manuscript
    log = ws.study.relative(result.log)
    if result.ok and result.pdf:
        final = not fixing.open_problems(ws)
        shutil.copyfile(result.pdf, ws.paper / (FINAL_PDF if final else DRAFT_PDF))
        ms.compile_status = {"status": "ok", "log": log, "latex_fix_rounds": ms.rounds["latex"],
                             "pdf": f"paper/{FINAL_PDF if final else DRAFT_PDF}", "final": final}
        return
    reason = "timed out" if result.timed_out else "; ".join(result.errors[:3]) or f"see {log}"
    ms.compile_status = {"status": "failed", "log": log, "errors": result.errors,
                         "latex_fix_rounds": ms.rounds["latex"]}
    located = result.section_errors()
    for name, errors in located.items():
        for line, message in errors:
            ms.findings.append(verify.Finding(check="latex", ok=False, section=name,
                                              detail=f"LaTeX error in sections/{name}.tex line {line}: {message}"))
    if not located:
        ms.findings.append(verify.Finding(check="latex", ok=False, detail=f"LaTeX failed: {reason}"))
    ws.ctx.warn(f"LaTeX failed ({reason}); no PDF. The .tex is in paper/, the log in {log}, and the paper "
                "is readable as paper/paper.md and paper/paper.html")


def write_tex(ws: Workspace) -> None:
    atomic_write_text(ws.paper / "generated" / "disclosure.tex", disclosing.appendix_tex(ws))
    problems = fixing.open_problems(ws)
    atomic_write_text(ws.paper / "generated" / "draft-mark.tex", draft_mark_tex(problems))
    atomic_write_text(ws.paper / "generated" / "draft-box.tex", draft_box_tex(problems))
    atomic_write_text(ws.paper / "main.tex", style.main_tex(
        ws.materials.style, title=ws.manuscript.texts["title"].strip(), title_note=disclosing.title_note_tex(ws),
        author=latex.escape(ws.cfg.author), options=ws.cfg.style_options, preamble=ws.cfg.preamble))


def draft_mark_tex(problems: list[verify.Finding]) -> str:
    """The preamble's part: while problems are open, a red mark at the top of every page."""
    if not problems:
        return "% no integrity problem is open: this is the paper, not a draft\n"
    return "\n".join([
        r"\IfFileExists{xcolor.sty}{\usepackage{xcolor}}{\providecommand{\textcolor}[2]{#2}}",
        rf"\AddToHook{{shipout/foreground}}{{\put(0.5\paperwidth,-0.9cm){{\makebox[0pt]{{\bfseries\large"
        rf"\textcolor{{red}}{{{_mark(problems)}}}}}}}}}", ""])


def draft_box_tex(problems: list[verify.Finding]) -> str:
    """Under the title: while problems are open, a box that lists them (all are in checks.json)."""
    if not problems:
        return "% no integrity problem is open\n"
    items = [f"[{p.id}] {latex.escape(p.section or 'paper')}, {latex.escape(p.check)}: "
             f"{latex.escape(_short(p.detail))}" for p in problems[:MAX_LISTED]]
    more = len(problems) - len(items)
    return "\n".join([
        r"\noindent\fbox{\parbox{\dimexpr\linewidth-2\fboxsep-2\fboxrule\relax}{\small",
        rf"\textbf{{{_mark(problems)}.}} This PDF is a draft: aisci's checks found the problems listed here in "
        r"its text. Fix the sections (paper/sections/) and run \texttt{aisci paper}, or accept a problem at the "
        r"paper gate with a reason (\texttt{aisci approve STUDY paper ID --note REASON}); paper.pdf is built only then.",
        latex.itemize(items) + (f"\n(and {more} more in paper/checks.json)" if more else ""),
        r"}}\par\medskip", ""])


def _mark(problems: list[verify.Finding]) -> str:
    return f"DRAFT --- {len(problems)} integrity problem{'s' if len(problems) != 1 else ''} open"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "..."
