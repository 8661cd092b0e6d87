"""Moves in a template's parameter space, for the offline engine: an idea's change taken one
declared value further, a coordinate step to a neighbouring declared value, the next untried
declared value, or an idea's change taken back to the default. A parameter declared
`tunable = false` (it defines the task) is never moved. Works on the manifest's parameters as plain dicts (what a task's
inputs hold), so the offline engine sees exactly what a model would.

A move never raises a compute-setting parameter (steps, epochs, width, ...) past the
template's default: the offline engine keeps every run within the template's time budget."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from aisci.fsutil import canonical_json
from aisci.ideas import COMPUTE_WORDS

Space = dict[str, dict[str, Any]]  # name -> {type, default, choices, description}


def values(spec: dict[str, Any]) -> list[Any]:
    found = [spec["default"]] + [c for c in spec.get("choices", []) if c != spec["default"]]
    return sorted(found) if spec["type"] in ("int", "float") else found


def is_compute(name: str) -> bool:
    return any(word in name.lower() for word in COMPUTE_WORDS)


def raises_compute(name: str, spec: dict[str, Any], old: Any, new: Any) -> bool:
    """A compute setting may go down, or back up to the template's default (the baseline
    runs within the template's time budget), never past both."""
    return spec["type"] in ("int", "float") and is_compute(name) and new > max(old, spec["default"])


def setting_key(parameters: dict[str, Any]) -> str:
    return canonical_json(parameters)


def neighbour_moves(space: Space, current: dict[str, Any], frozen: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(parameter, value) one declared value away from the current one, for the numeric
    parameters (a category has no neighbour): manifest order, the smaller neighbour first."""
    frozen = set(frozen)
    for name, spec in space.items():
        if name in frozen or name not in current or spec["type"] not in ("int", "float") or not spec.get("tunable", True):
            continue
        ladder, now = values(spec), current[name]
        lower = [v for v in ladder if v < now]
        higher = [v for v in ladder if v > now]
        for value in ([lower[-1]] if lower else []) + ([higher[0]] if higher else []):
            if not raises_compute(name, spec, now, value):
                yield name, value


def extension_moves(space: Space, current: dict[str, Any], idea_parameters: dict[str, Any],
                    frozen: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Moves along an idea's own numeric change: one declared value further in its direction
    (weight decay 2.0 -> 1.0 by the idea; 0.3 next), then the values between the current one
    and the baseline's, nearest first. They vary the idea's dose, never another factor."""
    frozen = set(frozen)
    for name in idea_parameters:
        spec = space.get(name)
        if spec is None or name in frozen or name not in current or spec["type"] not in ("int", "float"):
            continue
        ladder, now, default = values(spec), current[name], spec["default"]
        if now == default:
            continue
        if now > default:
            further, between = [v for v in ladder if v > now][:1], [v for v in reversed(ladder) if default < v < now]
        else:
            further, between = [v for v in ladder if v < now][-1:], [v for v in ladder if now < v < default]
        for value in further + between:
            if not raises_compute(name, spec, now, value):
                yield name, value


def choice_moves(space: Space, current: dict[str, Any], frozen: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(parameter, value) for every other declared value, parameters in manifest order."""
    frozen = set(frozen)
    for name, spec in space.items():
        if name in frozen or name not in current or not spec.get("tunable", True):
            continue
        for value in values(spec):
            if value != current[name] and not raises_compute(name, spec, current[name], value):
                yield name, value


def first_untried(moves: Iterable[tuple[str, Any]], current: dict[str, Any],
                  tried: Iterable[dict[str, Any]]) -> tuple[str, Any] | None:
    seen = {setting_key(t) for t in tried}
    for name, value in moves:
        if setting_key({**current, name: value}) not in seen:
            return name, value
    return None


def ablations(space: Space, best: dict[str, Any], idea_parameters: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(ablation name, parameter, default) for each of the idea's changes the best node
    still carries: taking one back to the baseline's value shows what it contributed."""
    found = []
    for name in idea_parameters:
        spec = space.get(name)
        if spec is not None and best.get(name) != spec["default"]:
            found.append((f"without_{name}", name, spec["default"]))
    return found
