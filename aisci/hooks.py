"""Runner hooks, in the manner of nbclient's `on_cell_start` & co: what a run tells the
people watching it. The progress view, the widgets, the `%aisci` magics and the study's event
log (which the JupyterLab sidebar follows) subscribe to the same hooks.

    hooks = Hooks(on_phase_end=lambda event: print(event.phase, event.ran))
    hooks.subscribe(on_node_end=lambda node: print(node.id, node.status))
    api.run("my-study", hooks=hooks)

| hook             | called with                 | when                                               |
|------------------|-----------------------------|----------------------------------------------------|
| on_phase_start   | PhaseEvent                  | a phase is looked at (`event.up_to_date`: skipped) |
| on_phase_end     | PhaseEvent                  | it ran or was skipped (`event.ran`, `duration_s`)  |
| on_phase_error   | PhaseEvent, exception       | it raised (a gate stop is reported by on_gate)     |
| on_node_start    | search.node.Node            | an experiment node is submitted to the executor    |
| on_node_end      | search.node.Node            | a node finished (`node.status`, `node.metrics`)    |
| on_gate          | errors.GateStop             | the run stops at a gate (`stop.gate`, `items`)     |
| on_message       | str                         | a line worth showing (a warning, a node's result)  |

A subscriber's exception propagates: a broken panel is a bug to see, and the study keeps
every phase that finished before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HOOK_NAMES = ("on_phase_start", "on_phase_end", "on_phase_error", "on_node_start", "on_node_end", "on_gate",
              "on_message")


@dataclass(frozen=True)
class PhaseEvent:
    phase: str
    index: int  # position among the phases this run looks at, from 0
    total: int  # how many phases this run looks at
    up_to_date: bool = False  # its fingerprint and outputs match its last run: it is skipped
    ran: bool = False  # on_phase_end: it ran (False: skipped)
    duration_s: float = 0.0


class Hooks:
    """Callbacks by hook name; several subscribers may share one hook. Calling
    `hooks.on_node_end(node)` calls each subscriber in the order they subscribed."""

    def __init__(self, **callbacks: Callable[..., Any] | None):
        self._subscribers: dict[str, list[Callable[..., Any]]] = {name: [] for name in HOOK_NAMES}
        self.subscribe(**callbacks)

    def subscribe(self, **callbacks: Callable[..., Any] | None) -> "Hooks":
        for name, callback in callbacks.items():
            if name not in self._subscribers:
                raise TypeError(f"unknown hook {name!r} (hooks: {', '.join(HOOK_NAMES)})")
            if callback is not None:
                self._subscribers[name].append(callback)
        return self

    def extend(self, other: "Hooks | None") -> "Hooks":
        """Add every subscriber of `other` (after this one's own)."""
        if other is not None:
            for name, callbacks in other._subscribers.items():
                self._subscribers[name].extend(callbacks)
        return self

    def has(self, name: str) -> bool:
        """Whether anyone listens to this hook."""
        return bool(self._subscribers[name])

    def _emit(self, name: str, *args: Any) -> None:
        for callback in self._subscribers[name]:
            callback(*args)

    def on_phase_start(self, event: PhaseEvent) -> None:
        self._emit("on_phase_start", event)

    def on_phase_end(self, event: PhaseEvent) -> None:
        self._emit("on_phase_end", event)

    def on_phase_error(self, event: PhaseEvent, error: BaseException) -> None:
        self._emit("on_phase_error", event, error)

    def on_node_start(self, node) -> None:
        self._emit("on_node_start", node)

    def on_node_end(self, node) -> None:
        self._emit("on_node_end", node)

    def on_gate(self, stop) -> None:
        self._emit("on_gate", stop)

    def on_message(self, text: str) -> None:
        self._emit("on_message", text)
