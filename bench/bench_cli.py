"""CLI start-up benchmark: wall and CPU time of `aisci --help`, `status`, `tree`, `calls`,
`approve` and a no-op `run` on a finished study, and what `python -X importtime` says the
slowest imports of `aisci status` are.

    python bench/bench_cli.py [--study DIR] [--repeats 7] [--top 15] [--json OUT]

Without --study, a study on the toy template is made and run first (a minute or two), in a
temporary folder. Each command runs `--repeats` times in a fresh interpreter; the figures
are the median and the best. CPU time (user + system of the child) is printed beside wall
time: on a shared machine the wall time also measures the other work, which the load
average (printed first) shows.

The package is byte-compiled first, as `pip install` does: a checkout run with
PYTHONDONTWRITEBYTECODE=1 (as on the shared machines) would otherwise compile every
changed source again at each start, about 0.1 s that no installed copy pays.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOY = REPO / "tests" / "fixtures" / "toy"
TARGETS = {"--help": 0.5, "status": 0.5, "tree": 0.5, "calls": 0.5, "approve": 0.5, "run (no-op)": 1.0}


def aisci(*argv: str) -> list[str]:
    return [sys.executable, "-m", "aisci", *argv]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "AISCI_NO_PROGRESS": "1"}


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=environment(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def finished_study(folder: Path) -> Path:
    study = folder / "study"
    subprocess.run(aisci("init", str(study), "--template", str(TOY), "--topic", "learning rate on a toy fit"),
                   env=environment(), check=True, stdout=subprocess.DEVNULL)
    print(f"running a toy study in {study} first ...", flush=True)
    subprocess.run(aisci("run", str(study), "--quiet"), env=environment(), check=True, stdout=subprocess.DEVNULL)
    return study


def commands(study: Path, scratch: Path) -> dict[str, list[str]]:
    # approve writes a decision: it gets a copy, so the no-op run stays a no-op
    copy = scratch / "approve-copy"
    if not copy.exists():
        shutil.copytree(study, copy)
    return {"--help": aisci("--help"), "status": aisci("status", str(study)), "tree": aisci("tree", str(study)),
            "calls": aisci("calls", str(study)), "approve": aisci("approve", str(copy), "review", "accept"),
            "run (no-op)": aisci("run", str(study), "--quiet")}


def importtime_top(study: Path, top: int) -> list[tuple[str, float, float]]:
    """(module, self ms, cumulative ms) of the `top` slowest imports of `aisci status`, by self time."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "aisci", "status", str(study)],
                          env=environment(), capture_output=True, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if found:
            rows.append((found[3], int(found[1]) / 1000, int(found[2]) / 1000))
    total = sum(cumulative for name, _, cumulative in rows if "." not in name and not name.startswith("_"))
    rows.sort(key=lambda row: -row[1])
    return rows[:top], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", type=Path, help="a finished study (default: run a toy study first)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--top", type=int, default=15, help="slowest imports to list")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "aisci")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="aisci-bench-cli-") as scratch:
        study = args.study.resolve() if args.study else finished_study(Path(scratch))
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {args.repeats} runs each\n")
        print(f"{'command':<14} {'wall median':>11} {'wall best':>10} {'CPU median':>11} {'target':>7}")
        figures = {}
        for name, command in commands(study, Path(scratch)).items():
            runs = [timed(command) for _ in range(args.repeats)]
            wall = [w for w, _ in runs]
            cpu = [c for _, c in runs]
            figures[name] = {"wall_median_s": statistics.median(wall), "wall_best_s": min(wall),
                             "cpu_median_s": statistics.median(cpu), "target_s": TARGETS[name]}
            print(f"{name:<14} {statistics.median(wall):>10.3f}s {min(wall):>9.3f}s {statistics.median(cpu):>10.3f}s "
                  f"{TARGETS[name]:>6.1f}s")
        rows, total = importtime_top(study, args.top)
        print(f"\npython -X importtime -m aisci status: {total:.0f} ms of imports; slowest by self time:")
        for module, own, cumulative in rows:
            print(f"  {own:8.1f} ms self {cumulative:9.1f} ms cumulative  {module}")
        figures["importtime"] = {"total_ms": total, "top": rows}
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
