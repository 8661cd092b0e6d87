"""The reviewer interface and the registry of reviewers by name.

A reviewer is anything with a `name`, a `version` (cached reviews made by another version are
redone) and `review(paper_text) -> ReviewForm`. It may also offer
`review_with_evidence(paper_text) -> (ReviewForm, dict)`; the evidence is stored beside the
review.

Names are exact ("offline", "offline-fitted") or families: `register_reviewer("openai:*", factory)`
makes every "openai:MODEL[@URL]" a reviewer, built by `factory(name, **options)`. The LLM reviewer
(aisci.review.llm_reviewer: an ensemble with reflections and an area chair) is registered this way
for the openai:, ollama: and vllm: model specs; its options are `store` (the call store file),
`settings` (a ReviewSection) and `base_dir` (where few-shot and persona paths are found).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from aisci.errors import AisciError

if TYPE_CHECKING:  # the registry loads no pydantic model: `aisci review --help` lists its names
    from aisci.review.form import ReviewForm


class UnknownReviewer(AisciError):
    """No reviewer is registered under the requested name."""


@runtime_checkable
class Reviewer(Protocol):
    name: str
    version: str

    def review(self, paper_text: str) -> ReviewForm: ...


def review_with_evidence(reviewer: Reviewer, paper_text: str) -> tuple[ReviewForm, dict]:
    detailed = getattr(reviewer, "review_with_evidence", None)
    if callable(detailed):
        return detailed(paper_text)
    return reviewer.review(paper_text), {}


def _offline() -> Reviewer:
    from aisci.review.offline import OfflineChecklistReviewer

    return OfflineChecklistReviewer()


def _offline_fitted() -> Reviewer:
    from aisci.review.offline_fitted import FittedTextReviewer

    return FittedTextReviewer.shipped()


def _llm(name: str, **options) -> Reviewer:
    from aisci.review.llm_reviewer import LLMReviewer

    return LLMReviewer.standalone(name, **options)


_FACTORIES: dict[str, Callable[[], Reviewer]] = {"offline": _offline, "offline-fitted": _offline_fitted}
_FAMILIES: dict[str, Callable[..., Reviewer]] = {"openai:": _llm, "ollama:": _llm, "vllm:": _llm}


def register_reviewer(name: str, factory: Callable[..., Reviewer]) -> None:
    """Make a reviewer available as `aisci review --llm NAME` and `review-bench --run NAME`:
    an exact name built by `factory()`, or a family "PREFIX*" built by `factory(name, **options)`."""
    if name.endswith("*"):
        _FAMILIES[name[:-1]] = factory
    else:
        _FACTORIES[name] = factory


def reviewer_names() -> list[str]:
    return sorted(_FACTORIES) + sorted(f"{prefix}MODEL" for prefix in _FAMILIES)


def get_reviewer(name: str, **options) -> Reviewer:
    """The reviewer registered as `name`. `options` reach family factories (model reviewers) only."""
    if name in _FACTORIES:
        return _FACTORIES[name]()
    for prefix, factory in _FAMILIES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return factory(name, **options)
    raise UnknownReviewer(f"unknown reviewer {name!r}; known: {', '.join(reviewer_names())}")
