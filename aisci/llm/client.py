"""The one door to language models: `LLM(study).run(task, **inputs)`.

Around every backend: the call store (an identical request is answered from the store),
token and cost accounting, the study budget, and validation of the answer against the
task's pydantic model: a malformed answer (bad JSON, schema-invalid, cut off) gets one
repair round, then fresh attempts, bounded by [llm] output_attempts.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, ValidationError

from aisci.config import LLMSection, BudgetSection
from aisci.constants import OFFLINE_ENGINE
from aisci.errors import BudgetStop, LLMOutputError, ReplayMiss
from aisci.fsutil import sha256_of
from aisci.llm.capabilities import ModelMemory
from aisci.llm.pricing import cost_of, price_per_token
from aisci.llm.spec import ModelSpec, parse_spec
from aisci.llm.store import CallStore
from aisci.llm.tasks import Task

if TYPE_CHECKING:  # the openai package loads with the first live call: the offline engine never needs it
    from aisci.llm.openai_backend import Completion, OpenAIBackend, RetryPolicy

REPAIR_PROMPT = Path(__file__).resolve().parent.parent / "prompts" / "repair.txt"


@dataclass(frozen=True)
class TaskResult:
    output: BaseModel
    author: str  # "offline-engine" or "model:<name>": goes into cell metadata
    call_id: int | None
    replayed: bool


class LLM:
    def __init__(self, llm: LLMSection, budget: BudgetSection, store: CallStore,
                 override: str | None = None, retry: RetryPolicy | None = None,
                 warn: Callable[[str], None] | None = None):
        self.settings = llm
        self.budget = budget
        self.store = store
        self.memory = ModelMemory(store.path.parent)  # what this study learned about its models
        self.warn = warn or _warn_on_stderr
        self.override = override
        self.retry = retry  # None: made from the [llm] settings with the first backend
        self._backends: dict[ModelSpec, OpenAIBackend] = {}
        self.live_calls = 0  # calls that reached a server in this process

    @classmethod
    def for_study(cls, study, override: str | None = None) -> "LLM":
        return cls(study.config.llm, study.config.budget, CallStore(study.path("llm", "calls.sqlite")), override)

    def spec_for(self, role: str) -> ModelSpec:
        return parse_spec(self.override or self.settings.model_for(role), self.settings)

    def uses_offline_engine(self, role: str) -> bool:
        return self.spec_for(role).is_offline

    def run(self, task: Task, **inputs: Any) -> TaskResult:
        spec = self.spec_for(task.role)
        if spec.is_offline:
            return self._run_offline(task, inputs)
        temperature = self.settings.temperature if task.temperature is None else task.temperature
        messages = task.render(inputs)
        schema = task.output.model_json_schema()
        request = {"model": spec.model, "messages": messages, "temperature": temperature,
                   "max_tokens": task.max_tokens, "schema": schema}
        key = sha256_of(request)
        if self.settings.cache != "off":
            stored = self.store.lookup(key)
            if stored is not None:
                return TaskResult(task.output.model_validate_json(stored.response), f"model:{stored.model}", stored.id, True)
        if self.settings.cache == "replay":
            raise ReplayMiss(f"replay-only mode: the call store has no answer for task {task.name} with model {spec.model}")
        self._check_budget(spec, messages, task.max_tokens)
        started = time.monotonic()
        output, content, used = self._ask(spec, task, messages, schema, temperature)
        call_id = self.store.save(
            request_key=key, task=task.name, model=spec.model, engine="openai-compatible", request=request,
            response=content, attempts=used["attempts"], prompt_tokens=used["prompt_tokens"],
            completion_tokens=used["completion_tokens"],
            cost_usd=cost_of(spec.model, self.settings, used["prompt_tokens"], used["completion_tokens"]),
            latency_s=time.monotonic() - started)
        return TaskResult(output, f"model:{spec.model}", call_id, False)

    # --- the offline engine ---------------------------------------------------------
    def _run_offline(self, task: Task, inputs: dict) -> TaskResult:
        output = task.output.model_validate(task.offline(inputs).model_dump())
        key = sha256_of({"offline": task.name, "inputs": inputs})
        call_id = self.store.save(
            request_key=key, task=task.name, model=OFFLINE_ENGINE, engine="offline", request={"inputs": inputs},
            response=output.model_dump_json(), attempts=1, prompt_tokens=0, completion_tokens=0, cost_usd=0.0,
            latency_s=0.0)
        return TaskResult(output, OFFLINE_ENGINE, call_id, False)

    # --- a live call, validated: a repair round, then fresh attempts ----------------------
    def _ask(self, spec: ModelSpec, task: Task, messages: list[dict], schema: dict, temperature: float):
        backend = self._backend(spec)
        used = {"attempts": 0, "prompt_tokens": 0, "completion_tokens": 0}
        problem = ""
        attempts = self.settings.output_attempts
        for attempt in range(attempts):
            conversation = list(messages)  # a fresh attempt forgets the broken answers
            for round_number in range(2):  # the answer, then one repair round
                if attempt or round_number:
                    self._check_budget(spec, conversation, task.max_tokens)
                completion = backend.complete(conversation, schema, task.name, temperature, task.max_tokens)
                self.live_calls += 1
                _add_usage(used, completion)
                output, problem = _parse(task, completion)
                if output is not None:
                    return output, output.model_dump_json(), used
                conversation += [
                    {"role": "assistant", "content": completion.content},
                    {"role": "user", "content": REPAIR_PROMPT.read_text(encoding="utf-8").format(problem=problem)},
                ]
        raise LLMOutputError(f"task {task.name}: model {spec.model} gave no valid answer in {attempts} attempts, "
                             f"each with a repair round (last problem: {problem})")

    def _backend(self, spec: ModelSpec) -> OpenAIBackend:
        if spec not in self._backends:
            from aisci.llm.openai_backend import OpenAIBackend, RetryPolicy

            if self.retry is None:
                self.retry = RetryPolicy(self.settings.max_retries, self.settings.backoff_s, self.settings.max_backoff_s)
            self._warn_if_unpriced(spec.model)
            self._backends[spec] = OpenAIBackend(
                spec, self.settings.timeout_s, self.retry, self.memory.capability(spec.model, self.settings),
                on_adapt=lambda capability: self._remember(spec.model, capability))
        return self._backends[spec]

    def _remember(self, model: str, capability) -> None:
        self.memory.learn(model, capability)
        sent = "no temperature" if not capability.temperature else "temperature"
        self.warn(f"model {model} rejected a request parameter; it is now asked with {sent} and "
                  f"{capability.max_tokens_param} (kept in llm/models.json for this study)")

    def _warn_if_unpriced(self, model: str) -> None:
        if price_per_token(model, self.settings) is not None:
            return
        if self.memory.warn_once(model, "unpriced"):
            self.warn(f"model {model} has no price in aisci's table: its calls count as $0 and [budget] max_usd "
                      f"cannot be enforced for it "
                      f"([budget] max_tokens still is); add [llm.prices.\"{model}\"] input_per_mtok and "
                      f"output_per_mtok to aisci.toml")

    def _check_budget(self, spec: ModelSpec, messages: list[dict], max_tokens: int) -> None:
        spent = self.store.totals()
        prompt_estimate = len(json.dumps(messages)) // 4
        if self.budget.max_tokens is not None and spent.tokens + prompt_estimate + max_tokens > self.budget.max_tokens:
            raise BudgetStop(
                f"token budget reached: {spent.tokens} used of {self.budget.max_tokens}, the next call may need "
                f"{prompt_estimate + max_tokens}; everything so far is saved — raise [budget] max_tokens in aisci.toml and rerun",
                spent=spent.tokens, limit=self.budget.max_tokens, unit="tokens")
        prices = price_per_token(spec.model, self.settings)
        if self.budget.max_usd is not None and prices is not None:
            estimate = prompt_estimate * prices[0] + max_tokens * prices[1]
            if spent.cost_usd + estimate > self.budget.max_usd:
                raise BudgetStop(
                    f"budget reached: ${spent.cost_usd:.4f} spent of ${self.budget.max_usd:.2f}, the next call may cost "
                    f"${estimate:.4f}; everything so far is saved — raise [budget] max_usd in aisci.toml and rerun",
                    spent=spent.cost_usd, limit=self.budget.max_usd, unit="usd")


def _warn_on_stderr(message: str) -> None:
    print(f"aisci: warning: {message}", file=sys.stderr)


def _parse(task: Task, completion: Completion) -> tuple[BaseModel | None, str]:
    if completion.finish_reason == "length":
        return None, f"the answer was cut off at {task.max_tokens} tokens; give a shorter, complete JSON object"
    try:
        return task.output.model_validate_json(_strip_fences(completion.content)), ""
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:5])
        return None, f"the JSON did not match the schema: {errors}"


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def _add_usage(used: dict, completion: Completion) -> None:
    used["attempts"] += completion.attempts
    used["prompt_tokens"] += completion.prompt_tokens
    used["completion_tokens"] += completion.completion_tokens
