"""The call store: every LLM call of a study in one SQLite file (llm/calls.sqlite).

An identical request (model, messages, parameters, schema) is answered from here
without contacting the server, so a rerun or a replay never pays twice. Requests
never contain keys: the key travels in an HTTP header the store never sees.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_key TEXT NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    engine TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    latency_s REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS calls_by_key ON calls(request_key);
"""


@dataclass(frozen=True)
class StoredCall:
    id: int
    task: str
    model: str
    engine: str
    response: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


RECORD_COLUMNS = ("id, task, model, engine, request, response, attempts, prompt_tokens, completion_tokens, "
                  "cost_usd, latency_s, created_at")


@dataclass(frozen=True)
class CallRecord:
    id: int
    task: str
    model: str
    engine: str
    request: dict
    response: str
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    created_at: float

    @classmethod
    def from_row(cls, row: tuple) -> "CallRecord":
        values = list(row)
        values[4] = json.loads(values[4])
        return cls(*values)


@dataclass(frozen=True)
class Totals:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class CallStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def lookup(self, request_key: str) -> StoredCall | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT id, task, model, engine, response, prompt_tokens, completion_tokens, cost_usd "
                "FROM calls WHERE request_key = ?", (request_key,)).fetchone()
        return StoredCall(*row) if row else None

    def save(self, *, request_key: str, task: str, model: str, engine: str, request: dict, response: str,
             attempts: int, prompt_tokens: int, completion_tokens: int, cost_usd: float, latency_s: float) -> int:
        # an upsert, not INSERT OR REPLACE: a request asked again keeps its id, so the call ids
        # that node.json files and reviews point to stay valid
        with self._connect() as db:
            db.execute(
                "INSERT INTO calls (request_key, task, model, engine, request, response, attempts, "
                "prompt_tokens, completion_tokens, cost_usd, latency_s, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(request_key) DO UPDATE SET task=excluded.task, model=excluded.model, "
                "engine=excluded.engine, request=excluded.request, response=excluded.response, "
                "attempts=excluded.attempts, prompt_tokens=excluded.prompt_tokens, "
                "completion_tokens=excluded.completion_tokens, cost_usd=excluded.cost_usd, "
                "latency_s=excluded.latency_s, created_at=excluded.created_at",
                (request_key, task, model, engine, json.dumps(request, sort_keys=True), response, attempts,
                 prompt_tokens, completion_tokens, cost_usd, latency_s, time.time()))
            return int(db.execute("SELECT id FROM calls WHERE request_key = ?", (request_key,)).fetchone()[0])

    def get(self, call_id: int) -> CallRecord | None:
        """One call, whole: the request (messages, parameters, schema) and the answer."""
        with self._connect() as db:
            row = db.execute(f"SELECT {RECORD_COLUMNS} FROM calls WHERE id = ?", (call_id,)).fetchone()
        return CallRecord.from_row(row) if row else None

    def calls(self, task: str | None = None) -> list[CallRecord]:
        """Every call in the order first made, optionally of one task."""
        query, args = f"SELECT {RECORD_COLUMNS} FROM calls", ()
        if task:
            query, args = query + " WHERE task = ?", (task,)
        with self._connect() as db:
            return [CallRecord.from_row(row) for row in db.execute(query + " ORDER BY id", args).fetchall()]

    def totals(self, engine: str | None = None) -> Totals:
        query = "SELECT COUNT(*), COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0), COALESCE(SUM(cost_usd),0) FROM calls"
        args: tuple = ()
        if engine:
            query += " WHERE engine = ?"
            args = (engine,)
        with self._connect() as db:
            return Totals(*db.execute(query, args).fetchone())

    def by_task(self) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT task, model, engine, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd) "
                "FROM calls GROUP BY task, model, engine ORDER BY task").fetchall()
        keys = ("task", "model", "engine", "calls", "prompt_tokens", "completion_tokens", "cost_usd")
        return [dict(zip(keys, row)) for row in rows]
