"""Tokens and cost per phase of the scripted full study (tests/test_study_method_change.py:
a method change on grokking, implemented, debugged, analysed and written up), beside The AI
Scientist v2's published costs: about $15-20 for the experiments and $5 for the writeup
with their models (Claude 3.5 Sonnet for the experiments, o1/GPT-4o for the writeup).

Prompt tokens are the real prompts aisci sends (counted by the local server as characters/4);
completion tokens are the scripted answers, which are much shorter than a real model's, so
the completion side is a floor. The writeup is one call per section (each shown the sections
written before it) plus the fix rounds; its calls are listed task by task. Costs use the prices
printed with them (USD per million tokens, from aisci/data/prices.json).

    PYTHONPATH=$PWD python bench/bench_study_cost.py [--study DIR]   # DIR: an existing study to read
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aisci.llm.store import CallStore  # noqa: E402

ASSUMED = {"gpt-4o": (2.5, 10.0), "gpt-4.1": (2.0, 8.0), "o3-mini": (1.1, 4.4)}  # USD per Mtok (in, out)
AIS2 = {"experiments": "$15-20 (AIS2, Claude 3.5 Sonnet)", "writeup": "$5 (AIS2, o1 / GPT-4o)"}


def run_scripted_study(folder: Path) -> Path:
    from aisci.cli import main
    from tests.fake_llm_server import FakeLLMServer
    from tests import test_study_method_change as scripted
    from tests.study_helpers import init_study, set_config

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    with FakeLLMServer() as server:
        server.respond_with(scripted.answer)
        study = init_study(folder, "grokking", "--llm", f"openai:fake-model@{server.base_url}")
        set_config(study, "literature", sources=[])
        set_config(study, "llm.roles", review="offline")
        set_config(study, "ideation", num_ideas=1, select=1)
        set_config(study, "experiments", overrides={"num_steps": 500})
        set_config(study, "search", num_drafts=1, max_nodes=2, num_seeds=0, max_debug_depth=1)
        if main(["run", str(study), "--quiet"]) != 0:
            raise SystemExit("the scripted study failed")
    return study


def per_phase(study: Path) -> dict[str, dict]:
    phases: dict[str, dict] = {}
    for row in CallStore(study / "llm" / "calls.sqlite").by_task():
        if row["engine"] == "offline":
            continue
        phase = row["task"].split(".", 1)[0]
        entry = phases.setdefault(phase, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0})
        for key in entry:
            entry[key] += row[key] or 0
    for entry in phases.values():
        entry["usd"] = {model: round(entry["prompt_tokens"] * p_in / 1e6 + entry["completion_tokens"] * p_out / 1e6, 4)
                        for model, (p_in, p_out) in ASSUMED.items()}
    return phases


def writeup_tasks(study: Path) -> list[dict]:
    """The writeup's calls task by task: one per section (writeup.method ... writeup.title), then
    the fix rounds (writeup.fix)."""
    return [row for row in CallStore(study / "llm" / "calls.sqlite").by_task()
            if row["engine"] != "offline" and row["task"].startswith("writeup.")]


def main_cli() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--study", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aisci-cost-") as tmp:
        study = args.study or run_scripted_study(Path(tmp) / "study")
        table = per_phase(study)
        print(f"assumed prices (USD per million tokens, input/output): {ASSUMED}")
        print(f"{'phase':<12}{'calls':>6}{'prompt tok':>12}{'compl. tok':>12}  cost at gpt-4o   AIS2 published")
        for phase, entry in table.items():
            print(f"{phase:<12}{entry['calls']:>6}{entry['prompt_tokens']:>12}{entry['completion_tokens']:>12}  "
                  f"${entry['usd']['gpt-4o']:<14}  {AIS2.get(phase, '')}")
        total = {k: sum(e[k] for e in table.values()) for k in ("calls", "prompt_tokens", "completion_tokens")}
        print(f"{'total':<12}{total['calls']:>6}{total['prompt_tokens']:>12}{total['completion_tokens']:>12}  "
              f"${sum(e['usd']['gpt-4o'] for e in table.values()):.4f}")
        print("the writeup, one call per section (then its fix rounds):")
        for row in writeup_tasks(study):
            p_in, p_out = ASSUMED["gpt-4o"]
            usd = row["prompt_tokens"] * p_in / 1e6 + row["completion_tokens"] * p_out / 1e6
            print(f"  {row['task']:<28}{row['calls']:>4}{row['prompt_tokens']:>12}{row['completion_tokens']:>12}  "
                  f"${usd:.4f}")
        print(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main_cli())
