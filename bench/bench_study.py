"""The README study, end to end: wall time of `aisci run` with `workers = 1` against the
default `workers = "auto"`, and which phases a rerun executes after `aisci lit add`, after a
`[review] num_reviews` change and after a `[experiments] workers` change.

    python bench/bench_study.py [--template grokking] [--topic "How weight decay shapes grokking"]
                                [--keep DIR] [--skip-serial] [--json OUT]

Both studies are made with `aisci init` exactly as the README does; the serial one then has
`[experiments] workers = 1` set. The reruns are made on copies of the auto-parallel study.
The load average is printed with the figures: on a shared machine other work lengthens the
wall times (and shrinks the speed-up the cores allow).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

REPO = Path(__file__).resolve().parent.parent
NEW_PAPER = """@article{bench2026grokking,
  title = {Weight decay and the timing of grokking in modular arithmetic},
  author = {Bench, Ada and Marker, Tom},
  journal = {Journal of Benchmarks},
  year = {2026},
  abstract = {We measure how weight decay changes when small transformers generalize on modular addition.}
}
"""


def aisci(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AISCI_NO_PROGRESS": "1"}
    return subprocess.run([sys.executable, "-m", "aisci", *argv], env=env, capture_output=True, text=True, check=True)


def set_config(study: Path, section: str, **values) -> None:
    config = tomllib.loads((study / "aisci.toml").read_text())
    config.setdefault(section, {}).update(values)
    (study / "aisci.toml").write_text(tomli_w.dumps(config))


def ran_phases(output: str) -> list[str]:
    found = re.search(r"^ran: ([^.]*)\.", output, re.MULTILINE)
    return found[1].split(", ") if found else []


def timed_run(study: Path) -> tuple[float, list[str]]:
    started = time.perf_counter()
    done = aisci("run", str(study), "--quiet")
    return time.perf_counter() - started, ran_phases(done.stdout)


def nodes_run(study: Path) -> int:
    return len(list((study / "experiments").glob("*/node-*/node.json")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default="grokking")
    parser.add_argument("--topic", default="How weight decay shapes grokking")
    parser.add_argument("--keep", type=Path, help="make the studies here (default: a temporary folder)")
    parser.add_argument("--skip-serial", action="store_true", help="only the auto-parallel run and the reruns")
    parser.add_argument("--reruns-of", type=Path, metavar="STUDY",
                        help="only the reruns, on copies of this finished study (e.g. one made with the toy template)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="aisci-bench-study-"))
    root.mkdir(parents=True, exist_ok=True)
    figures: dict = {"load_before": os.getloadavg()[0], "cores": len(os.sched_getaffinity(0))}

    from aisci.config import load_config
    from aisci.executors import node_slots

    runs = {"auto": args.reruns_of.resolve()} if args.reruns_of else {}
    for mode in () if args.reruns_of else ("auto",) if args.skip_serial else ("serial", "auto"):
        study = root / mode
        shutil.rmtree(study, ignore_errors=True)
        aisci("init", str(study), "--template", args.template, "--topic", args.topic)
        if mode == "serial":
            set_config(study, "experiments", workers=1)
        slots = node_slots(load_config(study))
        seconds, ran = timed_run(study)
        runs[mode] = study
        figures[mode] = {"wall_s": round(seconds, 1), "workers": slots, "nodes": nodes_run(study), "ran": ran,
                         "load_after": os.getloadavg()[0]}
        print(f"{mode:<7} workers={slots}  {seconds:6.1f} s  {nodes_run(study)} nodes  (load average now "
              f"{os.getloadavg()[0]:.1f})", flush=True)
    if "serial" in figures:
        figures["speedup"] = round(figures["serial"]["wall_s"] / figures["auto"]["wall_s"], 2)
        print(f"serial / auto: {figures['speedup']:.2f}x")

    finished = runs["auto"]
    after_lit = root / "after-lit-add"
    shutil.rmtree(after_lit, ignore_errors=True)
    shutil.copytree(finished, after_lit)
    bib = root / "new-paper.bib"
    bib.write_text(NEW_PAPER)
    aisci("lit", "add", str(after_lit), str(bib))
    seconds, ran = timed_run(after_lit)
    figures["after_lit_add"] = {"ran": ran, "wall_s": round(seconds, 1)}
    print(f"after `aisci lit add`: ran {', '.join(ran) or 'nothing'} ({seconds:.1f} s)")

    after_review = root / "after-review-change"
    shutil.rmtree(after_review, ignore_errors=True)
    shutil.copytree(finished, after_review)
    reviews = load_config(after_review).review.num_reviews
    set_config(after_review, "review", num_reviews=reviews + 1)
    seconds, ran = timed_run(after_review)
    figures["after_review_change"] = {"ran": ran, "wall_s": round(seconds, 1), "num_reviews": [reviews, reviews + 1]}
    print(f"after [review] num_reviews {reviews} -> {reviews + 1}: ran {', '.join(ran) or 'nothing'} ({seconds:.1f} s)")

    after_workers = root / "after-workers-change"
    shutil.rmtree(after_workers, ignore_errors=True)
    shutil.copytree(finished, after_workers)
    set_config(after_workers, "experiments", workers=1)
    seconds, ran = timed_run(after_workers)
    figures["after_workers_change"] = {"ran": ran, "wall_s": round(seconds, 1)}
    print(f"after [experiments] workers -> 1: ran {', '.join(ran) or 'nothing'} ({seconds:.1f} s)")

    seconds, ran = timed_run(finished)
    figures["noop"] = {"ran": ran, "wall_s": round(seconds, 2)}
    print(f"no-op rerun: ran {', '.join(ran) or 'nothing'} ({seconds:.2f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
