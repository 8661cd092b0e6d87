"""Paper benchmark: build the offline study's paper, time the writeup and its parts (checks,
LaTeX, the paper notebook), count the PDF's pages and render page 1 to PNG so a person can
look at it.

    python bench/bench_paper.py [--template tests/fixtures/toy] [--out bench/out]

Prints the timings and the path of bench/out/paper-page1.png (pdftoppm, from poppler-utils).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from pypdf import PdfReader

from aisci.paper.compile import compile_pdf, tex_available
from aisci.paper.sections import read_section
from aisci.phases import writeup
from aisci.writeup import facts, fixing
from aisci.writeup.workspace import Workspace
from aisci.runner import make_context, run_study
from aisci.study import Study

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", default=str(ROOT / "tests" / "fixtures" / "toy"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args()
    os.environ.setdefault("AISCI_NO_PROGRESS", "1")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    study_dir = out / "study-paper"
    shutil.rmtree(study_dir, ignore_errors=True)
    Study.create(study_dir, args.template, "the learning rate and step count of a toy fit")

    started = time.monotonic()
    run_study(Study.open(study_dir), until="analysis", say=lambda m: None)
    print(f"study up to the analysis ({Path(args.template).name}, offline engine): {time.monotonic() - started:.1f} s")

    ctx = make_context(Study.open(study_dir), say=lambda m: None)
    started, cpu = time.monotonic(), time.process_time()
    writeup.run(ctx)
    total = time.monotonic() - started
    print(f"writeup phase: {total:.1f} s wall, {time.process_time() - cpu:.1f} s CPU in this process")
    for note in ctx.notes:
        print(f"  note: {note}")

    ctx = make_context(Study.open(study_dir), say=lambda m: None)
    workspace = Workspace(ctx, facts.gather(ctx))
    workspace.manuscript.texts = {name: read_section(workspace.sections_dir, name).body for name in writeup.SECTIONS}
    started = time.monotonic()
    findings = fixing.check(workspace)
    print(f"  checks of all sections (numbers, claims, citations, attribution, chktex): "
          f"{time.monotonic() - started:.2f} s, {sum(not f.ok for f in findings)} open finding(s)")
    executions = [e for e in Study.open(study_dir).executions() if e.get("label") == "writeup"]
    if executions:
        print(f"  paper.ipynb execution: {executions[-1]['duration_s']:.1f} s")

    checks = json.loads((study_dir / "paper" / "checks.json").read_text())
    print(f"checks.json: {checks['open']} open problem(s), {checks['warnings']} warning(s), "
          f"compile {checks['compile']['status']}")
    if not tex_available():
        print("no LaTeX installed: no PDF to count or render (the .tex, paper.md and paper.html are in "
              f"{study_dir / 'paper'})")
        return
    started = time.monotonic()
    result = compile_pdf(study_dir / "paper", timeout_s=300)
    print(f"  LaTeX alone (latexmk -g, aux files kept): {time.monotonic() - started:.1f} s, ok={result.ok}")
    pdf = study_dir / "paper" / "paper.pdf"
    print(f"PDF: {pdf} ({len(PdfReader(str(pdf)).pages)} pages, {pdf.stat().st_size // 1024} KiB)")
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) is not installed: no PNG of page 1")
        return
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(out / "paper-page1")], check=True)
    print(f"page 1 rendered to {out / 'paper-page1.png'}")


if __name__ == "__main__":
    main()
