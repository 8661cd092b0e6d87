"""REST handlers under /aisci/api/. Each one confines its path to the server root, calls one
function of aisci.api in a worker thread (the server's event loop never waits on a study), and
answers JSON. Errors are one line of JSON, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from aisci import api, events
from aisci.errors import AisciError

STUDY = r"(?P<study>(?:[^/]+/)*?[^/]+)"  # a study's path relative to the server root


class PathRefused(web.HTTPError):
    def __init__(self, path: str):
        super().__init__(403, reason=f"{path!r} is outside the server root")


class AisciHandler(APIHandler):
    """Authenticated (Jupyter's token or cookie, with XSRF checks on POST), confined to the root."""

    @property
    def root(self) -> Path:
        return Path(os.path.expanduser(self.settings["server_root_dir"])).resolve()

    def confined(self, relative: str) -> Path:
        """`relative` resolved under the server root; `..`, absolute paths and symlinks that lead
        out of the root are refused."""
        if relative.startswith("/") or "\\" in relative or any(part == ".." for part in relative.split("/")):
            raise PathRefused(relative)
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            raise PathRefused(relative)
        return target

    def body(self) -> dict:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, reason="the request body is not JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPError(400, reason="the request body must be a JSON object")
        return data

    async def call(self, function, *args, **kwargs):
        """Run an aisci.api function off the event loop; its AisciError becomes a 400 with its message."""
        try:
            result = await asyncio.to_thread(function, *args, **kwargs)
        except AisciError as exc:
            raise web.HTTPError(400, reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        self.finish(json.dumps(result, default=str))

    def write_error(self, status_code: int, **kwargs) -> None:
        """One line of JSON: the reason, never the traceback."""
        self.set_header("Content-Type", "application/json")
        reason = self._reason
        exc_info = kwargs.get("exc_info")
        if exc_info and not isinstance(exc_info[1], web.HTTPError):
            reason = f"internal error: {type(exc_info[1]).__name__}"
        elif exc_info and getattr(exc_info[1], "reason", None):
            reason = exc_info[1].reason
        self.finish(json.dumps({"message": " ".join(str(reason).split())}))


class StudiesHandler(AisciHandler):
    @web.authenticated
    async def get(self):
        """Every study under the server root."""
        root = self.root
        await self.call(lambda: {"root": str(root), "studies": api.list_studies(root)})

    @web.authenticated
    async def post(self):
        """A new study (what `aisci init` does), from the new-study dialog."""
        data = self.body()
        target = self.confined(str(data.get("path", "")).strip().strip("/") or "")
        if target == self.root:
            raise web.HTTPError(400, reason="give the new study a folder name")
        root = self.root

        def create():
            study = api.new_study(target, str(data.get("template") or "grokking"), str(data.get("topic", "")),
                                  data.get("llm") or None, data.get("gate_policy") or None)
            return api.study_card(study.root, root)

        await self.call(create)


class StatusHandler(AisciHandler):
    @web.authenticated
    async def get(self, study: str):
        await self.call(api.study_card, self.confined(study), self.root)


class TreeHandler(AisciHandler):
    @web.authenticated
    async def get(self, study: str):
        await self.call(api.experiment_tree, self.confined(study))


class DecisionsHandler(AisciHandler):
    @web.authenticated
    async def get(self, study: str):
        await self.call(api.decisions, self.confined(study))

    @web.authenticated
    async def post(self, study: str):
        """Approve or reject items at a gate: the same entry `aisci approve` writes (by "jupyterlab")."""
        data = self.body()
        items = data.get("items")
        if not isinstance(items, list):
            raise web.HTTPError(400, reason="items must be a list")
        await self.call(api.decide, self.confined(study), str(data.get("gate", "")), str(data.get("verdict", "")),
                        items, str(data.get("note", "")), by="jupyterlab")


class RunHandler(AisciHandler):
    @web.authenticated
    async def post(self, study: str):
        """Start `aisci run` as a job; `until` stops it after that phase."""
        await self.call(api.start_run, self.confined(study), self.body().get("until") or None)


class StopHandler(AisciHandler):
    @web.authenticated
    async def post(self, study: str):
        await self.call(api.stop_run, self.confined(study))


class LogHandler(AisciHandler):
    @web.authenticated
    async def get(self, study: str):
        try:
            offset = int(self.get_argument("offset", "0"))
        except ValueError:
            raise web.HTTPError(400, reason="offset must be a whole number") from None
        await self.call(api.run_log, self.confined(study), offset)


class EventsHandler(AisciHandler):
    """A long poll on the event logs of every study under the root (aisci.events): answers as soon as
    any study has events after the `cursor` ({study: seq}, JSON), or after `wait` seconds with none.
    Without a cursor it answers at once with the cursor of now. Watching costs a stat() per study
    every POLL_S; the studies are those under the root when the request came."""

    POLL_S = 0.4
    MAX_WAIT_S = 55.0

    @web.authenticated
    async def get(self):
        cursor = self._cursor()
        try:
            wait = min(max(float(self.get_argument("wait", "25")), 0.0), self.MAX_WAIT_S)
        except ValueError:
            raise web.HTTPError(400, reason="wait must be a number of seconds") from None
        root = self.root
        if cursor is None:
            await self.call(api.study_events, root)
            return
        try:
            sources = await asyncio.to_thread(api.event_sources, root)
        except AisciError as exc:
            raise web.HTTPError(400, reason=str(exc).splitlines()[0]) from None
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            stamps = self._stamps(sources)
            answer = await asyncio.to_thread(api.study_events, root, cursor, sources)
            if answer["events"] or asyncio.get_running_loop().time() >= deadline or self._gone():
                break
            while (self._stamps(sources) == stamps and asyncio.get_running_loop().time() < deadline
                   and not self._gone()):
                await asyncio.sleep(self.POLL_S)
        if not self._gone():
            self.finish(json.dumps(answer, default=str))

    def _cursor(self) -> dict[str, int] | None:
        given = self.get_argument("cursor", None)
        if given is None:
            return None
        try:
            cursor = json.loads(given)
        except ValueError:
            cursor = None
        if not isinstance(cursor, dict) or not all(isinstance(v, int) for v in cursor.values()):
            raise web.HTTPError(400, reason="cursor must be a JSON object of study: seq")
        return cursor

    @staticmethod
    def _stamps(sources: dict) -> list:
        return [events.stamp(folder) for folder in sources.values()]

    def _gone(self) -> bool:
        """The client went away (a closed tab): stop watching for it."""
        return self.request.connection.stream.closed()


class TemplatesHandler(AisciHandler):
    @web.authenticated
    async def get(self):
        await self.call(lambda: {"templates": api.templates()})


class ModelHandler(AisciHandler):
    @web.authenticated
    async def get(self):
        """Which environment variable a model spec needs and whether it is set (never its value)."""
        await self.call(api.model_requirements, self.get_argument("spec", "offline"))


def setup_handlers(web_app) -> None:
    base = url_path_join(web_app.settings["base_url"], "aisci", "api")
    routes = [("studies", StudiesHandler), ("events", EventsHandler), ("templates", TemplatesHandler),
              ("model", ModelHandler),
              (f"studies/{STUDY}/status", StatusHandler), (f"studies/{STUDY}/tree", TreeHandler),
              (f"studies/{STUDY}/decisions", DecisionsHandler), (f"studies/{STUDY}/run", RunHandler),
              (f"studies/{STUDY}/stop", StopHandler), (f"studies/{STUDY}/log", LogHandler)]
    web_app.add_handlers(".*$", [(url_path_join(base, pattern) + "$", handler) for pattern, handler in routes])
