"""A study grown to 60 nodes by a scripted model on the toy template (3 ideas x 20 nodes, the
scripted model of tests/scale_llm.py on the local fake server): every phase must complete.
Prints the wall time, the node run time, and aisci's overhead per node (everything that is
not a node's own kernel run: planning, composing, writing, reading records, the search),
with the time of each phase.

    PYTHONPATH=$PWD python bench/bench_study_scale.py [--nodes-per-idea 20] [--workers 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aisci.cli import main  # noqa: E402
from tests.fake_llm_server import FakeLLMServer  # noqa: E402
from tests.scale_llm import ScaleModel  # noqa: E402
from tests.study_helpers import init_study, set_config  # noqa: E402

TOY = ROOT / "tests" / "fixtures" / "toy"


def grow(folder: Path, nodes_per_idea: int, workers: int) -> dict:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    with FakeLLMServer() as server:
        server.respond_with(ScaleModel())
        study = init_study(folder, TOY, "--llm", f"openai:scale-model@{server.base_url}")
        set_config(study, "literature", sources=[])
        set_config(study, "llm.roles", review="offline")
        set_config(study, "ideation", num_ideas=3, select=3, reflections=0)
        set_config(study, "search", num_drafts=3, max_nodes=nodes_per_idea, num_seeds=0, time_budget_s=100000)
        set_config(study, "experiments", workers=workers)
        set_config(study, "review", num_reviews=1, num_reflections=0)
        started = time.monotonic()
        code = main(["run", str(study), "--quiet"])
        wall = time.monotonic() - started
    return {"study": study, "rc": code, "wall_s": wall}


def figures(study: Path, wall_s: float) -> dict:
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    nodes = summary["nodes"]
    node_s = sum(n.get("duration_s") or 0 for n in nodes)
    phases = json.loads((study / ".aisci" / "phases.json").read_text())
    per_phase = {name: entry.get("duration_s") for name, entry in phases.items()}
    experiments_s = per_phase.get("experiments") or 0
    return {"nodes": len(nodes), "done": sum(n["status"] == "done" for n in nodes), "wall_s": round(wall_s, 1),
            "node_run_s": round(node_s, 1), "experiments_phase_s": experiments_s,
            "overhead_per_node_s": round((experiments_s - node_s) / max(len(nodes), 1), 3) if experiments_s else None,
            "phases_s": per_phase, "load_average": os.getloadavg()}


def main_cli() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes-per-idea", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the study here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aisci-scale-") as tmp:
        folder = args.keep or Path(tmp) / "study"
        run = grow(folder, args.nodes_per_idea, args.workers)
        if run["rc"] != 0:
            print(f"the study failed (rc {run['rc']})")
            return 1
        print(json.dumps(figures(run["study"], run["wall_s"]), indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main_cli())
