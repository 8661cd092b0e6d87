"""Write the phase notebooks: `python -m aisci.phase_notebooks.make`. The canonical copies go to
aisci/phase_notebooks/ (shipped in the wheel); in a repository checkout the same bytes go to the
top-level notebooks/ folder too, which is what Binder opens. A test keeps the three in step
(this script's output, the package copies, the top-level copies)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from aisci.execution import build

PACKAGE_FOLDER = Path(__file__).resolve().parent
REPO_FOLDER = PACKAGE_FOLDER.parent.parent / "notebooks"
AUTHOR = build.AISCI_AUTHOR

QUICKSTART_INTRO = """# aisci quickstart: a whole study on one page

This notebook runs a complete research study — **ideas → novelty check → experiments → analysis → paper → review** —
on aisci's **offline engine**: deterministic and model-free, so it needs no API key and no network. No language model
writes anything here and nothing pretends to be one; the experiments it runs and every number in the paper are real.

Run it top to bottom (**Run ▸ Run All Cells**): on the grokking template the whole study takes about six minutes
on two CPU cores, in well under 1 GB of memory (`bench/bench_quickstart.py` measures both). Every step leaves an executable notebook in the study folder that you
can open, read, edit and re-run. The panels below are where you decide: every click is written to the study's
`decisions.jsonl`, and the next run follows it."""

PHASES = {
    "ideation": ("01_ideation", "Ideation", "IdeasPanel", (
        "The ideation task proposes ideas for the topic from the template (the offline engine derives them from the "
        "template's parameter space) and scores each with the checklist rubric: one point per criterion, each with "
        "its reason. Its notebook is `ideas/ideation.ipynb`."), (
        "**The ideas gate.** Approve the ideas to pursue, reject the others, reorder them (the experiments run in "
        "this order) or edit one. With the `auto` policy the top ideas by score go on until you decide; with "
        "`[gates] ideas = \"stop\"` in `aisci.toml` the run waits here. Command line: "
        "`aisci approve STUDY ideas 1 3`, `aisci reject STUDY ideas NAME`."), "02_novelty"),
    "novelty": ("02_novelty", "Novelty check", "IdeasPanel", (
        "Each approved idea is searched in the study's library and judged novel or not, with the evidence "
        "(`ideas/novelty.json`, notebook `ideas/novelty.ipynb`)."), (
        "**The novelty gate.** Each card now shows the verdict and its evidence. *Run it anyway* overrides a "
        "\"not novel\" verdict; *Reject* drops an idea. Command line: `aisci approve STUDY novelty NAME`."),
        "03_experiments"),
    "experiments": ("03_experiments", "Experiments", "ExperimentsPanel", (
        "The baseline and each idea become experiment notebooks under `experiments/<idea>/<node>/`, each run by "
        "papermill in the sandboxed kernel, each recording its metrics with `aisci.record`."), (
        "**The node tree.** Select a node to see its metrics, why it failed (if it did), and the diff of its code "
        "against its parent. *Approve as best* overrides the choice by the primary metric; *Rerun* asks the next run "
        "to execute it again; *Branch* (or editing the notebook in JupyterLab) makes the edit a new `human` node. "
        "Command line: `aisci approve STUDY experiments NODE`."), "04_analysis"),
    "analysis": ("04_analysis", "Analysis", "FiguresPanel", (
        "The analysis notebook (`analysis/analysis.ipynb`) tables and plots the recorded metrics and records the "
        "derived numbers (best run, difference from the baseline)."), (
        "**The figures.** Keep or drop each figure and edit its caption; the paper uses what you keep. Command "
        "line: `aisci approve STUDY figures NAME` (keep), `aisci reject STUDY figures NAME` (drop)."), "05_writeup"),
    "writeup": ("05_writeup", "Writeup", "PaperPanel", (
        "The sections are drafted from the finished notebooks; every number is a LaTeX macro generated from a "
        "record (`paper/values.tex`), and `paper/main.tex` is compiled to `paper/paper.pdf` where LaTeX is "
        "installed."), (
        "**The paper.** Each section with the checker findings about it. *Edit* writes your text to "
        "`paper/sections/NAME.tex` (kept and disclosed as human-written), *Regenerate* has the next run write the "
        "section afresh, *Lock* keeps it as it is."), "06_review"),
    "review": ("06_review", "Review", "ReviewPanel", (
        "NeurIPS-form reviews of the paper, the grounded checks that hold the paper against its notebooks "
        "(`reviews/checks.json`) and the area chair's meta-review."), (
        "**Your final decision.** Accept or reject the paper; it is recorded like every other decision. Command "
        "line: `aisci approve STUDY review accept`."), None),
}


def md(text: str):
    return build.markdown(text, AUTHOR)


def quickstart() -> nbformat.NotebookNode:
    nb = _empty()
    nb.cells += [
        md(QUICKSTART_INTRO),
        md("**Parameters.** `study_dir` is the study folder (created if missing, reused if it exists); `template` "
           "an experiment template (`aisci templates list`); `llm` stays `None` for the offline engine, or names a "
           "model such as `\"openai:gpt-4o-mini\"` (its key comes from the environment, never from a file). `sandbox` "
           "is where generated code runs: `\"bubblewrap\"`, or `\"none\"` with its `sandbox_reason` where bubblewrap "
           "cannot run (the Binder demo: a disposable container); the paper then discloses it."),
        build.parameters_cell({"study_dir": "quickstart-study", "template": "grokking",
                               "topic": "How weight decay shapes grokking", "llm": None,
                               "sandbox": "bubblewrap", "sandbox_reason": ""}),
        md("## 1. Create the study folder\n\n`api.init` does what `aisci init` does: it validates the template and "
           "copies it into the study, with `aisci.toml` (topic, models, budgets, the policy of each gate)."),
        build.code("from IPython.display import display\n\nfrom aisci import api, widgets\n\n"
                   "study = api.init(study_dir, template=template, topic=topic, llm=llm, sandbox=sandbox,\n"
                   "                 sandbox_reason=sandbox_reason)\n"
                   "print(f\"study folder: {study.root}\")"),
        md("## 2. Run every phase\n\n`api.run` is `aisci run`: the same runner, resumable (a phase whose inputs did not "
           "change is skipped, so running this cell again costs nothing). The meter shows the LLM calls, tokens and "
           "cost so far, refreshed after every phase and experiment node (it subscribes to the run's hooks); on the "
           "offline engine they stay at zero."),
        build.code("meter = widgets.CostMeter(study_dir)\ndisplay(meter)\n"
                   "outcome = api.run(study_dir, llm=llm, hooks=meter.hooks())\noutcome"),
        md("## 3. The ideas\n\nEach card: the idea, its rubric (✓/✗ per criterion, with the reason) and its novelty "
           "evidence. **Approve**, **Reject**, **↑/↓** (reorder) and **Edit** write to `decisions.jsonl`; run the cell "
           "above again and the study follows your decision (the phases after the gate rerun)."),
        build.code("widgets.IdeasPanel(study_dir)"),
        md("## 4. The experiments\n\nThe node tree of every idea: metrics, failures, the code diff against the parent "
           "node, a link that opens the executed notebook. Edit a notebook in JupyterLab and rerun: the edit becomes a "
           "new `human` node."),
        build.code("widgets.ExperimentsPanel(study_dir)"),
        md("## 5. The figures\n\nKeep or drop each figure and edit its caption."),
        build.code("widgets.FiguresPanel(study_dir)"),
        md("## 6. The paper's sections\n\nEach section with the checker findings about it; edit, regenerate or lock "
           "it."),
        build.code("widgets.PaperPanel(study_dir)"),
        md("## 7. The review\n\nThe reviewers' scores, the meta-review, the grounded checks, and your final decision."),
        build.code("widgets.ReviewPanel(study_dir)"),
        md("## 8. The paper\n\nEvery number below is typeset from a record of the notebook cell that produced it "
           "(`paper/values.tex`). The disclosure at the end says who wrote each section."),
        build.code("widgets.PaperView(study_dir)"),
        md("## Next\n\n- Step through the phases one notebook at a time: `01_ideation.ipynb` … `06_review.ipynb` "
           "(each takes `study_dir` as its parameter).\n- In any notebook: `%load_ext aisci`, then `%aisci status`, "
           "`%aisci run PHASE`, `%aisci panel PHASE`, `%aisci cost`.\n- On the command line: `aisci status "
           "quickstart-study`, `aisci run quickstart-study`, `aisci approve quickstart-study ideas 1`."),
    ]
    return nb


def phase_notebook(phase: str) -> nbformat.NotebookNode:
    stem, title, panel, what, gate, following = PHASES[phase]
    number = stem.split("_")[0]
    nb = _empty()
    nb.cells.append(md(f"# {number} · {title}\n\n{what}\n\nThis notebook brings the study up to date through the "
                       f"**{phase}** phase with `aisci.api.run_phase` — the code `aisci run` uses — and shows the "
                       "panel where you decide. Earlier phases that are out of date run first."))
    params = {"study_dir": "quickstart-study", "llm": None}
    if phase == "ideation":  # the first phase creates the study when it does not exist yet
        params.update({"template": "grokking", "topic": "How weight decay shapes grokking"})
    nb.cells.append(build.parameters_cell(params))
    nb.cells.append(build.code("from aisci import api, widgets\n" + (
        "\napi.init(study_dir, template=template, topic=topic, llm=llm)" if phase == "ideation" else "")))
    nb.cells.append(md("The cost meter (`%aisci cost`) follows the LLM calls, tokens and cost; it refreshes after "
                       "every cell."))
    nb.cells.append(build.code("%load_ext aisci\n%aisci cost"))
    nb.cells.append(build.code(f"outcome = api.run_phase(study_dir, {phase!r}, llm=llm)\noutcome"))
    nb.cells.append(md(gate))
    nb.cells.append(build.code(f"widgets.{panel}(study_dir)"))
    nb.cells.append(md(f"Next: `{following}.ipynb`." if following else
                       "The study is complete. `widgets.PaperView(study_dir)` shows the paper; `%aisci status` "
                       "sums it up."))
    if phase == "review":
        nb.cells.append(build.code("widgets.PaperView(study_dir)"))
    return nb


def _empty() -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(metadata={"kernelspec": build.KERNELSPEC, "language_info": {"name": "python"},
                                              "aisci": {"author": AUTHOR}})


def notebooks() -> dict[str, str]:
    """file name -> notebook text, as written."""
    found = {"00_quickstart.ipynb": quickstart()}
    found.update({f"{PHASES[p][0]}.ipynb": phase_notebook(p) for p in PHASES})
    texts = {}
    for name, nb in found.items():
        for index, cell in enumerate(nb.cells):  # stable ids: a rebuild changes nothing
            cell["id"] = f"{name.split('_')[0]}-{index:02d}"
        nbformat.validate(nb)
        texts[name] = nbformat.writes(nb) + "\n"
    return texts


def write(folders: list[Path]) -> list[Path]:
    written = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in notebooks().items():
            (folder / name).write_text(text, encoding="utf-8")
            written.append(folder / name)
    return written


def main() -> int:
    folders = [PACKAGE_FOLDER] + ([REPO_FOLDER] if (REPO_FOLDER.parent / "pyproject.toml").exists() else [])
    for path in write(folders):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
