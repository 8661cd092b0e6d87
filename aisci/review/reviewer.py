"""The reviewer interface and the registry of reviewers by name.

A reviewer is anything with a `name`, a `version` (cached reviews made by another version are
redone) and `review(paper_text) -> ReviewForm`. It may also offer
`review_with_evidence(paper_text) -> (ReviewForm, dict)`; the evidence is stored beside the
review. The LLM reviewer (an ensemble over an LLM task) registers itself with `register_reviewer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from aisci.errors import AisciError
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


_FACTORIES: dict[str, Callable[[], Reviewer]] = {"offline": _offline, "offline-fitted": _offline_fitted}


def register_reviewer(name: str, factory: Callable[[], Reviewer]) -> None:
    """Make `factory()` available as `aisci review --llm NAME` and `review-bench --run NAME`."""
    _FACTORIES[name] = factory


def reviewer_names() -> list[str]:
    return sorted(_FACTORIES)


def get_reviewer(name: str) -> Reviewer:
    if name not in _FACTORIES:
        raise UnknownReviewer(f"unknown reviewer {name!r}; known: {', '.join(reviewer_names())}")
    return _FACTORIES[name]()
