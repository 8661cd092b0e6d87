"""The phases of a study, in order. Each is a module with one entry point, `run(ctx)`,
and `inputs(ctx)`: what besides the upstream phase's outputs decides its result.

A phase module is imported when it is first looked up in PHASES, so naming the phases
(the CLI's --until choices) loads none of them."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

PHASE_NAMES = ("ideation", "novelty", "experiments", "analysis", "writeup", "review")


class _Phases(Mapping):
    """name -> phase module, in the order the phases run."""

    def __getitem__(self, name: str) -> ModuleType:
        if name not in PHASE_NAMES:
            raise KeyError(name)
        return importlib.import_module(f"aisci.phases.{name}")

    def __contains__(self, name: object) -> bool:
        return name in PHASE_NAMES

    def __iter__(self) -> Iterator[str]:
        return iter(PHASE_NAMES)

    def __len__(self) -> int:
        return len(PHASE_NAMES)


PHASES = _Phases()
