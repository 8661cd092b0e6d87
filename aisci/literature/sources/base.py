"""The interface every online source implements: `search(query, limit) -> [Reference]`.

Each result is a Reference with a complete BibTeX entry (built from the metadata when the
source gives none). Base URLs are constructor arguments, so tests and mirrors can point a
source anywhere; API keys come from the environment unless given, and are sent only as
the source requires — never logged, never part of a cache key.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from typing import ClassVar
from collections.abc import Callable

import httpx

from aisci.literature.model import Reference
from aisci.literature.sources.cache import ResponseCache
from aisci.literature.sources.http import Fetcher, RetryPolicy


class Source(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    min_interval_s: ClassVar[float] = 1.0
    key_env: ClassVar[tuple[str, ...]] = ()  # environment variables that may hold an API key

    def __init__(self, *, base_url: str | None = None, cache: ResponseCache | None = None,
                 policy: RetryPolicy | None = None, api_key: str | None = None,
                 min_interval_s: float | None = None, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._api_key = api_key if api_key is not None else _first_env(self.key_env)
        interval = self.min_interval_s if min_interval_s is None else min_interval_s
        self.fetcher = Fetcher(self.name, cache=cache, min_interval_s=interval, policy=policy, client=client,
                               limiter_name=f"{self.name}@{self.base_url}",
                               key_hint=" or ".join(f"${v}" for v in self.key_env) or None, sleep=sleep)

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    @abstractmethod
    def search(self, query: str, limit: int = 10) -> list[Reference]:
        """Papers matching `query`, best first; raises SourceError when the source fails."""

    def close(self) -> None:
        self.fetcher.close()

    def __repr__(self) -> str:  # no key in here, ever
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={'set' if self._api_key else 'none'})"


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None
