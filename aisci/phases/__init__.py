"""The phases of a study, in order. Each is a module with one entry point, `run(ctx)`, and
the declarations the runner reads (see aisci/runner.py): `CONSUMES` and `PRODUCES`
(artifacts, aisci/artifacts.py), `CONFIG` (the aisci.toml keys it reads) and `inputs(ctx)`
(anything else its result depends on). A phase never imports another phase: what it needs
from an earlier one is an artifact.

A phase module is imported when it is first looked up in PHASES, so naming the phases
(the CLI's --until choices) loads none of them."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

from aisci.constants import PHASE_NAMES, check_phase


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

__all__ = ["PHASES", "PHASE_NAMES", "check_phase"]
