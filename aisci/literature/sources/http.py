"""HTTP for online sources: cache first, per-host rate limiting, bounded retries.

Every request has a hard time budget (`RetryPolicy.max_total_s`): rate-limit waits,
`Retry-After` pauses, backoff and the attempts themselves all come out of it, so a storm
of 429s ends in a SourceError after at most that long — never an endless loop. A server
asking to wait longer than what is left of the budget is not waited for at all.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import httpx

from aisci.version import __version__
from aisci.literature.errors import SourceError, SourceNotFound
from aisci.literature.sources.cache import ResponseCache, request_key

log = logging.getLogger("aisci.literature")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    max_total_s: float = 30.0  # everything one request may take: waits, backoff and attempts
    timeout_s: float = 10.0  # one attempt
    backoff_s: float = 1.0
    max_backoff_s: float = 8.0


class RateLimiter:
    """Keeps requests to one service at least `min_interval_s` apart, across threads and instances."""

    _registry: dict[str, RateLimiter] = {}
    _registry_lock = threading.Lock()

    def __init__(self, min_interval_s: float):
        self.min_interval_s = min_interval_s
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, name: str, min_interval_s: float) -> RateLimiter:
        with cls._registry_lock:
            limiter = cls._registry.get(name)
            if limiter is None:
                limiter = cls._registry[name] = cls(min_interval_s)
            limiter.min_interval_s = max(limiter.min_interval_s, min_interval_s)
            return limiter

    def reserve(self, deadline: float) -> float | None:
        """Seconds to wait before the next request may go out, or None if that is past `deadline`."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            if slot > deadline:
                return None
            self._next = slot + self.min_interval_s
            return slot - now

    def finished(self) -> None:
        """A request just completed: the next may start `min_interval_s` from now. Spacing
        from completion (not only from sending) keeps the gaps the server sees at least as
        long as asked, however long connecting took."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + self.min_interval_s)

    def hold_off(self, seconds: float) -> None:
        """The server said "not before `seconds`": no request to it goes out until then."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After: 5` or an HTTP date -> seconds (never negative); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class Fetcher:
    """GETs for one source, answered from the cache when the same request was made before."""

    def __init__(self, source: str, *, cache: ResponseCache | None, min_interval_s: float,
                 policy: RetryPolicy | None = None, client: httpx.Client | None = None,
                 limiter_name: str | None = None, key_hint: str | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.source = source
        self.cache = cache
        self.policy = policy or RetryPolicy()
        self.limiter = RateLimiter.shared(limiter_name or source, min_interval_s)
        self.key_hint = key_hint  # e.g. "$S2_API_KEY", named (never shown) when access is refused
        self._client = client  # made on first use: answers from the cache need no connection
        self._client_lock = threading.Lock()
        self._client_of: Fetcher | None = None  # another host of the same source: use its client
        self._sleep = sleep
        self.requests_sent = 0

    def for_host(self, limiter_name: str) -> Fetcher:
        """A fetcher for another host of this source (doi.org for Crossref): the same client,
        cache, policy and clock, its own rate limit."""
        sibling = Fetcher(self.source, cache=self.cache, min_interval_s=self.limiter.min_interval_s,
                          policy=self.policy, limiter_name=limiter_name, key_hint=self.key_hint, sleep=self._sleep)
        sibling._client_of = self
        return sibling

    @property
    def client(self) -> httpx.Client:
        if self._client_of is not None:
            return self._client_of.client
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(follow_redirects=True,
                                            headers={"User-Agent": f"aisci/{__version__} (literature search)"})
            return self._client

    def close(self) -> None:
        if self._client is not None and self._client_of is None:
            self._client.close()

    def get(self, url: str, *, params: dict | None = None, headers: dict | None = None,
            secret_params: dict | None = None, secret_headers: dict | None = None,
            accept: str = "application/json", parse: Callable[[str], Any] = str, use_cache: bool = True,
            error_reason: Callable[[str], str | None] | None = None) -> Any:
        """The parsed answer to GET url?params. `parse` runs before caching, so an answer
        that cannot be read is reported (SourceError) and never cached. `error_reason`
        reads the reason out of an error answer's body (arXiv's error feed)."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        key = request_key(self.source, url, params, accept)
        if use_cache and self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                log.debug("%s: answered from cache: %s %s", self.source, url, params)
                return parse(cached)
        body = self._fetch(url, {**params, **(secret_params or {})},
                           {"Accept": accept, **(headers or {}), **(secret_headers or {})}, error_reason)
        try:
            parsed = parse(body)
        except Exception as exc:
            raise SourceError(self.source, f"unreadable answer ({type(exc).__name__}: {_snippet(str(exc), 80)})") \
                from exc
        if self.cache is not None:
            self.cache.put(key, source=self.source, url=url, params=params, body=body)
        return parsed

    def _fetch(self, url: str, params: dict, headers: dict,
               error_reason: Callable[[str], str | None] | None = None) -> str:
        policy = self.policy
        start = time.monotonic()
        deadline = start + policy.max_total_s
        reason = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            wait = self.limiter.reserve(deadline)
            if wait is None:
                raise SourceError(self.source, f"{reason}; no request slot within the {policy.max_total_s:.0f}s budget")
            if wait:
                self._sleep(wait)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.requests_sent += 1
            try:
                response = self._send(url, params, headers, min(policy.timeout_s, remaining))
            except httpx.TimeoutException:
                reason, pause = "timed out", self._backoff(attempt)
            except httpx.TransportError as exc:
                reason, pause = f"connection failed ({type(exc).__name__})", self._backoff(attempt)
            else:
                status = response.status_code
                if status == 200:
                    return response.text
                if status == 404:
                    raise SourceNotFound(self.source, "not found (HTTP 404)")
                if status in (401, 403):
                    hint = f"; check {self.key_hint}" if self.key_hint else ""
                    raise SourceError(self.source, f"access refused (HTTP {status}){hint}")
                if status not in RETRY_STATUSES:
                    told = _reason_in_body(error_reason, response.text)
                    raise SourceError(self.source, told or f"HTTP {status}: {_snippet(response.text)}")
                reason = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status})"
                asked = parse_retry_after(response.headers.get("Retry-After"))
                pause = asked if asked is not None else self._backoff(attempt)
                if asked is not None:
                    self.limiter.hold_off(asked)
                left = deadline - time.monotonic()
                if asked is not None and asked > left:
                    raise SourceError(self.source, f"{reason}; server asks to wait {asked:.0f}s, more than the "
                                                   f"{max(left, 0):.1f}s left of the {policy.max_total_s:.0f}s budget "
                                                   f"(attempt {attempt})")
            if attempt == policy.max_attempts:
                break
            if time.monotonic() + pause > deadline:
                break
            log.info("%s: %s; retrying in %.1fs (attempt %d/%d)", self.source, reason, pause, attempt,
                     policy.max_attempts)
            self._sleep(pause)
        elapsed = time.monotonic() - start
        raise SourceError(self.source, f"{reason}; gave up after {attempt} attempt(s) "
                                       f"in {elapsed:.1f}s")

    def _send(self, url: str, params: dict, headers: dict, timeout: float) -> httpx.Response:
        try:
            return self.client.get(url, params=params, headers=headers, timeout=timeout)
        finally:
            self.limiter.finished()

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.max_backoff_s, self.policy.backoff_s * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)  # jitter: parallel clients do not retry in lockstep


def _reason_in_body(error_reason: Callable[[str], str | None] | None, body: str) -> str | None:
    if error_reason is None:
        return None
    try:
        reason = error_reason(body)
    except Exception:  # an error body we cannot read: the raw snippet says more than nothing
        return None
    return _snippet(reason) if reason else None


def _snippet(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")
