"""The study folder: one research project on disk, laid out as in the design brief.

Nothing outside the folder is written; every write is atomic. `.aisci/` holds the
folder's format version, the phase state and the log of notebook executions.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from aisci import events
from aisci.version import STUDY_FORMAT_VERSION, __version__
from aisci.config import CONFIG_FILE, StudyConfig, StudySection, dump_config, load_config
from aisci.errors import ConfigError, StudyError
from aisci.fsutil import atomic_write_json, atomic_write_text, read_json
from aisci.manifest import Template, load_template, resolve_template

SANDBOX_REASON_MISSING = ('sandbox "none" needs its reason (--sandbox-reason "..."), e.g. a disposable container '
                          'that holds no keys: the run log, the status and the paper state it')
LAYOUT = ("template", "ideas", "literature", "experiments", "analysis", "paper", "reviews", "llm", ".aisci")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def node_timeout_s(time_budget_s: int) -> int:
    """The wall-time limit per experiment notebook a new study gets: 15 times the template's
    time budget (a node on a shared or slower machine, or a costlier setting, has room), and
    never under 5 minutes. Written into aisci.toml, where a person can change it."""
    return max(300, 15 * time_budget_s)


class Study:
    def __init__(self, root: Path, config: StudyConfig):
        self.root = Path(root).resolve()
        self.config = config

    # --- creating and opening -------------------------------------------------------
    @classmethod
    def create(cls, root: Path, template: str, topic: str, llm: str | None = None, sandbox: str | None = None,
               sandbox_reason: str = "", small_search: bool = False) -> "Study":
        root = Path(root)
        if root.exists() and any(root.iterdir()):
            raise StudyError(f"{root} exists and is not empty; choose a new folder")
        source = resolve_template(template)
        manifest = load_template(source).manifest  # validate before anything is written
        try:
            config = StudyConfig(study=StudySection(topic=topic, template_source=str(template)))
        except ValidationError as exc:
            raise ConfigError(f"--topic {topic!r}: {exc.errors()[0]['msg']}") from None
        config.experiments.timeout_s = node_timeout_s(manifest.time_budget_s)
        note = ""
        if llm:
            config.llm.default = llm
            if llm.strip() != "offline" and not small_search:
                from aisci.search.scale import apply_model_defaults

                note = apply_model_defaults(config, manifest.time_budget_s)
        if sandbox is not None:  # "none" only where asked for by name, with its reason (disclosed)
            if sandbox == "none" and not sandbox_reason.strip():
                raise ConfigError(SANDBOX_REASON_MISSING)
            try:
                config.experiments = type(config.experiments).model_validate(
                    {**config.experiments.model_dump(), "sandbox": sandbox, "sandbox_reason": sandbox_reason})
            except ValidationError:
                raise ConfigError(f'sandbox {sandbox!r}: use "bubblewrap" or "none"') from None
        staging = root.with_name(f".{root.name}.creating")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for name in LAYOUT:
                (staging / name).mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, staging / "template", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            atomic_write_text(staging / CONFIG_FILE, dump_config(config, note))
            atomic_write_json(staging / ".aisci" / "study.json",
                              {"format_version": STUDY_FORMAT_VERSION, "created_by": f"aisci {__version__}",
                               "created_at": now_iso()})
            (staging / "decisions.jsonl").touch()
            root.parent.mkdir(parents=True, exist_ok=True)
            if root.exists():
                root.rmdir()
            staging.rename(root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return cls.open(root)

    @classmethod
    def open(cls, root: Path) -> "Study":
        root = Path(root)
        if not root.is_dir():
            raise StudyError(f"{root}: no such study folder (create one with `aisci init {root} --template grokking --topic ...`)")
        meta = read_json(root / ".aisci" / "study.json")
        if meta is None:
            raise StudyError(f"{root}: not an aisci study folder (.aisci/study.json is missing)")
        version = meta.get("format_version")
        if not isinstance(version, int) or version > STUDY_FORMAT_VERSION:
            raise StudyError(
                f"{root}: made by a newer aisci ({meta.get('created_by', '?')}, study format {version}); "
                f"this is aisci {__version__} (format {STUDY_FORMAT_VERSION}): upgrade aisci"
            )
        return cls(root, load_config(root))

    # --- paths ---------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def state_dir(self) -> Path:
        return self.path(".aisci")

    def template(self) -> Template:
        return load_template(self.path(self.config.study.template))

    def relative(self, path: Path) -> str:
        return str(Path(path).resolve().relative_to(self.root))

    def root_from(self, folder: Path) -> str:
        """The study folder as seen from `folder` inside it ("..", "../../.."): what a phase
        notebook gets as study_dir, so a moved or shared study's notebooks still run."""
        return os.path.relpath(self.root, Path(folder).resolve())

    # --- phase state ---------------------------------------------------------------
    def phase_state(self) -> dict[str, dict]:
        return read_json(self.state_dir / "phases.json", default={})

    def save_phase_state(self, phase: str, entry: dict) -> None:
        state = self.phase_state()
        state[phase] = entry
        atomic_write_json(self.state_dir / "phases.json", state)

    def clear_phase_state(self, phase: str) -> None:
        state = self.phase_state()
        if state.pop(phase, None) is not None:
            atomic_write_json(self.state_dir / "phases.json", state)

    # --- logs ----------------------------------------------------------------------
    def log_execution(self, entry: dict) -> None:
        _append_jsonl(self.state_dir / "executions.jsonl", entry)

    def executions(self) -> list[dict]:
        return _read_jsonl(self.state_dir / "executions.jsonl")

    def record_decision(self, gate: str, action: str, **details: Any) -> dict:
        entry = {"at": now_iso(), "gate": gate, "action": action, **details}
        _append_jsonl(self.path("decisions.jsonl"), entry)
        # watchers (the sidebar, the panels) learn of it from the event log, whoever decided
        events.append(self.state_dir, "decision", gate=gate, action=action,
                      items=[str(i) for i in details.get("items", [])], by=details.get("by"))
        return entry

    def decisions(self, gate: str | None = None) -> list[dict]:
        entries = _read_jsonl(self.path("decisions.jsonl"))
        return [e for e in entries if gate is None or e.get("gate") == gate]

    # --- one run at a time ---------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock for a run; the OS releases it if the process is killed."""
        handle = open(self.state_dir / "run.lock", "w")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StudyError(f"{self.root}: another aisci run is working on this study") from None
            yield
        finally:
            handle.close()


def _append_jsonl(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        handle.flush()


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a kill: the entries before it still count
    return entries
