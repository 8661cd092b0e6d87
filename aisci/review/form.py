"""The NeurIPS review form as a pydantic model (fields and scales as in the NeurIPS guidelines)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Score4 = int  # 1 poor, 2 fair, 3 good, 4 excellent


class ReviewForm(BaseModel):
    summary: str = Field(description="What the paper claims and does, in the reviewer's words")
    strengths: list[str]
    weaknesses: list[str]
    originality: int = Field(ge=1, le=4)
    quality: int = Field(ge=1, le=4)
    clarity: int = Field(ge=1, le=4)
    significance: int = Field(ge=1, le=4)
    questions: list[str]
    limitations: list[str]
    ethical_concerns: bool
    soundness: int = Field(ge=1, le=4)
    presentation: int = Field(ge=1, le=4)
    contribution: int = Field(ge=1, le=4)
    overall: int = Field(ge=1, le=10, description="1 very strong reject ... 10 award quality")
    confidence: int = Field(ge=1, le=5)
    decision: Literal["Accept", "Reject"]


class MetaReview(BaseModel):
    summary: str
    strengths: list[str]
    weaknesses: list[str]
    overall: float = Field(ge=1, le=10)
    decision: Literal["Accept", "Reject"]
    reasons: list[str]
