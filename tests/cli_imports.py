"""Which heavy modules an `aisci` command loads: the command runs in a fresh interpreter
(this process has imported everything already) and reports what it found in sys.modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# what `aisci status`, `tree`, `calls`, `approve`, `--help` and a no-op `run` must never load
HEAVY = ("nbformat", "papermill", "nbclient", "jupyter_client", "pandas", "numpy", "scipy", "matplotlib", "torch",
         "openai", "dask", "distributed", "IPython", "ipywidgets", "jsonschema")
# what building the parser (`aisci --help`, `aisci COMMAND --help`) must not load either: pydantic and
# the modules that build models at import; status, tree and run need them to read a study
PARSER_HEAVY = HEAVY + ("pydantic", "aisci.config", "aisci.artifacts", "aisci.api", "aisci.records",
                        "aisci.manifest", "aisci.review.offline", "aisci.review.llm_reviewer", "aisci.writeup")
# nor what reading a study needs none of: the reviewers (the review phase loads them in run()) and the API
READING_HEAVY = HEAVY + ("aisci.review.llm_reviewer", "aisci.review.verified", "aisci.review.offline", "aisci.api")
REPO = Path(__file__).resolve().parents[1]

PROBE = """
import contextlib, io, json, sys
from aisci.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(json.loads(sys.argv[1]))
    except SystemExit as exc:  # --help
        code = exc.code
heavy = json.loads(sys.argv[2])
print(json.dumps({"code": code, "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def heavy_modules_loaded(argv: list[str], heavy: tuple[str, ...] = HEAVY) -> tuple[int, list[str]]:
    """(exit code, modules of `heavy` in sys.modules afterwards) of `aisci ARGV`."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "AISCI_NO_PROGRESS": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(heavy)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["code"], found["loaded"]
