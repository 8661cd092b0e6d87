"""Panels that follow their study: one thread per kernel watches the event logs
(aisci.events, `.aisci/events.jsonl`) of the studies whose panels are open, and hands each new
event to those panels. A run that rewrites a panel's artifacts, or a decision taken anywhere (this
panel, another one, `aisci approve`, the JupyterLab sidebar), reaches the panel within a second.

The thread sleeps between looks (one stat() per study) and only reads the logs: the panels are
rebuilt on the kernel's own event loop (ipywidgets are not thread-safe, and a rebuild runs the
paper's checks, which must not race the kernel compiling a cell). So a run elsewhere (the command
line, the sidebar, another notebook) shows at once, and a run in this kernel when its cell ends
(its progress view shows it meanwhile). Outside a kernel nothing is watched: `check()` hands the
events on when called. Panels are held weakly: one the notebook dropped stops being followed."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

from aisci import events

INTERVAL_S = 1.0


class Follower:
    def __init__(self, interval_s: float = INTERVAL_S):
        self.interval_s = interval_s
        self.panels: dict[Path, weakref.WeakSet] = {}
        self.seen: dict[Path, int] = {}
        self.stamps: dict[Path, tuple | None] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop = None  # the kernel's event loop, where the panels' work runs
        self._pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # panel -> events not yet handed

    def follow(self, panel) -> None:
        folder = panel.study.state_dir
        with self._lock:
            if folder not in self.panels:
                self.panels[folder] = weakref.WeakSet()
                self.seen[folder] = events.last_seq(folder)
                self.stamps[folder] = events.stamp(folder)
            self.panels[folder].add(panel)
        self._loop = _kernel_loop()
        if self._loop is None:
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="aisci-panels", daemon=True)
            self._thread.start()

    def check(self) -> int:
        """Hand the events that arrived since the last look to their panels; how many there were."""
        handed = 0
        with self._lock:
            for folder, panels in list(self.panels.items()):
                if not panels:  # every panel of this study was dropped
                    del self.panels[folder], self.seen[folder], self.stamps[folder]
                    continue
                stamp = events.stamp(folder)
                if stamp == self.stamps[folder]:
                    continue
                self.stamps[folder] = stamp
                new = events.since(folder, self.seen[folder])
                if not new:
                    continue
                self.seen[folder] = new[-1]["seq"]
                handed += len(new)
                for panel in list(panels):
                    if self._loop is None or threading.current_thread() is not self._thread:
                        _deliver(panel, new)
                        continue
                    # one rebuild per panel however many looks found news while the kernel was busy
                    if panel not in self._pending:
                        self._loop.add_callback(self._flush, panel)  # thread-safe: runs when the kernel is idle
                    self._pending.setdefault(panel, []).extend(new)
        return handed

    def _flush(self, panel) -> None:
        with self._lock:
            new = self._pending.pop(panel, [])
        if new:
            _deliver(panel, new)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.interval_s):
            if not self.panels:
                return  # started again by the next panel
            self.check()


def _deliver(panel, new: list[dict]) -> None:
    try:
        panel.on_events(new)
    except Exception as exc:  # noqa: BLE001 — one broken panel must not stop the others following
        panel.say(f"could not refresh: {type(exc).__name__}: {exc}", error=True)


def _kernel_loop():
    """The running kernel's event loop (ipykernel's io_loop), or None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return getattr(getattr(get_ipython(), "kernel", None), "io_loop", None)


FOLLOWER = Follower()
