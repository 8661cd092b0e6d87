"""Helpers for tests that run whole studies on the toy template."""

from __future__ import annotations

import json
import shutil
import tomllib

import tomli_w
from pathlib import Path

from aisci.cli import main


def init_study(path: Path, template: Path, *extra: str) -> Path:
    assert main(["init", str(path), "--template", str(template), "--topic", "learning rate on a toy fit", *extra]) == 0
    return path


def copy_study(source: Path, target: Path) -> Path:
    """A copy of a finished study that a test may change; notebooks name the study folder in
    their parameters, so those follow the copy."""
    shutil.copytree(source, target)
    for path in target.rglob("*.ipynb"):
        path.write_text(path.read_text().replace(str(source), str(target)))
    return target


def executions(study: Path) -> list[dict]:
    log = study / ".aisci" / "executions.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def executed_notebooks(study: Path) -> list[str]:
    return [e["notebook"] for e in executions(study)]


def set_config(study: Path, section: str, **values) -> None:
    """Set keys of a (dotted) section of aisci.toml."""
    config = tomllib.loads((study / "aisci.toml").read_text())
    table = config
    for part in section.split("."):
        table = table.setdefault(part, {})
    table.update(values)
    (study / "aisci.toml").write_text(tomli_w.dumps(config))


def drafted_section(task: str) -> str | None:
    """The paper section a scripted model's task drafts (writeup_results: results), else None
    (writeup_fix and every other task)."""
    from aisci.paper.sections import SECTIONS

    name = task.removeprefix("writeup_")
    return name if task.startswith("writeup_") and name in SECTIONS else None
