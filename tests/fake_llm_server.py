"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Tests drive the real `openai` client against it instead of mocking the client:

    server.script(reply({"title": "x"}), error(429, headers={"Retry-After": "1"}), stall(5))
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)

Each POST /v1/chat/completions consumes one step from the queue; when the queue is empty the
responder set with `respond_with(fn)` answers, else the server replies 500 "script exhausted".
Use it with `from tests.fake_llm_server import fake_llm` (a function-scoped pytest fixture).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_denied",
               404: "not_found_error", 429: "rate_limit_exceeded", 500: "server_error"}


@dataclass(frozen=True)
class Reply:
    content: str
    finish_reason: str = "stop"
    prompt_tokens: int | None = None  # None: estimated from the request size
    completion_tokens: int | None = None  # None: estimated from the content size


@dataclass(frozen=True)
class Error:
    status: int
    body: Any = None  # dict is sent as JSON, str as text; None: an OpenAI-style error body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    seconds: float
    then: Reply | Error | None = None  # sent after the stall (the client has usually gone by then)


@dataclass(frozen=True)
class Reset:
    """Close the connection without sending any response."""


@dataclass(frozen=True)
class BadJson:
    """HTTP 200, Content-Type application/json, body that does not parse."""


Step = Reply | Error | Stall | Reset | BadJson


def reply(content: str | dict | list, finish_reason: str = "stop",
          prompt_tokens: int | None = None, completion_tokens: int | None = None) -> Reply:
    text = content if isinstance(content, str) else json.dumps(content)
    return Reply(text, finish_reason, prompt_tokens, completion_tokens)


def error(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Error:
    return Error(status, body, dict(headers or {}))


def stall(seconds: float, then: Reply | Error | None = None) -> Stall:
    return Stall(seconds, then)


def reset() -> Reset:
    return Reset()


def bad_json() -> BadJson:
    return BadJson()


def reject_json_schema() -> Error:
    """The 400 that servers without structured outputs (older vLLM, llama.cpp) give."""
    message = "response_format type 'json_schema' is not supported by this server"
    return error(400, {"error": {"message": message, "type": "invalid_request_error",
                                 "param": "response_format", "code": "unsupported_response_format"}})


def openai_error_body(status: int, message: str) -> dict:
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error"),
                      "param": None, "code": str(status)}}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # header names lower-cased
    body: Any  # parsed JSON, or None for GET / unparseable bodies


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers; stop() closes idle connections
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the client or a reset() step already closed the socket
        self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.owner._record(self, None)
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_json(404, openai_error_body(404, f"fake server: no route GET {self.path}"))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.server.owner._record(self, body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, openai_error_body(404, f"fake server: no route POST {self.path}"))
        elif not isinstance(body, dict):
            self._send_json(400, openai_error_body(400, "fake server: request body is not a JSON object"))
        elif body.get("stream"):
            self._send_json(400, openai_error_body(400, "fake server: streaming is not supported"))
        else:
            self._perform(self.server.owner._next_step(body), body)

    def _perform(self, step: Step, request: dict) -> None:
        try:
            if isinstance(step, Reply):
                self._send_json(200, completion_json(step, request))
            elif isinstance(step, Error):
                body = step.body if step.body is not None else openai_error_body(
                    step.status, f"fake server: scripted HTTP {step.status}")
                self._send_json(step.status, body, step.headers)
            elif isinstance(step, Stall):
                if not self.server.owner._stopping.wait(step.seconds):
                    self._perform(step.then or reply("stalled reply"), request)
            elif isinstance(step, BadJson):
                self._send_bytes(200, b'{"id": "chatcmpl-broken", "choices": [', "application/json")
            elif isinstance(step, Reset):
                # SO_LINGER 0 makes close() send RST: the client sees a dropped connection.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
            else:
                raise TypeError(f"fake server: unknown step {step!r}")
        except OSError:
            self.close_connection = True  # the client hung up (e.g. timed out during a stall)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, (dict, list)):
            self._send_bytes(status, json.dumps(body).encode(), "application/json", headers)
        else:
            self._send_bytes(status, str(body).encode(), "text/plain", headers)

    def _send_bytes(self, status: int, data: bytes, content_type: str,
                    headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def completion_json(step: Reply, request: dict) -> dict:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in request.get("messages", []))
    prompt = step.prompt_tokens if step.prompt_tokens is not None else max(1, prompt_chars // 4)
    completion = step.completion_tokens if step.completion_tokens is not None else max(1, len(step.content) // 4)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
        "created": int(time.time()), "model": request.get("model", "fake-model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": step.content},
                     "finish_reason": step.finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins every handler thread
    block_on_close = True

    def __init__(self, owner: FakeLLMServer) -> None:
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._open_lock:
            (self._open.add if add else self._open.discard)(conn)
            if add and self.owner._stopping.is_set():  # accepted just as stop() began
                conn.shutdown(socket.SHUT_RDWR)

    def close_open_connections(self) -> None:
        with self._open_lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)  # wakes handlers blocked on keep-alive reads
                except OSError:
                    pass


class FakeLLMServer:
    """Scripted OpenAI-compatible server; start() / stop() or use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque()
        self._responder: Callable[[dict], Step | str] | None = None
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeLLMServer:
        self._stopping.clear()
        self._httpd = _Server(self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-llm-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # ends pending stalls at once
        self._httpd.shutdown()
        self._httpd.close_open_connections()
        self._httpd.server_close()  # joins handler threads
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "fake server is not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    def respond_with(self, fn: Callable[[dict], Step | str] | None) -> None:
        """fn(request_json) answers once the script is used up; a str or dict return means reply(it)."""
        with self._lock:
            self._responder = fn

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._steps)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def _record(self, handler: _Handler, body: Any) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            self._requests.append(RecordedRequest(handler.command, handler.path, headers, body))

    def _next_step(self, request: dict) -> Step:
        with self._lock:
            if self._steps:
                return self._steps.popleft()
            responder = self._responder
        if responder is None:
            return error(500, openai_error_body(500, "fake server: script exhausted"))
        try:
            step = responder(request)  # called outside the lock: it may be slow or call script()
        except Exception as exc:  # surface the test's own bug as a readable 500, not a dropped socket
            return error(500, openai_error_body(500, f"fake server: responder raised {exc!r}"))
        return reply(step) if isinstance(step, (str, dict)) else step


@pytest.fixture
def fake_llm():
    with FakeLLMServer() as server:
        yield server
