"""Helpers for the tests of the JupyterLab server extension (REST under /aisci/api/): a Jupyter
server in the test process (pytest-jupyter) with jupyterlab_aisci enabled, and a synchronous
`fetch` on it that returns (status, JSON)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

EXTENSION = Path(__file__).resolve().parents[1] / "extensions" / "jupyterlab-aisci"


def make_importable() -> None:
    """The server side tested is this checkout's, whether or not (or whichever) the extension is
    installed: its handlers come before an installed copy's."""
    if str(EXTENSION) not in sys.path:
        sys.path.insert(0, str(EXTENSION))
    loaded = sys.modules.get("jupyterlab_aisci")
    if loaded is not None and not Path(loaded.__file__).resolve().is_relative_to(EXTENSION):
        for name in [n for n in sys.modules if n == "jupyterlab_aisci" or n.startswith("jupyterlab_aisci.")]:
            del sys.modules[name]


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


class Client:
    """jp_fetch made synchronous: the test drives the server's event loop while it waits."""

    def __init__(self, loop, jp_fetch):
        self.loop = loop
        self.jp_fetch = jp_fetch

    def __call__(self, method: str, path: str, body: dict | None = None, **kwargs) -> tuple[int, dict]:
        from tornado.httpclient import HTTPClientError

        options = {"method": method, **kwargs}
        if method == "POST":
            options["body"] = json.dumps(body or {})
        try:
            response = self.loop.run_until_complete(self.jp_fetch("aisci", "api", path, **options))
        except HTTPClientError as exc:
            return exc.code, json.loads(exc.response.body) if exc.response is not None and exc.response.body else {}
        return response.code, json.loads(response.body)

    def get(self, path: str, **kwargs) -> tuple[int, dict]:
        return self("GET", path, **kwargs)

    def post(self, path: str, body: dict | None = None, **kwargs) -> tuple[int, dict]:
        return self("POST", path, body, **kwargs)

    def pump(self, seconds: float) -> None:
        """Let the server's loop run (a job's handlers run there) for a while."""
        import asyncio

        self.loop.run_until_complete(asyncio.sleep(seconds))

    def wait(self, condition, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            self.pump(0.5)
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
