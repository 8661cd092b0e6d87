"""Tree-search benchmark: an offline study on a template up to the experiments phase with the
default [search] settings (or the ones given), then the figures that bound the README's
main command: nodes made, each node's run time, the experiments phase's wall time, and the
search's own overhead per node (planning, composing and writing notebooks and node.json:
the phase's wall time minus the time spent executing notebooks).

    python bench/bench_search.py [--template grokking] [--out bench/out] [--set search.max_nodes=3 ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import tomli_w
import tomllib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", default="grokking")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a config value, e.g. search.num_seeds=3 (TOML value syntax)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    study = out / f"search-{Path(args.template).name}"
    shutil.rmtree(study, ignore_errors=True)
    aisci = [sys.executable, "-m", "aisci"]
    subprocess.run([*aisci, "init", str(study), "--template", args.template, "--topic", "search benchmark"],
                   check=True, stdout=subprocess.DEVNULL)
    _apply(study / "aisci.toml", args.set)

    started = time.monotonic()
    subprocess.run([*aisci, "run", str(study), "--quiet", "--until", "experiments"], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started

    config = tomllib.loads((study / "aisci.toml").read_text())
    phases = json.loads((study / ".aisci" / "phases.json").read_text())
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    runs = [e for e in map(json.loads, (study / ".aisci" / "executions.jsonl").read_text().splitlines())
            if e["notebook"].startswith("experiments/")]
    executing = sum(e["duration_s"] for e in runs)
    phase_wall = phases["experiments"]["duration_s"]
    print(f"template {args.template}; [search] {json.dumps(config.get('search', {})) or 'defaults'}; "
          f"[experiments] workers = {config.get('experiments', {}).get('workers', 1)}")
    print(f"{'node':<28} {'kind':<15} {'status':<9} {'run s':>7}")
    for node in summary["nodes"]:
        print(f"{node['id']:<28} {node['kind']:<15} {node['status']:<9} {node.get('duration_s') or 0:>7.1f}")
    print(f"\nnodes: {len(summary['nodes'])}; notebooks executed in the phase: {len(runs)} "
          f"(sum of their run times {executing:.1f} s)")
    print(f"experiments phase wall time: {phase_wall:.1f} s; search overhead: {phase_wall - executing:.1f} s "
          f"({(phase_wall - executing) / max(len(runs), 1):.2f} s per notebook)")
    print(f"ideation + novelty + experiments, wall time: {wall:.1f} s")


def _apply(path: Path, settings: list[str]) -> None:
    config = tomllib.loads(path.read_text())
    for item in settings:
        key, _, value = item.partition("=")
        *sections, name = key.split(".")
        table = config
        for section in sections:
            table = table.setdefault(section, {})
        table[name] = tomllib.loads(f"v = {value}")["v"]
    path.write_text(tomli_w.dumps(config))


if __name__ == "__main__":
    main()
