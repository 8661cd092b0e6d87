"""Integrity benchmark: does the paper lie, and does the review notice?

    python bench/bench_integrity.py [--out bench/out/integrity] [--study NAME=DIR ...]

For each of three templates (the shipped grokking and 2d_diffusion, and tests/fixtures/mlp_regression,
a mini-batch SGD template written for these checks) it runs an offline study (or reuses the study
given with --study; a study finished up to the analysis is enough), then prints:

  1. false positives: the open problems the writeup's checks report on the clean paper (must be 0),
     and which PDF it built (paper.pdf, the final one, when none is open);
  2. caught before the final PDF: of the planted errors of tests/planted.py (wrong numbers, invented
     keys, misattributions, never-run experiments, method/code mismatches), how many the writeup's
     checks flag: a flagged problem keeps paper.pdf from being built (a marked draft instead);
  3. end to end, on a copy with every planted error edited into its sections: `aisci paper` builds
     only paper-draft.pdf, and the meta-review's Overall and decision with and without the errors.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aisci.cli import main as cli  # noqa: E402
from aisci.paper.sections import SECTIONS, read_section  # noqa: E402
from aisci.runner import make_context, run_study  # noqa: E402
from aisci.study import Study  # noqa: E402
from aisci.writeup import facts  # noqa: E402
from aisci.writeup.workspace import Workspace  # noqa: E402
from tests.planted import CATEGORIES, cases, planted  # noqa: E402
from tests.study_helpers import copy_study  # noqa: E402

TEMPLATES = {"grokking": ("grokking", "How weight decay shapes grokking"),
             "2d_diffusion": ("2d_diffusion", "How the noise schedule shapes 2D diffusion samples"),
             "mlp_regression": (str(ROOT / "tests" / "fixtures" / "mlp_regression"),
                                "How momentum and batch size shape a small MLP's fit")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "integrity"))
    parser.add_argument("--study", action="append", default=[], metavar="NAME=DIR",
                        help="reuse a study of template NAME (finished at least up to the analysis)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    given = dict(item.split("=", 1) for item in args.study)
    totals, false_positives, rows = Counter(), {}, []
    for name, (template, topic) in TEMPLATES.items():
        clean = out / name / "clean"
        for previous in (clean, out / name / "planted"):  # a rerun into the same folder starts afresh
            if previous.exists():
                shutil.rmtree(previous)
        if name in given:
            copy_study(Path(given[name]), clean)
        else:
            started = time.monotonic()
            Study.create(clean, template, topic)
            run_study(Study.open(clean), until="analysis", say=lambda m: None)
            print(f"{name}: offline study up to the analysis in {time.monotonic() - started:.0f} s")
        run_study(Study.open(clean), until="review", redo=["writeup"], say=lambda m: None)
        checks = json.loads((clean / "paper" / "checks.json").read_text())
        false_positives[name] = checks["open"]
        print(f"{name}: clean paper: {checks['open']} open problem(s); PDF {checks.get('pdf')}")
        for finding in checks["findings"]:
            if not finding["ok"] and finding.get("status") != "accepted" and finding.get("severity") == "error":
                print(f"  FALSE POSITIVE [{finding['section']}] {finding['check']}: {finding['detail']}")

        ctx = make_context(Study.open(clean), say=lambda m: None)
        ws = Workspace(ctx, facts.gather(ctx))
        ws.manuscript.texts = {n: read_section(ws.sections_dir, n).body for n in SECTIONS}
        planted_cases = cases(ws)
        for case in planted_cases:
            hit = any(f.check == case.category for f in planted(ws, case))
            totals[(case.category, hit)] += 1
            if not hit:
                print(f"  MISSED {case.category}: {case.sentence}")
        caught = sum(totals[(c, True)] for c in CATEGORIES)
        print(f"{name}: planted errors caught so far: {caught} of {sum(totals.values())}")

        dirty = copy_study(clean, out / name / "planted")
        for case in planted_cases:
            path = dirty / "paper" / "sections" / f"{case.section}.tex"
            path.write_text(path.read_text() + "\n" + case.sentence + "\n")
        code = cli(["paper", str(dirty)])
        dirty_checks = json.loads((dirty / "paper" / "checks.json").read_text())
        run_study(Study.open(dirty), until="review", say=lambda m: None)
        rows.append((name, _meta(clean), _meta(dirty), code, dirty_checks["open"],
                     (dirty / "paper" / "paper.pdf").exists(), (dirty / "paper" / "paper-draft.pdf").exists()))

    caught = sum(totals[(c, True)] for c in CATEGORIES)
    print("\n== integrity ==")
    print(f"caught before the final PDF: {caught} of {sum(totals.values())}")
    for category in CATEGORIES:
        print(f"  {category:12s} {totals[(category, True)]} of {totals[(category, True)] + totals[(category, False)]}")
    print(f"false positives on the clean papers: {sum(false_positives.values())} "
          f"({', '.join(f'{k} {v}' for k, v in false_positives.items())})")
    for name, clean_meta, dirty_meta, code, open_problems, final, draft in rows:
        print(f"{name}: meta-review without the planted errors: Overall {clean_meta[0]:g} ({clean_meta[1]}); "
              f"with them: Overall {dirty_meta[0]:g} ({dirty_meta[1]}); `aisci paper` exit {code}, "
              f"{open_problems} open problem(s), paper.pdf {'built' if final else 'not built'}, "
              f"paper-draft.pdf {'built' if draft else 'not built'}")


def _meta(study: Path) -> tuple[float, str]:
    meta = json.loads((study / "reviews" / "meta-review.json").read_text())
    return meta["overall"], meta["decision"]


if __name__ == "__main__":
    main()
