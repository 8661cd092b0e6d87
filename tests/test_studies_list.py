"""`aisci list [DIR]` and the study cards behind it (aisci.studies): every folder with an aisci.toml,
phase states kept between calls only while the study's files are unchanged, and the progress of a
running experiments phase with its time estimate."""

from __future__ import annotations

import json
import os
import time

from aisci import studies
from aisci.cli import main
from aisci.study import Study
from tests.conftest import TOY_TEMPLATE
from tests.study_helpers import init_study, set_config


def test_list_prints_every_study_under_a_folder(tmp_path, capsys):
    init_study(tmp_path / "a", TOY_TEMPLATE)
    init_study(tmp_path / "deeper" / "b", TOY_TEMPLATE)
    (tmp_path / ".hidden").mkdir()
    init_study(tmp_path / ".hidden" / "c", TOY_TEMPLATE)
    capsys.readouterr()
    assert main(["list", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("a: ·ideation ·novelty ·experiments") and "0 tokens, $0.0000" in lines[0]
    assert lines[1].startswith("deeper/b: ") and lines[2].startswith("legend: ")
    assert len(lines) == 3  # hidden folders are not searched


def test_list_of_a_folder_without_studies_and_of_a_missing_folder(tmp_path, capsys):
    assert main(["list", str(tmp_path)]) == 0
    assert "no studies under" in capsys.readouterr().out
    assert main(["list", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == f"aisci: error: {tmp_path / 'nope'}: no such folder"


def test_a_broken_study_is_listed_with_its_problem(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "aisci.toml").write_text("[study]\n")
    card = studies.card(tmp_path / "broken", tmp_path)
    assert card["path"] == "broken" and "not an aisci study folder" in card["error"]


def test_cards_follow_decisions_and_config_changes(tmp_path):
    study = init_study(tmp_path / "s", TOY_TEMPLATE)
    set_config(study, "gates", ideas="stop")
    (study / "ideas" / "ideas.json").write_text(json.dumps({"ideas": []}))
    first = studies.card(study, tmp_path)
    assert first["waiting"] == ["ideas"] and first["phases"][0]["state"] == "waiting"
    assert studies.card(study, tmp_path)["waiting"] == ["ideas"]  # the same answer, kept
    Study.open(study).record_decision("ideas", "approve", items=["x"], by="test")
    assert studies.card(study, tmp_path)["waiting"] == []  # decisions.jsonl changed: read again
    time.sleep(0.01)
    set_config(study, "llm", default="openai:gpt-4o-mini")
    assert studies.card(study, tmp_path)["model"] == "openai:gpt-4o-mini"


def test_progress_of_a_running_experiments_phase(tmp_path):
    root = tmp_path / "s"
    for node_id, kind, status, started, duration in (("baseline/node-0", "baseline", "done", "t0", 12.0),
                                                     ("fast/node-0", "draft", "running", "2026-01-01T00:00:00+00:00", None),
                                                     ("fast/node-1", "draft", "running", None, None)):
        folder = root / "experiments" / node_id
        folder.mkdir(parents=True)
        (folder / "node.json").write_text(json.dumps({"id": node_id, "kind": kind, "status": status,
                                                      "started_at": started, "duration_s": duration}))
    phases = [{"name": "ideation", "state": "done"}, {"name": "novelty", "state": "done"},
              {"name": "experiments", "state": "running"}] + [{"name": n, "state": "not run"}
                                                              for n in ("analysis", "writeup", "review")]
    found = studies.progress(root, phases)
    assert found == {"phase": "experiments", "phases_done": 2, "phases": 6, "node": "fast/node-0",
                     "node_started_at": "2026-01-01T00:00:00+00:00", "queued": 1, "baseline_s": 12.0,
                     "nodes_left": 2, "workers": 1, "estimate_s": 24.0}
    # with the search's room: idea `fast` may make 4 - 2 more nodes; two at a time
    found = studies.progress(root, phases, {"max_nodes": 4, "num_seeds": 0}, workers=2)
    assert (found["nodes_left"], found["estimate_s"]) == (4, 24.0)
    phases[2]["state"] = "done"
    phases[3]["state"] = "running"
    assert studies.progress(root, phases)["node"] is None and os.path.isdir(root)
