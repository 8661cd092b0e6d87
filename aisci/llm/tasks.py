"""Named LLM tasks: a prompt template (a text file), a pydantic output model, and an
offline implementation. A phase never talks to a model except through a task.

A task is a frozen value, owned by the module that defines it; there is no global registry
(so `dataclasses.replace` makes a private variant without touching anyone else's)."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from pydantic import BaseModel

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
T = TypeVar("T", bound=BaseModel)

@dataclass(frozen=True)
class Task(Generic[T]):
    name: str  # also the prompt file: prompts/<name>.txt
    role: str  # which [llm.roles] entry answers it
    output: type[T]
    offline: Callable[[dict[str, Any]], T]
    temperature: float | None = None  # None: the study's [llm] temperature
    max_tokens: int = 4096
    description: str = field(default="", compare=False)

    def prompt_path(self) -> Path:
        return PROMPTS_DIR / f"{self.name}.txt"

    def placeholders(self) -> list[str]:
        """The $names the prompt file fills in: what the task must be given."""
        return string.Template(self.prompt_path().read_text(encoding="utf-8")).get_identifiers()

    def render(self, inputs: dict[str, Any]) -> list[dict[str, str]]:
        """Chat messages: the prompt file's [system] and [user] parts, filled with inputs,
        and the JSON schema the answer must follow."""
        system, user = _split_prompt(self.prompt_path().read_text(encoding="utf-8"), self.name)
        values = {k: v if isinstance(v, str) else json.dumps(v, indent=2, default=str) for k, v in inputs.items()}
        schema = json.dumps(self.output.model_json_schema(), indent=1)
        user = string.Template(user).substitute(values)
        user += f"\n\nAnswer with one JSON object that follows this JSON schema, and nothing else:\n{schema}\n"
        return [
            {"role": "system", "content": string.Template(system).substitute(values)},
            {"role": "user", "content": user},
        ]


def _split_prompt(text: str, name: str) -> tuple[str, str]:
    if "[system]" not in text or "[user]" not in text:
        raise ValueError(f"prompt {name}: needs a [system] and a [user] part")
    system_part = text.split("[system]", 1)[1]
    system, user = system_part.split("[user]", 1)
    return system.strip(), user.strip()

