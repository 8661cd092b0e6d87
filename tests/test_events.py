"""The study's event log (aisci.events, .aisci/events.jsonl): what every run and every decision
appends, numbered without gaps or repeats across writers, bounded by rotation."""

from __future__ import annotations

import json
import multiprocessing

from aisci import events
from aisci.cli import main
from tests.conftest import TOY_TEMPLATE
from tests.study_helpers import init_study, set_config


def test_events_are_numbered_and_read_back_after_a_seq(tmp_path):
    first = events.append(tmp_path, "message", text="one")
    second = events.append(tmp_path, "message", text="two")
    assert (first["seq"], second["seq"]) == (1, 2) and events.last_seq(tmp_path) == 2
    assert [e["text"] for e in events.since(tmp_path, 1)] == ["two"]
    assert events.since(tmp_path, 2) == []


def test_the_log_is_bounded_and_rotation_loses_no_recent_event(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "MAX_BYTES", 2000)
    for index in range(300):  # about 30 kB of events
        events.append(tmp_path, "message", text=f"line {index}")
    current, rotated = tmp_path / events.EVENTS_FILE, tmp_path / events.ROTATED_FILE
    assert current.stat().st_size <= 2000 and rotated.stat().st_size <= 2000
    assert events.last_seq(tmp_path) == 300
    kept = events.since(tmp_path, 0)
    assert [e["seq"] for e in kept] == list(range(kept[0]["seq"], 301))  # the newest, with no gap
    just_rotated = [e["seq"] for e in events.since(tmp_path, 300 - len(kept) + 3)]
    assert just_rotated == list(range(300 - len(kept) + 4, 301))  # a reader straddling the two files


def _write_many(folder: str, count: int) -> None:
    for index in range(count):
        events.append(folder, "message", text=f"{index}")


def test_writers_in_several_processes_never_share_a_number(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "MAX_BYTES", 4000)  # rotations happen while they write (in the children too: fork)
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write_many, args=(str(tmp_path), 60)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert events.last_seq(tmp_path) == 240
    seqs = [e["seq"] for e in events.since(tmp_path, 0)]
    assert seqs == sorted(set(seqs)) and seqs[-1] == 240


def test_a_run_and_a_decision_from_the_command_line_are_recorded(tmp_path, capsys):
    study = init_study(tmp_path / "s", TOY_TEMPLATE)
    set_config(study, "gates", ideas="stop")
    assert main(["run", str(study), "--quiet"]) == 5  # the ideas gate waits
    log = events.since(study / ".aisci", 0)
    kinds = [e["kind"] for e in log]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end" and log[-1]["outcome"] == "waiting"
    assert log[0]["phases"] == ["ideation", "novelty", "experiments", "analysis", "writeup", "review"]
    ideation = [e for e in log if e.get("phase") == "ideation"]
    assert [e["kind"] for e in ideation][0] == "phase_start" and "phase_end" in [e["kind"] for e in ideation]
    gate = next(e for e in log if e["kind"] == "gate")
    assert gate["gate"] == "ideas" and gate["items"]
    seen = log[-1]["seq"]
    capsys.readouterr()
    assert main(["approve", str(study), "ideas", "1"]) == 0
    decision, = events.since(study / ".aisci", seen)
    assert decision["kind"] == "decision" and decision["gate"] == "ideas" and decision["by"] == "cli"
    assert decision["action"] == "approve" and len(decision["items"]) == 1 and decision["items"][0] in gate["items"]
    lines = (study / ".aisci" / events.EVENTS_FILE).read_text().splitlines()
    assert all(json.loads(line)["seq"] for line in lines)
