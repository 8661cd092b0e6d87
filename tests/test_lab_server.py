"""The JupyterLab server extension's REST API (/aisci/api/), through pytest-jupyter's jp_fetch on a
Jupyter server in this process: every endpoint; paths confined to the server root; the token
required; runs as jobs (one per study, stop then run resumes, a run outlives its client)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import nbformat
import pytest

pytest.importorskip("pytest_jupyter", reason="pip install pytest-jupyter[server] (the test extras)")
from pytest_jupyter.jupyter_server import *  # noqa: E402,F401,F403 — jp_fetch and the server fixtures, this module only

from aisci.execution import build  # noqa: E402
from tests.conftest import TOY_TEMPLATE  # noqa: E402
from tests.lab_server import Client, make_importable  # noqa: E402
from tests.study_helpers import init_study, set_config  # noqa: E402

make_importable()


@pytest.fixture
def jp_server_config(jp_root_dir):
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_aisci": True}, "root_dir": str(jp_root_dir)}}


@pytest.fixture
def api(jp_asyncio_loop, jp_fetch, jp_serverapp):
    return Client(jp_asyncio_loop, jp_fetch)


@pytest.fixture
def root(jp_root_dir):
    return jp_root_dir


def job(root, name) -> dict:
    path = root / name / ".aisci" / "job.json"
    return json.loads(path.read_text()) if path.exists() else {}


def finished_job(api, root, name, timeout_s=300) -> dict:
    return api.wait(lambda: job(root, name) if "ended_at" in job(root, name) else None, timeout_s, f"{name}'s run to end")


# --- listing, status, tree, decisions ---------------------------------------------------------
def test_list_and_status_of_studies_under_the_root(api, root):
    init_study(root / "alpha", TOY_TEMPLATE)
    init_study(root / "group" / "beta", TOY_TEMPLATE)
    (root / "not-a-study").mkdir()
    code, data = api.get("studies")
    assert code == 200
    assert [s["path"] for s in data["studies"]] == ["alpha", "group/beta"]
    card = data["studies"][0]
    assert [p["name"] for p in card["phases"]] == ["ideation", "novelty", "experiments", "analysis", "writeup", "review"]
    assert {p["state"] for p in card["phases"]} == {"not run"} and card["running"] is False
    assert card["cost"] == {"calls": 0, "tokens": 0, "cost_usd": 0.0, "offline_tasks": 0, "max_usd": None, "max_tokens": None}
    code, status = api.get("studies/group/beta/status")
    assert code == 200 and status["path"] == "group/beta" and status["topic"] == "learning rate on a toy fit"


def test_tree_marks_the_best_node_failures_and_edited_notebooks(api, root):
    study = init_study(root / "s", TOY_TEMPLATE)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("lr = 0.1")])
    nodes = [("baseline/node-0", "baseline", None, "done", None, 1.0),
             ("fast/node-0", "draft", "baseline/node-0", "done", None, 0.5),
             ("fast/node-1", "debug", "fast/node-0", "failed", "ZeroDivisionError: division by zero", None)]
    rows = []
    for node_id, kind, parent, status, failure, loss in nodes:
        folder = study / "experiments" / node_id
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / "experiment.ipynb"))
        row = {"id": node_id, "idea": node_id.split("/")[0], "kind": kind, "parent": parent, "status": status,
               "failure": failure, "metrics": {"final_loss": loss} if loss is not None else {},
               "notebook": f"experiments/{node_id}/experiment.ipynb", "code_hash": build.code_hash(folder / "experiment.ipynb")}
        (folder / "node.json").write_text(json.dumps(row))
        rows.append(row)
    (study / "experiments" / "summary.json").write_text(json.dumps(
        {"nodes": rows, "best": "fast/node-0", "primary_metric": "final_loss"}))
    edited = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("lr = 0.2")])
    nbformat.write(edited, str(study / "experiments" / "fast" / "node-0" / "experiment.ipynb"))

    code, tree = api.get("studies/s/tree")
    assert code == 200 and tree["best"] == "fast/node-0" and tree["primary_metric"] == "final_loss"
    by_id = {n["id"]: n for n in tree["nodes"]}
    assert by_id["fast/node-0"]["edited"] is True and by_id["baseline/node-0"]["edited"] is False
    assert by_id["fast/node-1"]["failure"].startswith("ZeroDivisionError") and by_id["fast/node-1"]["metric"] is None
    assert by_id["fast/node-0"]["metric"] == 0.5 and by_id["fast/node-0"]["kind"] == "draft"
    code, card = api.get("studies/s/status")
    assert card["best"] == {"id": "fast/node-0", "idea": "fast", "metric": "final_loss", "value": 0.5,
                            "notebook": "experiments/fast/node-0/experiment.ipynb"}


def test_new_study_then_run_to_the_ideas_gate_and_decide(api, root):
    code, card = api.post("studies", {"path": "new-one", "template": str(TOY_TEMPLATE), "topic": "learning rate on a toy fit",
                                      "llm": "offline", "gate_policy": "stop"})
    assert code == 200, card
    assert card["path"] == "new-one" and card["waiting"] == []  # nothing to decide yet
    assert 'ideas = "stop"' in (root / "new-one" / "aisci.toml").read_text()
    assert api.post("studies", {"path": "new-one", "template": str(TOY_TEMPLATE), "topic": "again"})[0] == 400

    code, started = api.post("studies/new-one/run", {})
    assert code == 200 and started["running"] is True
    ended = finished_job(api, root, "new-one")
    assert ended["outcome"] == "waiting", ended
    code, card = api.get("studies/new-one/status")
    assert card["running"] is False
    assert card["waiting"] == ["ideas"]
    waits = next(p for p in card["phases"] if p["state"] != "done")
    assert waits["state"] == "waiting" and waits["reason"] == "the ideas gate waits for your decision"
    code, log = api.get("studies/new-one/log", params={"offset": "0"})
    assert code == 200 and "ideas gate waits" in log["text"]

    code, waiting = api.get("studies/new-one/decisions")
    assert code == 200 and waiting["decisions"] == []
    gate = waiting["waiting"][0]
    assert gate["gate"] == "ideas" and len(gate["items"]) == 3 and all(i["detail"] for i in gate["items"])
    chosen = gate["items"][1]["id"]
    code, entry = api.post("studies/new-one/decisions", {"gate": "ideas", "verdict": "approve", "items": [chosen],
                                                          "note": "the cheaper one"})
    assert code == 200
    written = [json.loads(line) for line in (root / "new-one" / "decisions.jsonl").read_text().splitlines()]
    assert written == [entry]
    assert entry["gate"] == "ideas" and entry["action"] == "approve" and entry["items"] == [chosen]
    assert entry["by"] == "jupyterlab" and entry["note"] == "the cheaper one"
    code, after = api.get("studies/new-one/decisions")
    assert "ideas" not in [g["gate"] for g in after["waiting"]] and after["decisions"] == written
    code, refused = api.post("studies/new-one/decisions", {"gate": "ideas", "verdict": "approve", "items": ["no-such-idea"]})
    assert code == 400 and "unknown idea" in refused["message"]
    # the sidebar follows all of it in the study's event log: the job, its run, the gate, the decision
    code, followed = api.get("events", params={"cursor": json.dumps({"new-one": 0}), "wait": "0"})
    kinds = [e["kind"] for e in followed["events"]]
    assert kinds[0] == "run_start" and {"phase_start", "phase_end", "gate", "run_end", "job_end"} <= set(kinds)
    assert next(e for e in followed["events"] if e["kind"] == "job_end")["outcome"] == "waiting"
    decided = followed["events"][-1]
    assert decided["kind"] == "decision" and decided["by"] == "jupyterlab" and decided["items"] == [chosen]


# --- live updates: the event logs, long-polled ---------------------------------------------
def test_events_long_poll_answers_when_a_decision_is_written(api, root):
    import threading

    from aisci.study import Study

    init_study(root / "alpha", TOY_TEMPLATE)
    init_study(root / "beta", TOY_TEMPLATE)
    code, now = api.get("events")  # no cursor: the cursor of now, no events
    assert code == 200 and now == {"events": [], "cursor": {"alpha": 0, "beta": 0}}
    # nothing happens: the poll ends after `wait` with no events and the same cursor
    code, idle = api.get("events", params={"cursor": json.dumps(now["cursor"]), "wait": "0.5"})
    assert code == 200 and idle == now

    # a decision written elsewhere (the command line) while the poll waits ends it with that event
    writer = threading.Timer(1.0, lambda: Study.open(root / "beta").record_decision("ideas", "reject", items=["x"], by="cli"))
    writer.start()
    code, answer = api.get("events", params={"cursor": json.dumps(now["cursor"]), "wait": "30"}, request_timeout=60)
    writer.join()
    assert code == 200, answer
    event, = answer["events"]
    assert event["study"] == "beta" and event["kind"] == "decision" and event["by"] == "cli" and event["items"] == ["x"]
    assert answer["cursor"] == {"alpha": 0, "beta": event["seq"]}
    # the next poll starts after it: nothing new
    code, idle = api.get("events", params={"cursor": json.dumps(answer["cursor"]), "wait": "0"})
    assert idle["events"] == []


def test_events_refuse_a_bad_cursor_in_one_line(api, root):
    code, data = api.get("events", params={"cursor": "[1, 2]"})
    assert code == 400 and data == {"message": "cursor must be a JSON object of study: seq"}
    code, data = api.get("events", params={"cursor": "{}", "wait": "soon"})
    assert code == 400 and data == {"message": "wait must be a number of seconds"}


# --- runs as jobs -------------------------------------------------------------------------
def test_a_second_run_is_refused_and_stop_then_run_resumes(api, root):
    study = init_study(root / "s", TOY_TEMPLATE)
    code, _ = api.post("studies/s/run", {"until": "novelty"})
    assert code == 200
    code, refused = api.post("studies/s/run", {})
    assert code == 400 and "already" in refused["message"]
    state = study / ".aisci" / "phases.json"
    api.wait(lambda: state.exists() and "ideation" in json.loads(state.read_text()), 240, "ideation to finish")
    ideation_done = json.loads(state.read_text())["ideation"]["finished_at"]
    code, stopped = api.post("studies/s/stop", {})
    assert code == 200 and "stop_requested_at" in stopped, stopped
    assert finished_job(api, root, "s", 60)["outcome"] == "stopped"
    code, card = api.get("studies/s/status")
    assert card["running"] is False and card["phases"][0]["state"] == "done"
    assert api.post("studies/s/stop", {})[0] == 400  # nothing left to stop

    code, _ = api.post("studies/s/run", {"until": "novelty"})
    assert code == 200
    ended = finished_job(api, root, "s")
    assert ended["outcome"] == "finished", ended
    phases = json.loads(state.read_text())
    assert phases["ideation"]["finished_at"] == ideation_done  # resumed: the finished phase was not redone
    assert "novelty" in phases


def test_a_run_survives_its_client_going_away(api, root, jp_http_port, jp_serverapp, jp_base_url):
    init_study(root / "s", TOY_TEMPLATE)
    set_config(root / "s", "gates", ideas="stop")
    token = jp_serverapp.identity_provider.token
    request = (f"POST {jp_base_url}aisci/api/studies/s/run HTTP/1.1\r\nHost: 127.0.0.1:{jp_http_port}\r\n"
               f"Authorization: token {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}")
    with socket.create_connection(("127.0.0.1", jp_http_port)) as client:
        client.sendall(request.encode())
    api.wait(lambda: job(root, "s").get("pid"), 30, "the job to start")  # the client is gone; the server carries on
    pid = job(root, "s")["pid"]
    assert os.getpgid(pid) == pid != os.getpgid(0)  # its own process group, not the server's
    ended = finished_job(api, root, "s")
    assert ended["outcome"] == "waiting" and (root / "s" / "ideas" / "ideas.json").exists()


def test_a_run_started_from_the_command_line_shows_up_as_running(api, root):
    init_study(root / "s", TOY_TEMPLATE)
    cli = subprocess.Popen([sys.executable, "-m", "aisci", "run", str(root / "s"), "--until", "ideation", "--quiet"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api.wait(lambda: api.get("studies/s/status")[1]["running"], 60, "the CLI run to show as running")
        code, refused = api.post("studies/s/run", {})
        assert code == 400 and "already" in refused["message"]
        code, refused = api.post("studies/s/stop", {})
        assert code == 400 and "command line" in refused["message"]
    finally:
        cli.send_signal(signal.SIGINT)
        cli.wait(timeout=60)
    api.wait(lambda: not api.get("studies/s/status")[1]["running"], 30, "the run to end")


# --- the new-study dialog's helpers ----------------------------------------------------------
def test_templates_and_model_needs_never_show_a_key(api, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123")
    code, data = api.get("templates")
    assert code == 200 and "grokking" in data["templates"]
    code, needs = api.get("model", params={"spec": "openai:gpt-4o-mini"})
    assert code == 200 and needs == {"spec": "openai:gpt-4o-mini", "provider": "openai-compatible",
                                     "model": "gpt-4o-mini", "env": "OPENAI_API_KEY", "set": True}
    monkeypatch.delenv("OPENAI_API_KEY")
    assert api.get("model", params={"spec": "openai:gpt-4o-mini"})[1]["set"] is False
    assert api.get("model", params={"spec": "offline"})[1]["env"] is None
    code, refused = api.get("model", params={"spec": "nonsense"})
    assert code == 400 and "expected offline" in refused["message"]


# --- security ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["studies/../outside/status", "studies/s/../../outside/tree",
                                  "studies/./../outside/decisions", "studies/../outside/run"])
def test_a_path_out_of_the_root_is_refused(api, root, path):
    init_study(root.parent / "outside", TOY_TEMPLATE)
    init_study(root / "s", TOY_TEMPLATE)
    code, data = api("POST" if path.endswith("/run") else "GET", path, {})
    assert code == 403 and "outside the server root" in data["message"], data
    assert not (root.parent / "outside" / ".aisci" / "job.json").exists()


def test_a_symlink_out_of_the_root_is_refused(api, root):
    init_study(root.parent / "outside", TOY_TEMPLATE)
    (root / "link").symlink_to(root.parent / "outside")
    code, data = api.get("studies/link/status")
    assert code == 403 and data == {"message": "'link' is outside the server root"}
    assert api.get("studies")[1]["studies"] == []  # nor is it listed
    code, data = api.post("studies", {"path": "../made-outside", "topic": "x", "template": str(TOY_TEMPLATE)})
    assert code == 403 and not (root.parent / "made-outside").exists()


def test_a_request_without_the_token_gets_403(api):
    for method, path in (("GET", "studies"), ("GET", "studies/s/status"), ("POST", "studies/s/run"),
                         ("POST", "studies"), ("GET", "events")):
        code, _ = api(method, path, {} if method == "POST" else None, headers={"Authorization": ""})
        assert code == 403, (method, path)


def test_errors_are_one_line_json(api, root):
    (root / "plain").mkdir()
    code, data = api.get("studies/plain/status")
    assert code == 400 and list(data) == ["message"] and "\n" not in data["message"]
    assert "not an aisci study folder" in data["message"] and "Traceback" not in data["message"]
    code, data = api.post("studies/plain/run", {"until": "nowhere"})
    assert code == 400 and list(data) == ["message"]
    code, data = api.get("studies/plain/log", params={"offset": "x"})
    assert code == 400 and data == {"message": "offset must be a whole number"}
