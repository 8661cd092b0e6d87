"""Foundation benchmark: wall time per phase of a full offline study, the overhead of
running a notebook through papermill against the same code as a plain Python process, and
the time of a no-op rerun.

    python bench/bench_foundation.py [--template grokking] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from aisci.execution.execute import execute_notebook
from aisci.phases import PHASES
from aisci.manifest import load_template


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", default="grokking")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    study = out / f"study-{args.template}"
    shutil.rmtree(study, ignore_errors=True)

    aisci = [sys.executable, "-m", "aisci"]
    subprocess.run([*aisci, "init", str(study), "--template", args.template, "--topic",
                    "benchmark study"], check=True, stdout=subprocess.DEVNULL)
    started = time.monotonic()
    subprocess.run([*aisci, "run", str(study), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    full = time.monotonic() - started
    print(f"full study on the offline engine ({args.template}): {full:.1f} s")
    state = json.loads((study / ".aisci" / "phases.json").read_text())
    for phase in PHASES:
        print(f"  phase {phase:<12} {state[phase]['duration_s']:6.1f} s")
    executions = [json.loads(line) for line in (study / ".aisci" / "executions.jsonl").read_text().splitlines()]
    print(f"  notebooks executed: {len(executions)}, their wall time: {sum(e['duration_s'] for e in executions):.1f} s")

    started = time.monotonic()
    subprocess.run([*aisci, "run", str(study), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    print(f"no-op rerun: {time.monotonic() - started:.2f} s (process start included)")

    papermill_s, plain_s = overhead(args.template, args.repeats)
    print(f"baseline notebook through papermill: {papermill_s:.2f} s; same code as a plain python process: "
          f"{plain_s:.2f} s; ratio {papermill_s / plain_s:.2f} (median of {args.repeats})")


def overhead(template_name: str, repeats: int) -> tuple[float, float]:
    template = load_template(template_name)
    nb = template.baseline()
    script = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code" and not c.source.lstrip().startswith("%"))
    script = "import aisci\naisci.record = lambda *a, **k: None\n" + script  # records need a notebook display
    pm, plain = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "plain.py").write_text(script)
        for _ in range(repeats):
            t = time.monotonic()
            result = execute_notebook(template.baseline_path, tmp / "out.ipynb", cwd=tmp / "pm", timeout_s=600)
            assert result.ok, result.reason
            pm.append(time.monotonic() - t)
            (tmp / "py").mkdir(exist_ok=True)
            t = time.monotonic()
            subprocess.run([sys.executable, str(tmp / "plain.py")], cwd=tmp / "py", check=True,
                           stdout=subprocess.DEVNULL, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
            plain.append(time.monotonic() - t)
    return sorted(pm)[len(pm) // 2], sorted(plain)[len(plain) // 2]


if __name__ == "__main__":
    main()
