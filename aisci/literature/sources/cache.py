"""Cache of online-source responses, in the study folder, so no query is sent twice.

Keyed by the request as the source sees it minus any secret (API keys are never part of
a key nor stored). Only successful answers are cached, empty result sets included: "no
paper matches" is an answer too. The stored URL and parameters let a notebook show, and
re-run, exactly which queries a phase made.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from aisci.fsutil import sha256_of

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    params TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
"""


def request_key(source: str, url: str, params: dict, accept: str | None) -> str:
    return sha256_of({"source": source, "url": url, "params": sorted((str(k), str(v)) for k, v in params.items()),
                      "accept": accept or ""})


class ResponseCache:
    def __init__(self, path: Path, *, max_age_s: float | None = None):
        self.path = Path(path)
        self.max_age_s = max_age_s  # None: answers never expire (reproducible reruns)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._lock:
            self._db.executescript(_SCHEMA)

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT body, fetched_at FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        if self.max_age_s is not None and time.time() - row[1] > self.max_age_s:
            return None
        return row[0]

    def put(self, key: str, *, source: str, url: str, params: dict, body: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                             (key, source, url, json.dumps(params, sort_keys=True, default=str), body, time.time()))

    def queries(self, source: str | None = None) -> list[dict]:
        """The requests answered so far (for provenance), oldest first."""
        sql = "SELECT source, url, params, fetched_at FROM responses"
        args: tuple = ()
        if source:
            sql += " WHERE source = ?"
            args = (source,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY fetched_at", args).fetchall()
        return [{"source": s, "url": u, "params": json.loads(p), "fetched_at": t} for s, u, p, t in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
