"""The quickstart as a Binder user meets it: run notebooks/00_quickstart.ipynb headless through
papermill (the grokking template when it is installed, else the toy test template) and report

- the peak resident memory of the whole process tree (papermill, its kernel, the kernels the
  phases start, LaTeX), sampled every 0.1 s from /proc — Binder's limit is 2 GB;
- the time from starting the notebook to the finished paper (paper.pdf, or paper.md without
  LaTeX), and to the end of the notebook.

    python bench/bench_quickstart.py [--template NAME_OR_PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BINDER_LIMIT_MB = 2048


def default_template() -> str:
    from aisci.errors import TemplateError
    from aisci.manifest import load_template, resolve_template

    try:
        load_template(resolve_template("grokking"))
        return "grokking"
    except TemplateError:
        return str(REPO / "tests" / "fixtures" / "toy")


def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and every descendant, in MiB (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in family]
        family.update(children)
        frontier += children
    total_kb = 0
    for pid in family:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=None)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()
    template = args.template or default_template()
    work = args.keep or Path(tempfile.mkdtemp(prefix="aisci-quickstart-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    study = work / "quickstart-study"
    paper_pdf, paper_md = study / "paper" / "paper.pdf", study / "paper" / "paper.md"
    command = [sys.executable, "-m", "papermill", str(REPO / "notebooks" / "00_quickstart.ipynb"),
               str(work / "00_quickstart.out.ipynb"), "--cwd", str(work), "-p", "template", template,
               "--no-progress-bar"]
    env = {**os.environ, "AISCI_NO_PROGRESS": "1"}
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, paper_at = 0.0, None
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        if paper_at is None and (paper_pdf.exists() or paper_md.exists()):
            paper_at = time.monotonic() - started
        time.sleep(0.1)
    total = time.monotonic() - started
    if process.returncode != 0:
        print(process.stderr.read()[-3000:], file=sys.stderr)
        print(f"the quickstart failed (exit {process.returncode})", file=sys.stderr)
        return 1
    paper = paper_pdf if paper_pdf.exists() else paper_md
    print(f"template: {template}")
    print(f"peak RSS of the process tree: {peak:.0f} MiB ({peak / BINDER_LIMIT_MB:.0%} of Binder's 2 GB)")
    print(f"start -> finished paper ({paper.name}): {paper_at if paper_at is not None else total:.1f} s")
    print(f"start -> notebook finished (panels and paper shown): {total:.1f} s")
    print(f"study folder: {study}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
