"""Review: NeurIPS-form reviews of the study's paper (an ensemble with reflection rounds), the
grounded checks run as a notebook (the paper against the notebooks that produced it), and a
meta-review that the failed checks can lower.

  1. reviews/review-N.json    the ensemble (aisci.review.llm_reviewer), reading paper/paper.md above
                              the appendix mark (the appendix changes run to run and would never replay)
  2. reviews/method_code.json the method section compared with the code that ran (an LLM task, or the
                              offline engine's deterministic comparison)
  3. reviews/review.ipynb     executed through papermill: shows the reviews, runs
                              `aisci.paper.checks.run_checks` and emits the findings as
                              application/vnd.aisci.checks+json; saved as reviews/checks.json
  4. reviews/meta-review.json the area chair's meta-review (or the deterministic one), then one point
                              off Overall per failed check (at most [review] check_penalty_cap); it is
                              also appended to the notebook as a last markdown cell
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aisci.artifacts import Analysis, ExperimentSummary, Paper, Reviews
from aisci.fsutil import atomic_write_json, sha256_of
from aisci.execution import build

if TYPE_CHECKING:
    from aisci.review.form import MetaReview

CONSUMES = (Paper, ExperimentSummary, Analysis)
PRODUCES = (Reviews,)
CONFIG = ("review",)
CHECKS_MIME = "application/vnd.aisci.checks+json"


def inputs(ctx) -> Any:
    """The user-supplied reviewer instructions: a changed persona or few-shot file redoes the reviews."""
    settings = ctx.config.review
    names = [*settings.few_shot, *([settings.persona] if settings.persona.endswith(".txt") else []),
             *([settings.rule.split(":", 1)[1]] if settings.rule else [])]  # a refitted rule redoes the meta-review
    return {name: sha256_of((ctx.study.root / name).read_bytes()) if (ctx.study.root / name).is_file() else None
            for name in names}


def run(ctx) -> None:
    # the reviewers and checks load here, not with the declarations: `aisci status` reads those
    from aisci.paper.checks import Finding
    from aisci.review.inputs import read_paper
    from aisci.review.llm_reviewer import LLMReviewer
    from aisci.review.method_code import COMPARE, COMPARISON_FILE, study_sources
    from aisci.review.verified import from_study as verified_facts

    folder = ctx.study.path("reviews")
    folder.mkdir(exist_ok=True)
    settings = ctx.config.review
    paper_text = read_paper(Paper.path(ctx.study)).text.split(Paper.APPENDIX_MARK)[0]
    reviewer = LLMReviewer(ctx.llm, settings, ctx.study.root, name="study")

    runs = reviewer.reviews(paper_text, verified_facts(ctx.study.root))
    for run_ in runs:
        atomic_write_json(folder / f"review-{run_.index}.json", run_.as_record())
    for stale in folder.glob("review-*.json"):
        if int(stale.stem.split("-")[1]) > len(runs):
            stale.unlink()

    sources = study_sources(ctx.study.root, settings.code_max_chars)
    comparison = ctx.llm.run(COMPARE, **sources.task_inputs())
    atomic_write_json(folder / COMPARISON_FILE, {
        "author": comparison.author, "sources_digest": sources.digest, "code_max_chars": settings.code_max_chars,
        "comparison": comparison.output.model_dump()})

    output = folder / "review.ipynb"
    ctx.execute_phase_notebook(_notebook(ctx, len(runs)), output,
                               parameters={"study_dir": ctx.study.root_from(folder)}, label="review")
    nb = build.read(output)
    findings = [Finding.model_validate(f) for f in _checks_from(nb)]
    atomic_write_json(folder / "checks.json", [f.model_dump() for f in findings])

    meta, author = reviewer.meta_review(runs, findings, paper_text=paper_text)
    atomic_write_json(folder / "meta-review.json", {"author": author, **meta.model_dump()})
    nb.cells.append(build.markdown(_meta_markdown(meta, author), author))
    build.write(nb, output)
    failed = [f for f in findings if not f.ok and not f.skipped]
    if failed:
        ctx.warn(f"{len(failed)} grounded check(s) failed (see reviews/checks.json), e.g. {failed[0].detail}")


def _checks_from(nb) -> list[dict]:
    from aisci.records import display_payloads

    return next((payload["findings"] for _, _, payload in display_payloads(nb, CHECKS_MIME)), [])


def _meta_markdown(meta: MetaReview, author: str) -> str:
    bullets = lambda items: "\n".join(f"- {item}" for item in items) or "- (none)"
    return (f"## Meta-review\n\n> Written by {build.author_label(author)}.\n\n**{meta.decision}**, Overall "
            f"{meta.overall:g}/10.\n\n{meta.summary}\n\n**Strengths**\n\n{bullets(meta.strengths)}\n\n"
            f"**Weaknesses**\n\n{bullets(meta.weaknesses)}\n\n**Reasons**\n\n{bullets(meta.reasons)}")


def _notebook(ctx, count: int):
    nb = build.notebook("Review", build.AISCI_AUTHOR, intro=(
        "The reviews of the paper and the grounded checks that hold it against the notebooks that produced it. "
        "Re-run this notebook after editing the paper or an experiment: the checks read the files as they are."))
    nb.cells.append(build.parameters_cell({"study_dir": ctx.study.root_from(ctx.study.path("reviews"))}))
    nb.cells.append(build.markdown("## Reviews", build.AISCI_AUTHOR))
    nb.cells.append(build.code(
        "import json\nfrom pathlib import Path\nimport pandas as pd\nfrom IPython.display import Markdown, display\n\n"
        f"reviews = [json.loads(Path(study_dir, 'reviews', f'review-{{i}}.json').read_text()) for i in range(1, {count + 1})]\n"
        "for r in reviews:\n"
        "    display(Markdown(f\"**Reviewer {r['reviewer']}** ({r['author']}; {r['reflection_rounds']} reflection \"\n"
        "                     f\"round(s) changed the review) — overall {r['overall']}/10, confidence {r['confidence']}/5, \"\n"
        "                     f\"**{r['decision']}**\\n\\n{r['summary']}\"))\n"
        "pd.DataFrame(reviews)[['reviewer', 'author', 'soundness', 'presentation', 'contribution', 'originality', "
        "'quality', 'clarity', 'significance', 'overall', 'confidence', 'decision']]"))
    nb.cells.append(build.markdown(
        "## Grounded checks: the paper against its notebooks\n\n"
        "Every problem the writeup's checks left open or a person accepted (numbers bound to their records, claims "
        "about what ran, the method against the code); every macro value equals its record; every figure exists and is referenced; every citation resolves and "
        "credits the work that introduced the method it names; the method section agrees with the code that ran "
        "(`reviews/method_code.json`, quotes verified here); where the template declares its data splits, the "
        "train/test overlap each run recorded. A skipped check says why and counts neither way.",
        build.AISCI_AUTHOR))
    nb.cells.append(build.code(
        "from aisci.paper.checks import run_checks\n\n"
        "findings = run_checks(study_dir)\n"
        "counted = [f for f in findings if not f.skipped]\n"
        f"display({{'{CHECKS_MIME}': {{'findings': [f.model_dump() for f in findings]}},\n"
        "         'text/plain': f'{sum(f.ok for f in counted)} of {len(counted)} checks pass, '\n"
        "                       f'{len(findings) - len(counted)} skipped'}, raw=True)\n"
        "pd.DataFrame([{'check': f.check, 'result': 'skipped' if f.skipped else 'pass' if f.ok else 'FAIL', "
        "'detail': f.detail} for f in findings])"))
    nb.cells.append(build.markdown("### The method against the code, claim by claim", build.AISCI_AUTHOR))
    nb.cells.append(build.code(
        "saved = Path(study_dir, 'reviews', 'method_code.json')\n"
        "comparison = json.loads(saved.read_text()) if saved.exists() else {'author': 'nobody yet', 'comparison': {\n"
        "    'summary': 'The review phase has not compared the method with the code yet.', 'items': []}}\n"
        "display(Markdown(f\"By **{comparison['author']}**. {comparison['comparison']['summary']}\"))\n"
        "pd.DataFrame(comparison['comparison']['items'], columns=['claim', 'verdict', 'paper_quote', 'code_quote', "
        "'run', 'explanation'])"))
    return nb
