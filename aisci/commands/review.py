"""`aisci review FILE`: review one paper (.pdf, .tex, .md or .txt) on its own, outside a study.

  aisci review paper.pdf                       the offline (model-free checklist) reviewer
  aisci review paper.tex --llm offline-fitted --out review.json
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from aisci.fsutil import atomic_write_json
from aisci.review.form import ReviewForm
from aisci.review.inputs import read_paper
from aisci.review.reviewer import get_reviewer, review_with_evidence, reviewer_names


def register(subparsers) -> None:
    parser = subparsers.add_parser("review", help="review a paper file (.pdf, .tex, .md, .txt) with the NeurIPS form",
                                   description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("file", metavar="FILE", help="the paper: .pdf, .tex, .md or .txt")
    parser.add_argument("--llm", default="offline", metavar="REVIEWER",
                        help=f"which reviewer ({', '.join(reviewer_names())}; default offline)")
    parser.add_argument("--out", metavar="REVIEW_JSON", help="also write the review (and its evidence) as JSON")
    parser.add_argument("--json", action="store_true", help="print the review as JSON instead of text")
    parser.set_defaults(handler=handle)


def format_review(form: ReviewForm, source: str) -> str:
    def bullets(title: str, items: list[str]) -> list[str]:
        lines = [f"{title}:"]
        for item in items or ["(none)"]:
            lines += textwrap.wrap(item, width=100, initial_indent="  - ", subsequent_indent="    ")
        return lines

    lines = [f"Review of {source}", "", *textwrap.wrap(form.summary, width=100), ""]
    lines.append(f"Overall {form.overall}/10   Decision {form.decision}   Confidence {form.confidence}/5")
    lines.append(f"Soundness {form.soundness}  Presentation {form.presentation}  Contribution {form.contribution}  "
                 f"Originality {form.originality}  Quality {form.quality}  Clarity {form.clarity}  "
                 f"Significance {form.significance}  (1-4)")
    lines.append(f"Ethical concerns: {'yes' if form.ethical_concerns else 'none flagged'}")
    for title, items in (("Strengths", form.strengths), ("Weaknesses", form.weaknesses),
                         ("Questions", form.questions), ("Limitations", form.limitations)):
        lines += [""] + bullets(title, items)
    return "\n".join(lines)


def handle(args) -> int:
    paper = read_paper(args.file)
    reviewer = get_reviewer(args.llm)
    form, evidence = review_with_evidence(reviewer, paper.text)
    record = {"paper": str(paper.path), "format": paper.format, "pages": paper.pages, "words": paper.words,
              "reviewer": reviewer.name, "reviewer_version": reviewer.version,
              "review": form.model_dump(), "evidence": evidence}
    if args.out:
        atomic_write_json(Path(args.out), record)
    if args.json:
        import json

        print(json.dumps(record["review"], indent=2))
    else:
        print(format_review(form, f"{paper.path.name} ({paper.format}, {paper.words} words)"))
    return 0
