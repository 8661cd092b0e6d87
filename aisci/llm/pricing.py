"""Token prices: the shipped table, overridden by [llm.prices] in aisci.toml."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from aisci.config import LLMSection

PRICES_FILE = Path(__file__).resolve().parent.parent / "data" / "prices.json"


@lru_cache(maxsize=1)
def _shipped() -> dict[str, dict]:
    table = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in table.items() if not k.startswith("_")}


def price_per_token(model: str, llm: LLMSection) -> tuple[float, float] | None:
    """(input, output) USD per token, or None when the model's price is unknown."""
    if model in llm.prices:
        p = llm.prices[model]
        return p.input_per_mtok / 1e6, p.output_per_mtok / 1e6
    shipped = _shipped().get(model)
    if shipped:
        return shipped["input_per_mtok"] / 1e6, shipped["output_per_mtok"] / 1e6
    return None


def cost_of(model: str, llm: LLMSection, prompt_tokens: int, completion_tokens: int) -> float:
    prices = price_per_token(model, llm)
    if prices is None:
        return 0.0
    return prompt_tokens * prices[0] + completion_tokens * prices[1]
