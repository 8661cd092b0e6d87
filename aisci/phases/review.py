"""Review: NeurIPS-form reviews of the study's paper, the grounded checks run as a
notebook (the paper against its notebooks), and an area-chair meta-review."""

from __future__ import annotations

from statistics import mean
from typing import Any

from aisci.fsutil import atomic_write_json
from aisci.llm.tasks import Task
from aisci.notebook import build
from aisci.paper.checks import Finding
from aisci.phases.writeup import APPENDIX_MARK
from aisci.review.form import MetaReview, ReviewForm
from aisci.review.inputs import read_paper

OUTPUTS = ("reviews/meta-review.json", "reviews/checks.json")


def _offline_review(inputs: dict[str, Any]) -> ReviewForm:
    from aisci.review.offline import OfflineChecklistReviewer

    return OfflineChecklistReviewer().review(inputs["paper_text"])


REVIEW = Task("review.paper", "review", ReviewForm, _offline_review, temperature=0.7, max_tokens=3000)


def inputs(ctx) -> Any:
    return None


def run(ctx) -> list[str]:
    folder = ctx.study.path("reviews")
    folder.mkdir(exist_ok=True)
    # the disclosure appendix (wall time, tokens so far) changes run to run; a review of it would never replay
    paper_text = read_paper(ctx.study.path("paper", "paper.md")).text.split(APPENDIX_MARK)[0]
    offline = ctx.llm.uses_offline_engine("review")
    count = 1 if offline else ctx.config.review.num_reviews  # the offline reviewer is deterministic: one is all
    reviews = []
    for index in range(1, count + 1):
        result = ctx.llm.run(REVIEW, paper_text=paper_text, persona="neutral", reviewer_index=str(index),
                             accept_threshold=str(ctx.config.review.accept_threshold))
        review = {"author": result.author, **result.output.model_dump()}
        atomic_write_json(folder / f"review-{index}.json", review)
        reviews.append(review)
    for stale in folder.glob("review-*.json"):
        if int(stale.stem.split("-")[1]) > count:
            stale.unlink()
    nb = _notebook(ctx, count)
    output = folder / "review.ipynb"
    ctx.execute_phase_notebook(nb, output, parameters={"study_dir": str(ctx.study.root)}, label="review")
    findings = [Finding.model_validate(f) for f in _checks_from(build.read(output))]
    atomic_write_json(folder / "checks.json", [f.model_dump() for f in findings])
    meta = _meta_review(reviews, findings, ctx.config.review.accept_threshold)
    atomic_write_json(folder / "meta-review.json", meta.model_dump())
    return list(OUTPUTS)


def _meta_review(reviews: list[dict], findings: list[Finding], threshold: int) -> MetaReview:
    """The area chair's aggregate: mean overall, lowered by one point per failed grounded
    check (at most three), decision by the threshold."""
    failed = [f for f in findings if not f.ok]
    overall = max(1.0, round(mean(r["overall"] for r in reviews) - min(3, len(failed)), 2))
    decision = "Accept" if overall >= threshold else "Reject"
    return MetaReview(
        summary=f"{len(reviews)} review(s), mean overall {mean(r['overall'] for r in reviews):.1f}; "
                f"{len(findings) - len(failed)} of {len(findings)} grounded checks pass.",
        strengths=[s for r in reviews for s in r["strengths"]][:6],
        weaknesses=[w for r in reviews for w in r["weaknesses"]][:6] + [f.detail for f in failed],
        overall=overall, decision=decision,
        reasons=[f"overall {overall} against the accept threshold {threshold}"] +
                ([f"{len(failed)} grounded check(s) failed, each lowering the overall score by one"] if failed else []))


def _checks_from(nb) -> list[dict]:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get("application/vnd.aisci.checks+json")
            if payload is not None:
                return payload["findings"]
    return []


def _notebook(ctx, count: int):
    nb = build.notebook("Review", build.AISCI_AUTHOR, intro=(
        "The reviews of `paper/main.tex` and the grounded checks that hold the paper against the notebooks that "
        "produced it. Re-run this notebook after editing the paper or an experiment."))
    nb.cells.append(build.parameters_cell({"study_dir": str(ctx.study.root)}))
    nb.cells.append(build.markdown("## Reviews", build.AISCI_AUTHOR))
    nb.cells.append(build.code(
        "import json\nfrom pathlib import Path\nimport pandas as pd\nfrom IPython.display import Markdown, display\n\n"
        f"reviews = [json.loads(Path(study_dir, 'reviews', f'review-{{i}}.json').read_text()) for i in range(1, {count + 1})]\n"
        "for r in reviews:\n"
        "    display(Markdown(f\"**{r['author']}** — overall {r['overall']}/10, confidence {r['confidence']}/5, \"\n"
        "                     f\"**{r['decision']}**\\n\\n{r['summary']}\"))\n"
        "pd.DataFrame(reviews)[['author', 'soundness', 'presentation', 'contribution', 'originality', 'quality', "
        "'clarity', 'significance', 'overall', 'confidence', 'decision']]"))
    nb.cells.append(build.markdown("## Grounded checks: the paper against its notebooks", build.AISCI_AUTHOR))
    nb.cells.append(build.code(
        "from aisci.paper.checks import run_checks\n\n"
        "findings = run_checks(study_dir)\n"
        "display({'application/vnd.aisci.checks+json': {'findings': [f.model_dump() for f in findings]},\n"
        "         'text/plain': f'{sum(f.ok for f in findings)} of {len(findings)} checks pass'}, raw=True)\n"
        "pd.DataFrame([f.model_dump() for f in findings])"))
    return nb
