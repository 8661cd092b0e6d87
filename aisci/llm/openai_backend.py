"""Any OpenAI-compatible endpoint through the `openai` package.

The client's own retries are off: ours are bounded, back off exponentially and honour
Retry-After, and never retry a bad key, a missing permission or a wrong model name.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Callable

import openai

from aisci.config import ModelCapability
from aisci.errors import LLMError
from aisci.llm.capabilities import adapted
from aisci.llm.spec import ModelSpec

RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
             openai.APIConnectionError, openai.APIResponseValidationError, json.JSONDecodeError)


@dataclass(frozen=True)
class Completion:
    content: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    attempts: int


@dataclass
class RetryPolicy:
    max_retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, exc: Exception) -> float:
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return min(retry_after, self.max_backoff_s)
        return min(self.backoff_s * (2 ** attempt), self.max_backoff_s)


class OpenAIBackend:
    def __init__(self, spec: ModelSpec, timeout_s: float, retry: RetryPolicy,
                 capability: ModelCapability | None = None,
                 on_adapt: Callable[[ModelCapability], None] | None = None):
        self.spec = spec
        self.retry = retry
        self.structured_output = spec.structured_output
        self.capability = capability or ModelCapability()
        self.on_adapt = on_adapt  # the study remembers an adaptation, so the next run asks right at once
        api_key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        if spec.api_key_env == "OPENAI_API_KEY" and not api_key and spec.base_url is None:
            raise LLMError(f"model {spec.model}: set OPENAI_API_KEY in the environment (keys never go in aisci.toml)")
        self.client = openai.OpenAI(base_url=spec.base_url, api_key=api_key or "no-key", max_retries=0, timeout=timeout_s)

    @property
    def where(self) -> str:
        return self.spec.base_url or "api.openai.com"

    def complete(self, messages: list[dict], schema: dict, name: str, temperature: float, max_tokens: int) -> Completion:
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                response = self.client.chat.completions.create(
                    model=self.spec.model, messages=messages, response_format=self._response_format(schema, name),
                    **self._sampling(temperature, max_tokens))
                return self._completion(response, attempt + 1)
            except openai.BadRequestError as exc:
                if self.structured_output == "json_schema" and _mentions_response_format(exc):
                    self.structured_output = "json_object"  # the server lacks json_schema: JSON mode + validation
                    continue
                better = adapted(self.capability, _rejected_param(exc))
                if better is not None:  # o-series, gpt-5: no temperature, max_completion_tokens
                    self.capability = better
                    if self.on_adapt:
                        self.on_adapt(better)
                    continue
                raise LLMError(f"{self.where} rejected the request for {name} (400): {_message(exc)}") from None
            except openai.AuthenticationError:
                raise LLMError(f"{self.where} rejected the API key (401); check ${self.spec.api_key_env or 'API key'}") from None
            except openai.PermissionDeniedError as exc:
                raise LLMError(f"{self.where} denied access to model {self.spec.model} (403): {_message(exc)}") from None
            except openai.NotFoundError:
                raise LLMError(f"{self.where}: model {self.spec.model!r} not found (404); check the model name and URL") from None
            except RETRYABLE as exc:
                if attempt >= self.retry.max_retries:
                    waited = time.monotonic() - started
                    raise LLMError(f"{self.where} failed {attempt + 1} times over {waited:.1f} s for {name}, "
                                   f"giving up: {_describe(exc)}") from None
                self.retry.sleep(self.retry.delay(attempt, exc))
                attempt += 1
            except openai.APIStatusError as exc:
                raise LLMError(f"{self.where} answered {exc.status_code} for {name}: {_message(exc)}") from None

    def _sampling(self, temperature: float, max_tokens: int) -> dict:
        """The sampling parameters this model accepts."""
        sampling = {self.capability.max_tokens_param: max_tokens}
        if self.capability.temperature:
            sampling["temperature"] = temperature
        return sampling

    def _response_format(self, schema: dict, name: str) -> dict:
        if self.structured_output == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": name.replace(".", "_"), "schema": schema}}
        return {"type": "json_object"}

    @staticmethod
    def _completion(response, attempts: int) -> Completion:
        if isinstance(response, str):  # some servers answer 200 with a body that is not a completion
            raise LLMError(f"endpoint returned a body that is not a chat completion: {response[:80]!r}")
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            content=choice.message.content or "",
            finish_reason=choice.finish_reason,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            attempts=attempts,
        )


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to exponential backoff


def _rejected_param(exc: openai.BadRequestError) -> str | None:
    """The request parameter a 400 answer names as unsupported (OpenAI: error.param, with
    code unsupported_parameter or unsupported_value), else None."""
    param = getattr(exc, "param", None)
    body = exc.body if isinstance(exc.body, dict) else {}
    param = param or body.get("param") or (body.get("error") or {}).get("param")
    return param if isinstance(param, str) else None


def _mentions_response_format(exc: openai.BadRequestError) -> bool:
    text = _message(exc).lower()
    return "response_format" in text or "json_schema" in text


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message") or body.get("error", {}).get("message") if body else None
    return str(message or exc.message)[:200]


def _describe(exc: Exception) -> str:
    if _refused(exc):
        return "connection refused (is the server running at that address?)"
    status = getattr(exc, "status_code", None)
    return f"{status} {type(exc).__name__}" if status else type(exc).__name__


def _refused(exc: BaseException) -> bool:
    """The endpoint's host answered but nothing listens on the port."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, ConnectionRefusedError) or "connection refused" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
