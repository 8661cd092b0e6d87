"""`aisci review FILE`: review one paper (.pdf, .tex, .md or .txt) on its own, outside a study.

  aisci review paper.pdf                       the offline (model-free checklist) reviewer
  aisci review paper.tex --llm offline-fitted --out review.json
  aisci review paper.pdf --llm openai:gpt-4o --num-reviews 5 --num-reflections 5 --few-shot example.json
  aisci review paper.md --llm openai:MODEL@http://localhost:8000/v1 --persona strict

A model reviewer keeps every call in a call store (--store, default ./aisci-review-calls.sqlite):
running the same command again answers from it and pays nothing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.constants import REVIEW_CALL_STORE as DEFAULT_STORE
from aisci.errors import AisciError
from aisci.review.personas import PERSONAS
from aisci.review.reviewer import reviewer_names

# the reviewers load when a review is asked for, not when the parser is built (`aisci --help`)
if TYPE_CHECKING:
    from aisci.review.form import ReviewForm


class ReviewOptionError(AisciError):
    """Options of `aisci review` that do not fit the chosen reviewer."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("review", help="review a paper file (.pdf, .tex, .md, .txt) with the NeurIPS form",
                                   description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("file", metavar="FILE", help="the paper: .pdf, .tex, .md or .txt")
    parser.add_argument("--llm", default="offline", metavar="REVIEWER",
                        help=f"which reviewer ({', '.join(reviewer_names())}; default offline)")
    parser.add_argument("--out", metavar="REVIEW_JSON", help="also write the review (and its evidence) as JSON")
    parser.add_argument("--json", action="store_true", help="print the review as JSON instead of text")
    add_model_reviewer_options(parser)
    parser.set_defaults(handler=handle)


def add_model_reviewer_options(parser, threshold: bool = True) -> None:
    """Options of a model reviewer (--llm / --run openai:MODEL...); shared with review-bench."""
    group = parser.add_argument_group("model reviewer (openai:MODEL[@URL], ollama:MODEL, vllm:MODEL@URL)")
    group.add_argument("--store", metavar="SQLITE", help=f"the call store (default ./{DEFAULT_STORE})")
    group.add_argument("--num-reviews", type=int, metavar="N", help="reviews in the ensemble (default 1)")
    group.add_argument("--num-reflections", type=int, metavar="K", help="reflection rounds per review (default 0)")
    group.add_argument("--persona", metavar="NAME_OR_TXT", help=f"{', '.join(PERSONAS)} (default neutral) or a .txt file")
    group.add_argument("--few-shot", action="append", default=[], metavar="EXAMPLE_JSON",
                       help='an example review: {"paper": PATH, "review": {...}}; repeatable')
    group.add_argument("--temperature", type=float, metavar="T", help="of the reviews (default 0.7)")
    if threshold:  # review-bench has a --threshold of its own (the rule it scores with)
        group.add_argument("--threshold", dest="accept_threshold", type=int, metavar="T",
                           help="Accept when Overall >= T (default 6)")


def model_reviewer_options(args, default_store: Path | None = None) -> tuple[dict, list[str]]:
    """(get_reviewer options, the model-reviewer flags the user gave) from the parsed flags."""
    from pydantic import ValidationError

    from aisci.config import ReviewSection

    given = {key: getattr(args, key, None) for key in ("num_reviews", "num_reflections", "persona", "temperature",
                                                       "accept_threshold") if getattr(args, key, None) is not None}
    if args.few_shot:
        given["few_shot"] = args.few_shot
    try:
        settings = ReviewSection(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        flag = {"accept_threshold": "threshold"}.get(str(first["loc"][0]), str(first["loc"][0]))
        raise ReviewOptionError(f"--{flag.replace('_', '-')}: {first['msg']}") from None
    store = args.store or default_store or DEFAULT_STORE
    options = {"store": Path(store), "settings": settings, "base_dir": Path.cwd()}
    return options, sorted(given) + (["store"] if args.store else [])


def reviewer_from(name: str, args, default_store: Path | None = None):
    """The reviewer named by --llm/--run; a model-reviewer flag given to another reviewer is an error."""
    from aisci.review.llm_reviewer import LLMReviewer
    from aisci.review.reviewer import get_reviewer

    options, given = model_reviewer_options(args, default_store)
    reviewer = get_reviewer(name, **options)
    if given and not isinstance(reviewer, LLMReviewer):
        flag = {"accept_threshold": "threshold"}.get(given[0], given[0])
        raise ReviewOptionError(f"--{flag.replace('_', '-')} applies to a model reviewer "
                                "(openai:MODEL[@URL], ollama:MODEL, vllm:MODEL@URL), not to " + repr(name))
    return reviewer


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
    from aisci.fsutil import atomic_write_json
    from aisci.review.inputs import read_paper
    from aisci.review.offline import OfflineChecklistReviewer
    from aisci.review.reviewer import review_with_evidence
    from aisci.review.verified import from_study as verified_facts
    from aisci.review.verified import study_of

    paper = read_paper(args.file)
    reviewer = reviewer_from(args.llm, args)
    study = study_of(paper.path)
    if study is not None and isinstance(reviewer, OfflineChecklistReviewer):
        # a study's own paper: the checklist credits only what the study's runs show
        form, evidence = reviewer.review_with_evidence(paper.text, verified_facts(study))
    else:
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
        if evidence.get("reviews"):
            print(format_ensemble(evidence))
    return 0


def format_ensemble(evidence: dict) -> str:
    """How a model reviewer's answer was reached: each review and the meta-review's reasons."""
    runs = evidence.get("reviews") or []
    if not runs:
        return ""
    lines = ["", f"Ensemble of {len(runs)} review(s); meta-review by {evidence.get('meta_review_author', '?')}:"]
    lines += [f"  reviewer {r['reviewer']} ({r['author']}, {r['reflection_rounds']} reflection round(s) changed it): "
              f"Overall {r['overall']}, {r['decision']}" for r in runs]
    lines += [f"  - {reason}" for reason in evidence.get("meta_review", {}).get("reasons", [])]
    return "\n".join(lines)
