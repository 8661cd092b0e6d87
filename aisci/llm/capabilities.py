"""What request parameters a model accepts, and what a study has learned about its models.

Three sources, first match wins: [llm.capabilities.MODEL] in aisci.toml, what this study
learned from a model's 400 answers (llm/models.json), the shipped table by name prefix.
The study's memory also holds the one-time warnings already given about a model."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

from aisci.config import LLMSection, ModelCapability
from aisci.fsutil import atomic_write_json, read_json

SHIPPED_FILE = Path(__file__).resolve().parent.parent / "data" / "capabilities.json"
MEMORY_FILE = "models.json"
# the request parameters a 400 answer may name, and how a request goes on without them
ADAPTABLE = ("temperature", "max_tokens")


@lru_cache(maxsize=1)
def _shipped() -> dict[str, dict]:
    table = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in table.items() if not k.startswith("_")}


def shipped_capability(model: str) -> ModelCapability | None:
    """The shipped entry whose prefix names the model (the longest prefix wins)."""
    bare = model.rsplit("/", 1)[-1]  # openrouter-style "openai/o3"
    matches = [p for p in _shipped() if bare == p or bare.startswith(p + "-")]
    return ModelCapability(**_shipped()[max(matches, key=len)]) if matches else None


class ModelMemory:
    """llm/models.json: per model, the adaptations learned and the warnings given."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / MEMORY_FILE
        self._lock = threading.Lock()

    def _read(self) -> dict:
        try:
            data = read_json(self.path, default={})
        except (OSError, ValueError):  # a damaged file: learn again rather than fail the call
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, model: str) -> dict:
        return dict(self._read().get(model, {}))

    def update(self, model: str, **values) -> None:
        with self._lock:
            data = self._read()
            data.setdefault(model, {}).update(values)
            atomic_write_json(self.path, data)

    def capability(self, model: str, llm: LLMSection) -> ModelCapability:
        if model in llm.capabilities:
            return llm.capabilities[model]
        learned = self.get(model).get("capability")
        if learned:
            return ModelCapability(**learned)
        return shipped_capability(model) or ModelCapability()

    def learn(self, model: str, capability: ModelCapability) -> None:
        self.update(model, capability=capability.model_dump())

    def warn_once(self, model: str, what: str) -> bool:
        """True the first time `what` is asked about this model in this study."""
        given = self.get(model).get("warned", [])
        if what in given:
            return False
        self.update(model, warned=[*given, what])
        return True


def adapted(capability: ModelCapability, param: str | None) -> ModelCapability | None:
    """The capability after the server rejected `param`; None when nothing can be changed."""
    if param == "temperature" and capability.temperature:
        return capability.model_copy(update={"temperature": False})
    if param == "max_tokens" and capability.max_tokens_param == "max_tokens":
        return capability.model_copy(update={"max_tokens_param": "max_completion_tokens"})
    return None
