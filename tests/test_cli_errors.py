"""Bad input gets one line on stderr and a non-zero exit, never a traceback, and leaves the
study folder as it was."""

from __future__ import annotations

import hashlib
import json

import pytest

from aisci.cli import main
from tests.fake_llm_server import error
from tests.study_helpers import init_study, set_config


def snapshot(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "run.lock"}


def one_line_error(capsys, code, expected_code=None, words=""):
    err = capsys.readouterr().err.strip()
    assert code != 0 and (expected_code is None or code == expected_code)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("aisci: error:") and words in err, err
    return err


def test_unknown_template(tmp_path, capsys):
    code = main(["init", str(tmp_path / "s"), "--template", "no_such_template", "--topic", "anything at all"])
    one_line_error(capsys, code, 2, "unknown template 'no_such_template'")
    assert not (tmp_path / "s").exists()


def test_a_topic_too_short(tmp_path, toy_template, capsys):
    code = main(["init", str(tmp_path / "s"), "--template", str(toy_template), "--topic", ""])
    one_line_error(capsys, code, 2, "--topic '': String should have at least 3 characters")
    assert not (tmp_path / "s").exists()


def test_template_with_a_broken_manifest(tmp_path, toy_template, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.toml").write_text('name = "x"\ntitle = "x"\n')
    code = main(["init", str(tmp_path / "s"), "--template", str(broken), "--topic", "anything at all"])
    one_line_error(capsys, code, 2, "manifest.toml")
    assert not (tmp_path / "s").exists()


def test_init_refuses_a_folder_in_use(tmp_path, toy_template, capsys):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "mine.txt").write_text("keep me")
    code = main(["init", str(tmp_path / "s"), "--template", str(toy_template), "--topic", "anything at all"])
    one_line_error(capsys, code, 2, "not empty")
    assert (tmp_path / "s" / "mine.txt").read_text() == "keep me"


def test_init_sandbox_none_needs_its_reason(tmp_path, toy_template, capsys):
    code = main(["init", str(tmp_path / "s"), "--template", str(toy_template), "--topic", "anything at all",
                 "--sandbox", "none"])
    one_line_error(capsys, code, 2, 'sandbox "none" needs its reason (--sandbox-reason')
    code = main(["init", str(tmp_path / "s"), "--template", str(toy_template), "--topic", "anything at all",
                 "--sandbox-reason", "a disposable VM"])
    one_line_error(capsys, code, 2, "--sandbox-reason goes with --sandbox none")
    assert not (tmp_path / "s").exists()


def test_init_states_sandbox_none_with_its_reason(tmp_path, toy_template, capsys):
    import tomllib

    code = main(["init", str(tmp_path / "s"), "--template", str(toy_template), "--topic", "anything at all",
                 "--sandbox", "none", "--sandbox-reason", "a disposable container that holds no keys"])
    assert code == 0, capsys.readouterr().err
    experiments = tomllib.loads((tmp_path / "s" / "aisci.toml").read_text())["experiments"]
    assert experiments["sandbox"] == "none"
    assert experiments["sandbox_reason"] == "a disposable container that holds no keys"
    code = main(["init", str(tmp_path / "t"), "--template", str(toy_template), "--topic", "anything at all"])
    assert code == 0
    assert tomllib.loads((tmp_path / "t" / "aisci.toml").read_text())["experiments"].get("sandbox", "bubblewrap") \
        == "bubblewrap"


@pytest.mark.parametrize("content,words", [
    ("this is [not toml", "not valid TOML"),
    ('[study]\ntopic = "fine topic"\n[budget]\nmax_dollars = 3\n', "budget.max_dollars: unknown key"),
    ('[study]\ntopic = "fine topic"\n[llm]\ncache = "sometimes"\n', "llm.cache"),
    ('[study]\ntopic = "fine topic"\n[experiments]\ntimeout_s = -5\n', "experiments.timeout_s"),
    ('[llm]\ndefault = "offline"\n', "study: Field required"),
    ('[study]\ntopic = "fine topic"\n[llm]\ndefault = "openai:"\n', "llm.default: model 'openai:'"),
    ('[study]\ntopic = "fine topic"\n[llm.roles]\nreview = "endpoint:mine"\n', "llm.roles.review: model 'endpoint:mine'"),
])
def test_malformed_config(tmp_path, toy_template, capsys, content, words):
    study = init_study(tmp_path / "s", toy_template)
    (study / "aisci.toml").write_text(content)
    before = snapshot(study)
    capsys.readouterr()
    one_line_error(capsys, main(["run", str(study)]), 2, words)
    assert snapshot(study) == before


def test_study_from_a_newer_aisci(tmp_path, toy_template, capsys):
    study = init_study(tmp_path / "s", toy_template)
    meta = study / ".aisci" / "study.json"
    meta.write_text(json.dumps({"format_version": 99, "created_by": "aisci 9.0"}))
    before = snapshot(study)
    capsys.readouterr()
    one_line_error(capsys, main(["run", str(study)]), 2, "newer aisci")
    assert snapshot(study) == before


def test_not_a_study_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    one_line_error(capsys, main(["status", str(tmp_path / "empty")]), 2, "not an aisci study folder")


def test_bad_model_spec(tmp_path, toy_template, capsys):
    study = init_study(tmp_path / "s", toy_template)
    capsys.readouterr()
    one_line_error(capsys, main(["run", str(study), "--llm", "gpt4"]), 2, "expected offline")


def test_unreachable_endpoint(tmp_path, toy_template, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "llm", max_retries=1, backoff_s=0.0)
    capsys.readouterr()
    err = one_line_error(capsys, main(["run", str(study), "--llm", "openai:m@http://127.0.0.1:9/v1"]), 3, "giving up")
    assert "sk-test" not in err


def test_bad_api_key(tmp_path, toy_template, capsys, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    fake_llm.respond_with(lambda request: error(401))
    study = init_study(tmp_path / "s", toy_template)
    capsys.readouterr()
    err = one_line_error(capsys, main(["run", str(study), "--llm", f"openai:m@{fake_llm.base_url}"]), 3,
                         "rejected the API key")
    assert "sk-wrong" not in err and fake_llm.request_count == 1


def test_missing_openai_key(tmp_path, toy_template, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    study = init_study(tmp_path / "s", toy_template)
    capsys.readouterr()
    one_line_error(capsys, main(["run", str(study), "--llm", "openai:gpt-4o"]), 3, "set OPENAI_API_KEY")


def test_missing_tex(tmp_path, toy_template, capsys, monkeypatch):
    # typesetting first: importing it binds compile's function, which must still be the real one then
    monkeypatch.setattr("aisci.writeup.typesetting.tex_available", lambda: False)
    monkeypatch.setattr("aisci.paper.compile.tex_available", lambda: False)
    study = init_study(tmp_path / "s", toy_template)
    assert main(["run", str(study), "--quiet"]) == 0  # the study completes, with the .tex and a clear note
    out = capsys.readouterr().out
    assert "no LaTeX found" in out and (study / "paper" / "main.tex").exists()
    assert not (study / "paper" / "paper.pdf").exists() and (study / "paper" / "paper.md").exists()
    one_line_error(capsys, main(["paper", str(study)]), 2, "no LaTeX found")


def test_gate_stop_waits_for_a_decision(tmp_path, toy_template, capsys):
    study = init_study(tmp_path / "s", toy_template)
    set_config(study, "gates", ideas="stop")
    capsys.readouterr()
    err = one_line_error(capsys, main(["run", str(study), "--quiet"]), 5, "the ideas gate waits")
    assert "aisci approve" in err and not (study / "experiments" / "summary.json").exists()
    assert main(["approve", str(study), "ideas", "1"]) == 0
    assert main(["run", str(study), "--quiet"]) == 0
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    ideas = {n["idea"] for n in summary["nodes"]}
    assert len(ideas) == 2 and "baseline" in ideas  # the baseline and the one approved idea's search tree
    decision = json.loads((study / "decisions.jsonl").read_text().splitlines()[-1])
    assert decision["gate"] == "ideas" and decision["action"] == "approve"
