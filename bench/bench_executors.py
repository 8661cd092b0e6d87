"""Executors benchmark: 4 independent nodes (the toy template's baseline with enough gradient
steps for a few seconds of CPU each) run serially, on the local pool with 2 workers and on a
Dask LocalCluster with 2 workers, in the same run; and the start-up time the sandbox adds to
a node (sandboxed — launcher, bubblewrap — vs the plain kernel, trivial notebook, median of several;
the issue's limit is 0.3 s).

    python bench/bench_executors.py [--nodes 4] [--steps 200000] [--rounds 3] [--repeats 7] [--out bench/out]
    python bench/bench_executors.py --sandbox-only  # the sandbox's start-up figure alone

Speedups are wall time of the serial run over the parallel one (medians over rounds;
executor start-up excluded, reported on its own). On 2 cores the ceiling is 2x, and any
other work on the machine lowers it: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import wait
from pathlib import Path

from aisci.executors import NodeJob, SerialExecutor, run_job
from aisci.execution import bubblewrap, build
from aisci.execution.sandbox import SandboxSettings, probe

TOY = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "toy"
SANDBOX = SandboxSettings()  # the defaults an experiment node gets
OVERHEAD_LIMIT_S = 0.3  # the limit on what the sandbox may add to a node's start


def make_jobs(root: Path, count: int, steps: int) -> list[NodeJob]:
    jobs = []
    for i in range(count):
        folder = root / f"node-{i}"
        folder.mkdir(parents=True)
        shutil.copy(TOY / "baseline.ipynb", folder / "experiment.ipynb")
        # lr small enough that the long run stays finite; seed differs per node
        jobs.append(NodeJob(folder / "experiment.ipynb", folder, timeout_s=600, sandbox=SANDBOX,
                            parameters={"steps": steps, "seed": i % 3, "lr": 0.01}))
    return jobs


def run_all(executor, jobs: list[NodeJob]) -> float:
    started = time.monotonic()
    futures = [executor.submit(job) for job in jobs]
    wait(futures)
    elapsed = time.monotonic() - started
    bad = [f.result().reason for f in futures if not f.result().ok]
    if bad:
        raise SystemExit(f"a node failed: {bad[0]}")
    return elapsed


def executors(args, root: Path) -> dict:
    """Each round runs the nodes serially, on the pool and on Dask, one after the other (so
    a burst of other work on the machine hits all three); the figures are medians."""
    from aisci.executors.dask_executor import DaskExecutor
    from aisci.executors.local import LocalExecutor

    started = time.monotonic()
    pool = LocalExecutor(workers=2)
    pool.start()
    local_startup = time.monotonic() - started
    started = time.monotonic()
    dask = DaskExecutor(workers=2)
    dask_startup = time.monotonic() - started
    runs: dict[str, list[float]] = {"serial": [], "local": [], "dask": []}
    try:
        for round_ in range(args.rounds):
            for name, executor in (("serial", SerialExecutor()), ("local", pool), ("dask", dask)):
                runs[name].append(run_all(executor, make_jobs(root / f"{name}-{round_}", args.nodes, args.steps)))
    finally:
        pool.close()
        dask.close()
    med = {name: statistics.median(times) for name, times in runs.items()}
    print(f"{args.nodes} nodes, median of {args.rounds} rounds (each node ~{med['serial'] / args.nodes:.1f} s alone):")
    print(f"  serially                    {med['serial']:6.1f} s")
    print(f"  local pool, 2 workers       {med['local']:6.1f} s  speedup {med['serial'] / med['local']:.2f}x"
          f"  (pool start {local_startup:.1f} s, excluded)")
    print(f"  Dask LocalCluster, 2 workers {med['dask']:5.1f} s  speedup {med['serial'] / med['dask']:.2f}x"
          f"  (cluster start {dask_startup:.1f} s, excluded)")
    return {"median_s": med, "all_s": runs, "local_startup_s": local_startup, "dask_startup_s": dask_startup,
            "speedup_local": med["serial"] / med["local"], "speedup_dask": med["serial"] / med["dask"]}


def sandbox_startup(args, root: Path) -> dict:
    """A notebook of one trivial cell, sandboxed and plain, alternately; the difference of the
    medians is what the sandbox adds per node (launcher, cgroup, namespace, ipc, clean-up)."""
    times: dict[str, list[float]] = {"sandboxed": [], "plain": [], "sandboxed_cpu": [], "plain_cpu": []}
    for i in range(args.repeats):
        for kind, sandbox in (("sandboxed", SANDBOX), ("plain", None)):
            folder = root / f"{kind}-{i}"
            folder.mkdir(parents=True)
            nb = build.notebook("startup", build.AISCI_AUTHOR)
            nb.cells.append(build.code("x = 1"))
            build.write(nb, folder / "nb.ipynb")
            started, cpu = time.monotonic(), _cpu_s()
            result = run_job(NodeJob(folder / "nb.ipynb", folder, timeout_s=60, sandbox=sandbox))
            times[kind].append(time.monotonic() - started)
            times[f"{kind}_cpu"].append(_cpu_s() - cpu)
            assert result.ok, result.reason
    launcher = [sys.executable, "-I", "-S", str(Path(__import__("aisci.execution.sandbox").execution.sandbox.__file__)),
                "--nproc", "64", "--cgroup-name", "aisci-bench", "--"]
    bare = [sys.executable, "-c", "pass"]
    walled = bubblewrap.command(bubblewrap.Walls(workdir=root), bare)
    process = {"launcher+bwrap": [], "bwrap": [], "bare": []}
    for _ in range(args.repeats):
        for kind, argv in (("launcher+bwrap", launcher + walled), ("bwrap", walled), ("bare", bare)):
            started = time.monotonic()
            subprocess.run(argv, check=True)
            process[kind].append(time.monotonic() - started)
    med = {k: statistics.median(v) for k, v in {**times, **process}.items()}
    added = med["sandboxed"] - med["plain"]
    print(f"trivial notebook, median of {args.repeats}: sandboxed {med['sandboxed']:.2f} s, plain {med['plain']:.2f} s")
    print(f"  added by the sandbox per node: {added:+.2f} s of wall time; limit {OVERHEAD_LIMIT_S:.2f} s: "
          f"{'within' if added <= OVERHEAD_LIMIT_S else 'OVER'}")
    print(f"  CPU time of every process involved (less sensitive to other work on the machine): sandboxed "
          f"{med['sandboxed_cpu']:.2f} s, plain {med['plain_cpu']:.2f} s, added {med['sandboxed_cpu'] - med['plain_cpu']:+.2f} s")
    print(f"  around `python -c pass`: launcher + bubblewrap {med['launcher+bwrap']:.3f} s, bubblewrap alone "
          f"{med['bwrap']:.3f} s, bare {med['bare']:.3f} s (added: {med['launcher+bwrap'] - med['bare']:+.3f} s, "
          f"of which bubblewrap {med['bwrap'] - med['bare']:+.3f} s)")
    return {"median_s": med, "all_s": {**times, **process}, "added_s": added, "limit_s": OVERHEAD_LIMIT_S,
            "within_limit": added <= OVERHEAD_LIMIT_S}


def _cpu_s() -> float:
    """CPU seconds of this process and of every descendant it (or they) waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--steps", type=int, default=200000, help="toy gradient steps per node (sets its CPU time)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of the trivial notebook, each kind")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of serial / pool / Dask")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--sandbox-only", action="store_true", help="only the start-up the sandbox adds per node")
    args = parser.parse_args()
    print(f"sandbox on this machine: {json.dumps(probe())}")
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f} (other work skews the ratios)")
    with tempfile.TemporaryDirectory(prefix="aisci-bench-") as tmp:
        root = Path(tmp)
        (root / "startup").mkdir()
        figures = {"sandbox": sandbox_startup(args, root / "startup"), "probe": probe(),
                   "bubblewrap_problem": bubblewrap.problem()}
        if not args.sandbox_only:
            figures.update(executors=executors(args, root / "nodes"), nodes=args.nodes, steps=args.steps)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    figures["loadavg_1min_after"] = os.getloadavg()[0]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "executors.json").write_text(json.dumps(figures, indent=2))
    print(f"figures written to {out / 'executors.json'}")


if __name__ == "__main__":  # the pool and the cluster start worker processes that import this file
    main()
