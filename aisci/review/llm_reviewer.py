"""The LLM reviewer: an ensemble of N reviews, K reflection rounds each, an area-chair meta-review.

  review.paper    reviewer i writes a review: persona, few-shot examples, the paper
  review.reflect  reviewer i rereads the paper and its own review of the last round -> an improved review
                  (stops early when a round returns the review unchanged)
  review.meta     the area chair: the N reviews and the grounded checks -> MetaReview; its Overall is kept
                  within the reviewers' range and its decision made consistent with the threshold, then
                  `aisci.review.meta.apply_findings` lowers it for failed checks

Every request names the reviewer ("reviewer i") so the call store keeps N different reviews, and
holds nothing that changes from run to run, so a rerun replays every call. On the offline engine one
review is made (the checklist is deterministic: N copies would be one review), reflections are skipped
(they could change nothing) and the meta-review is `aisci.review.meta.meta_review`. A single review gets
that deterministic meta-review too: an area chair has nothing to aggregate (The AI Scientist runs its
meta-reviewer only for ensembles as well).

`aisci review FILE --llm openai:MODEL[@URL]` and `aisci review-bench DATA --run openai:MODEL@URL` build
this reviewer through the registry (`aisci.review.reviewer`), with its own call store file.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisci.config import BudgetSection, LLMSection, ReviewSection
from aisci.constants import REVIEW_CALL_STORE as DEFAULT_STORE
from aisci.errors import AisciError
from aisci.fsutil import sha256_of
from aisci.llm import LLM
from aisci.llm.store import CallStore
from aisci.llm.tasks import PROMPTS_DIR, Task
from aisci.review.form import MetaReview, ReviewForm
from aisci.review.instructions import few_shot_text, load_examples, persona_text
from aisci.review.meta import SUB_SCORES, apply_findings, decide_by_rule, ensemble_form, meta_review

if TYPE_CHECKING:  # pandas loads only when a fitted rule is used
    from aisci.review.rules import LogisticRule

DETERMINISTIC_AUTHOR = "aisci (deterministic meta-review, no area-chair model)"


def _offline_review(inputs: dict[str, Any]) -> ReviewForm:
    # the fitted text model decides; the checklist's items are in its strengths and weaknesses
    from aisci.review.offline_fitted import FittedTextReviewer
    from aisci.review.verified import VerifiedFacts

    return FittedTextReviewer.shipped().review(inputs["paper_text"], VerifiedFacts.from_dict(inputs.get("verified")))


def _offline_reflect(inputs: dict[str, Any]) -> ReviewForm:
    # the checklist reads the same paper the same way: reflecting cannot change its review
    return ReviewForm.model_validate(inputs["previous_review"])


def _offline_area_chair(inputs: dict[str, Any]) -> MetaReview:
    return meta_review([ReviewForm.model_validate(r) for r in inputs["reviews"]],
                       threshold=float(inputs["accept_threshold"]))


REVIEW = Task("review.paper", "review", ReviewForm, _offline_review, temperature=0.7, max_tokens=3000)
REFLECT = Task("review.reflect", "review", ReviewForm, _offline_reflect, temperature=0.7, max_tokens=3000)
AREA_CHAIR = Task("review.meta", "review", MetaReview, _offline_area_chair, temperature=0.2, max_tokens=3000)


@dataclass
class ReviewRun:
    """One ensemble member: its final review and the drafts before it."""

    index: int
    author: str
    form: ReviewForm
    history: list[ReviewForm] = field(default_factory=list)  # first draft, then each reflection but the last
    call_ids: list[int | None] = field(default_factory=list)

    @property
    def reflection_rounds(self) -> int:
        return len(self.history)

    def as_record(self) -> dict:
        return {"author": self.author, "reviewer": self.index, "reflection_rounds": self.reflection_rounds,
                **self.form.model_dump(), "history": [draft.model_dump() for draft in self.history],
                "call_ids": self.call_ids}


class LLMReviewer:
    """A Reviewer (see aisci.review.reviewer) over the tasks above, through an `LLM`."""

    def __init__(self, llm: LLM, settings: ReviewSection, base_dir: Path, name: str = "llm"):
        self.llm = llm
        self.settings = settings
        self.name = name
        self.persona = persona_text(settings.persona, Path(base_dir))
        self.few_shot = few_shot_text(load_examples(settings.few_shot, Path(base_dir), settings.few_shot_max_chars))
        # [review] temperature: the same tasks (name, prompt, schema) at the study's temperature
        self._review = dataclasses.replace(REVIEW, temperature=settings.temperature)
        self._reflect = dataclasses.replace(REFLECT, temperature=settings.temperature)
        self.rule = study_rule(settings.rule, Path(base_dir))

    @classmethod
    def standalone(cls, spec: str, *, store: str | Path | None = None, settings: ReviewSection | None = None,
                   base_dir: str | Path = ".") -> LLMReviewer:
        """For `aisci review` and `review-bench`: a model named by a spec, calls kept in `store`."""
        llm = LLM(LLMSection(default=spec), BudgetSection(), CallStore(Path(store or DEFAULT_STORE)))
        llm.spec_for("review")  # a malformed spec fails here, with its one-line message
        return cls(llm, settings or ReviewSection(), Path(base_dir), name=spec)

    @property
    def offline(self) -> bool:
        return self.llm.uses_offline_engine("review")

    @cached_property
    def version(self) -> str:
        """Changes with anything that changes the reviews, so cached bench reviews are redone."""
        spec = self.llm.spec_for("review")
        prompts = {p.name: p.read_text(encoding="utf-8") for p in sorted(PROMPTS_DIR.glob("review.*.txt"))}
        settings = self.settings.model_dump(exclude={"few_shot", "persona", "check_penalty_cap", "code_max_chars"})
        return "ensemble-" + sha256_of({"model": spec.model, "url": spec.base_url, "settings": settings,
                                        "persona": self.persona, "few_shot": self.few_shot, "prompts": prompts})[:12]

    # --- the ensemble ----------------------------------------------------------------------------
    def reviews(self, paper_text: str, verified=None) -> list[ReviewRun]:
        """`verified` (aisci.review.verified.VerifiedFacts): what the study shows, for the offline checklist."""
        count = 1 if self.offline else self.settings.num_reviews
        return [self._one_review(paper_text, index, count, verified) for index in range(1, count + 1)]

    def _one_review(self, paper_text: str, index: int, count: int, verified=None) -> ReviewRun:
        shared = {"reviewer_index": str(index), "accept_threshold": str(self.settings.accept_threshold),
                  "paper_text": paper_text}
        if verified is not None and self.offline:  # a model reads the paper; the checks speak to it in the meta-review
            shared["verified"] = verified.as_dict()
        # the first review's $persona is the persona followed by the few-shot examples; reflections
        # revise a review of this very paper, so they get the persona alone
        first = self.llm.run(self._review, persona=self.persona + self.few_shot, **shared)
        run = ReviewRun(index, first.author, first.output, call_ids=[first.call_id])
        rounds = 0 if self.offline else self.settings.num_reflections
        for round_number in range(1, rounds + 1):
            result = self.llm.run(self._reflect, round=str(round_number), num_rounds=str(rounds),
                                  previous_review=run.form.model_dump(), persona=self.persona,
                                  num_reviewers=str(count), **shared)
            run.call_ids.append(result.call_id)
            if result.output == run.form:
                break  # the reviewer stands by its review: further rounds would see the same request
            run.history.append(run.form)
            run.form = result.output
        return run

    # --- the area chair --------------------------------------------------------------------------
    def meta_review(self, runs: list[ReviewRun], findings: list | None = None,
                    paper_text: str | None = None) -> tuple[MetaReview, str]:
        """(meta-review, who wrote it). `findings` are grounded checks (aisci.paper.checks.Finding);
        `paper_text` is what a fitted rule that reads the text model's score needs."""
        findings = list(findings or [])
        forms = [run.form for run in runs]
        threshold = self.settings.accept_threshold
        if self.offline or len(forms) == 1:
            meta, author = meta_review(forms, threshold=threshold), DETERMINISTIC_AUTHOR
        else:
            low, high = min(f.overall for f in forms), max(f.overall for f in forms)
            result = self.llm.run(
                AREA_CHAIR, num_reviews=str(len(forms)), reviews=[f.model_dump() for f in forms],
                score_summary=_score_summary(forms), findings=_findings_text(findings),
                overall_range=f"{low}-{high}", accept_threshold=str(threshold),
                penalty_cap=str(self.settings.check_penalty_cap))
            meta, author = _within_bounds(result.output, low, high, threshold), result.author
        if self.rule is not None:
            meta = decide_by_rule(meta, forms, self.rule, _rule_extras(self.rule, paper_text))
        return apply_findings(meta, findings, threshold=threshold, cap=self.settings.check_penalty_cap), author

    # --- the Reviewer protocol -------------------------------------------------------------------
    def review_with_evidence(self, paper_text: str) -> tuple[ReviewForm, dict]:
        runs = self.reviews(paper_text)
        meta, author = self.meta_review(runs)
        form = ensemble_form(meta, [run.form for run in runs]) if len(runs) > 1 else runs[0].form
        if len(runs) == 1 and form.decision != meta.decision:
            form = form.model_copy(update={"decision": meta.decision})
        return form, {"reviews": [run.as_record() for run in runs], "meta_review": meta.model_dump(),
                      "meta_review_author": author, "reviewer_version": self.version}

    def review(self, paper_text: str) -> ReviewForm:
        return self.review_with_evidence(paper_text)[0]


def study_rule(spec: str, base_dir: Path) -> LogisticRule | None:
    """[review] rule: "" (none) or "calibrated:PATH", PATH relative to the study folder."""
    if not spec:
        return None
    from aisci.review.rules import LogisticRule

    path = Path(spec.split(":", 1)[1])
    return LogisticRule.load(path if path.is_absolute() else base_dir / path)


def _rule_extras(rule: LogisticRule, paper_text: str | None) -> dict[str, float]:
    """Columns a hybrid rule reads besides the review's scores: the shipped text model's logit."""
    from aisci.review.fit_text import TEXT_SCORE

    if TEXT_SCORE not in rule.features:
        return {}
    if paper_text is None:
        raise ReviewRuleError(f"the [review] rule reads {TEXT_SCORE}, the text model's score of the paper, "
                              "and no paper text was given")
    from aisci.review.offline_fitted import FittedTextReviewer

    return {TEXT_SCORE: float(FittedTextReviewer.shipped().model.logits([paper_text])[0])}


class ReviewRuleError(AisciError):
    """A [review] rule cannot be applied."""


def _score_summary(forms: list[ReviewForm]) -> str:
    rows = {}
    for name in (*SUB_SCORES, "overall"):
        values = [getattr(form, name) for form in forms]
        rows[name] = {"mean": round(sum(values) / len(values), 2), "min": min(values), "max": max(values)}
    return json.dumps(rows)


def _findings_text(findings: list) -> str:
    if not findings:
        return "none ran (the paper is reviewed on its own, without the notebooks behind it)."
    failed = [f for f in findings if not f.ok and not f.skipped]
    counted = sum(not f.skipped for f in findings)
    lines = [f"{counted - len(failed)} of {counted} pass ({len(findings) - counted} could not run)."]
    lines += [f"FAILED [{f.check}] {f.detail}" for f in failed]
    return "\n".join(lines)


def _within_bounds(meta: MetaReview, low: int, high: int, threshold: int) -> MetaReview:
    """The area chair aggregates: its Overall stays within the reviewers' range and its decision follows
    the threshold. Anything corrected is said in the reasons."""
    reasons = list(meta.reasons)
    overall = min(float(high), max(float(low), meta.overall))
    if overall != meta.overall:
        reasons.append(f"the area chair's Overall {meta.overall:g} was outside the reviewers' range {low}-{high}: "
                       f"set to {overall:g}")
    decision = "Accept" if overall >= threshold else "Reject"
    if decision != meta.decision:
        reasons.append(f"the area chair's decision {meta.decision} disagreed with Overall {overall:g} against the "
                       f"threshold {threshold}: {decision}")
    return meta.model_copy(update={"overall": overall, "decision": decision, "reasons": reasons})
