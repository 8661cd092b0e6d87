"""Model specs: which endpoint and model answers a role.

    offline                   the deterministic, model-free offline engine
    openai:MODEL[@URL]        OpenAI, or any OpenAI-compatible server at URL
    ollama:MODEL              a local Ollama server
    vllm:MODEL@URL            a vLLM (or llama.cpp, LM Studio...) server
    endpoint:NAME             [llm.endpoints.NAME] in aisci.toml
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aisci.constants import OFFLINE_ENGINE
from aisci.errors import ConfigError

if TYPE_CHECKING:  # the config validates specs with this module
    from aisci.config import LLMSection

OFFLINE = "offline"
OLLAMA_URL = "http://localhost:11434/v1"


@dataclass(frozen=True)
class ModelSpec:
    provider: str  # "offline" or "openai-compatible"
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    structured_output: str = "json_schema"

    @property
    def is_offline(self) -> bool:
        return self.provider == OFFLINE

    @property
    def label(self) -> str:
        return "offline engine" if self.is_offline else self.model


def parse_spec(text: str, llm: LLMSection | None = None) -> ModelSpec:
    text = text.strip()
    if text == OFFLINE:
        return ModelSpec(OFFLINE, OFFLINE_ENGINE)
    kind, sep, rest = text.partition(":")
    if not sep or not rest:
        raise ConfigError(f"model {text!r}: expected offline, openai:MODEL, ollama:MODEL, vllm:MODEL@URL or endpoint:NAME")
    model, _, url = rest.partition("@")
    if kind == "openai":
        return ModelSpec("openai-compatible", model, url or None, "OPENAI_API_KEY")
    if kind == "ollama":
        return ModelSpec("openai-compatible", model, url or OLLAMA_URL, None, "json_object")
    if kind == "vllm":
        if not url:
            raise ConfigError(f"model {text!r}: vllm needs the server URL, as vllm:MODEL@http://host:8000/v1")
        return ModelSpec("openai-compatible", model, url, "VLLM_API_KEY")
    if kind == "endpoint":
        endpoints = llm.endpoints if llm else {}
        if model not in endpoints:
            raise ConfigError(f"model {text!r}: no [llm.endpoints.{model}] in aisci.toml")
        ep = endpoints[model]
        return ModelSpec("openai-compatible", ep.model, ep.base_url, ep.api_key_env, ep.structured_output)
    raise ConfigError(f"model {text!r}: unknown provider {kind!r} (offline, openai, ollama, vllm, endpoint)")
