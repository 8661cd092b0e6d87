"""What the writeup leaves besides the PDF: paper.md (the review reads it up to APPENDIX_MARK),
paper.html, sections.json (who wrote each section), checks.json (every finding and what became
of it) and the executed paper.ipynb."""

from __future__ import annotations

from aisci.artifacts import Paper
from aisci.execution import build
from aisci.fsutil import atomic_write_json, atomic_write_text
from aisci.paper import citations, code_diff, disclosure, latex, render, verify
from aisci.paper.sections import HEADINGS, PERSON, SECTIONS, sections_digest
from aisci.writeup import disclosing
from aisci.writeup.fixing import accepted_problems, open_problems
from aisci.writeup.workspace import Workspace

APPENDIX_MARK = Paper.APPENDIX_MARK  # reviewers read the paper above it


def publish(ws: Workspace) -> None:
    m, ms, paper = ws.materials, ws.manuscript, ws.paper
    cited = list(dict.fromkeys(k for n in SECTIONS for k in citations.cited_keys(ms.texts[n])))
    markdown = render.paper_markdown(
        title=ms.texts["title"], note=disclosing.note(ws), bodies=ms.texts, values=m.macros,
        table_tex=(paper / "generated" / "results_table.tex").read_text(encoding="utf-8"),
        figures=m.figures, bib=m.bib.by_key(), cited=cited, appendix_mark=APPENDIX_MARK,
        appendix=disclosure.to_markdown(disclosing.record(ws))
        + code_diff.appendix_markdown(m.summary.best, m.code_changes),
        outcome=m.outcome.to_markdown() if m.outcome else "")
    atomic_write_text(paper / "paper.md", markdown)
    page = render.paper_html(markdown, latex.to_markdown(ms.texts["title"], m.macros))
    if page is not None:
        atomic_write_text(paper / "paper.html", page)
    atomic_write_json(paper / "sections.json", {n: {**ms.meta[n].model_dump(), "kept": n in ms.kept}
                                                for n in SECTIONS})
    atomic_write_json(paper / "checks.json", checks_record(ws))
    problems = open_problems(ws)
    if problems:
        ws.ctx.warn(f"the paper's checks left {len(problems)} problem(s) open, e.g. "
                    f"{problems[0].section or 'paper'}: {problems[0].detail} (see paper/checks.json)")
    ws.ctx.execute_phase_notebook(notebook(ws, markdown), paper / "paper.ipynb",
                                  parameters={"study_dir": ws.study.root_from(paper)}, label="writeup")


def checks_record(ws: Workspace) -> dict:
    m, ms = ws.materials, ws.manuscript
    final = ms.findings + m.figure_findings
    still = {(f.check, f.section, f.detail) for f in final}
    fixed = [f.model_copy(update={"ok": True, "status": "fixed"}) for f in ms.history
             if (f.check, f.section, f.detail) not in still]
    fixed = list({(f.check, f.section, f.detail): f for f in fixed}.values())
    failing = {f.section for f in final if not f.ok}
    passed = [verify.passes(n) for n in SECTIONS if n not in failing]
    return {"findings": [f.model_dump() for f in passed + fixed + final],
            "open": len(open_problems(ws)), "accepted": len(accepted_problems(ws)),
            "pdf": ms.compile_status.get("pdf"), "sections_digest": sections_digest(ws.sections_dir),
            "warnings": sum(1 for f in final if not f.ok and f.severity == "warning"),
            "fix_rounds": ms.rounds, "compile": ms.compile_status, "style": m.style.describe(),
            "bibliography": m.bib.provenance(), "bibliography_notes": m.bib.notes}


def notebook(ws: Workspace, markdown: str):
    m, ms = ws.materials, ws.manuscript
    main_author = next(iter(sorted({x.author for x in ms.meta.values()} - {PERSON})), PERSON)
    title = latex.to_markdown(ms.texts["title"], m.macros)
    nb = build.notebook(title, main_author, intro=(
        "The paper, one cell per section. The LaTeX source of each section is `paper/sections/NAME.tex` "
        "(edit it there and rerun: an edited section is kept and disclosed as written by a person); "
        "`paper/main.tex` assembles them with `values.tex`, whose macros carry the recorded numbers. "
        "The whole paper is also in `paper.md` and `paper.html`."))
    nb.cells.append(build.parameters_cell({"study_dir": ws.study.root_from(ws.paper)}))
    body, _, appendix = markdown.partition(APPENDIX_MARK)
    for chunk in body.split("\n## ")[1:]:
        heading = chunk.split("\n", 1)[0]
        name = next((n for n in SECTIONS if heading.endswith(HEADINGS[n])), None)
        author = ms.meta[name].author if name else build.AISCI_AUTHOR
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
