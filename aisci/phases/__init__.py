"""The phases of a study, in order. Each is a module with one entry point, `run(ctx)`, and
the declarations the runner reads (see aisci/runner.py): `CONSUMES` and `PRODUCES`
(artifacts, aisci/artifacts.py), `CONFIG` (the aisci.toml keys it reads) and `inputs(ctx)`
(anything else its result depends on). A phase never imports another phase: what it needs
from an earlier one is an artifact."""

from __future__ import annotations

import importlib

from aisci.constants import PHASE_NAMES, check_phase

PHASES = {name: importlib.import_module(f"aisci.phases.{name}") for name in PHASE_NAMES}

__all__ = ["PHASES", "PHASE_NAMES", "check_phase"]
