"""The JupyterLab sidebar's list call (GET /aisci/api/studies): 20 studies under the server root,
3 of them with 60 experiment nodes. Goal: <= 200 ms of server time (median).

One toy study is run for real (or --study names a finished one); the 20 are copies of it, and
three get 57 more nodes, copies of a finished node with their own ids (no experiment is run).
Prints the median of the call in-process (what the handler runs, off the server's event loop)
and over HTTP through a real Jupyter server with the extension, cold (first call) and warm. Then
what following the studies live costs (GET /aisci/api/events): one watch sweep (a stat() per study,
every 0.4 s while a long poll waits), reading the events after a cursor, and the one study's card
the sidebar reloads after an event.

    python bench/bench_lab_list.py [--study FINISHED_STUDY] [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOY = REPO / "tests" / "fixtures" / "toy"
EXTENSION = REPO / "extensions" / "jupyterlab-aisci"


def finished_toy_study(workdir: Path) -> Path:
    study = workdir / "source-study"
    env = {**os.environ, "AISCI_NO_PROGRESS": "1"}
    for command in (["init", str(study), "--template", str(TOY), "--topic", "learning rate on a toy fit"],
                    ["run", str(study), "--quiet"]):
        subprocess.run([sys.executable, "-m", "aisci", *command], check=True, env=env, stdout=subprocess.DEVNULL)
    return study


def add_nodes(study: Path, total: int) -> None:
    """Copies of a finished node until the study has `total` nodes, each with its own id."""
    summary_path = study / "experiments" / "summary.json"
    summary = json.loads(summary_path.read_text())
    template = next(n for n in summary["nodes"] if n["status"] == "done" and n["idea"] != "baseline")
    source = study / "experiments" / template["id"]
    count = len(summary["nodes"])
    for number in range(100, 100 + total - count):
        node_id = f"{template['idea']}/node-{number}"
        target = study / "experiments" / node_id
        shutil.copytree(source, target)
        node = json.loads((target / "node.json").read_text())
        node.update(id=node_id, notebook=f"experiments/{node_id}/experiment.ipynb", parent=template["id"])
        (target / "node.json").write_text(json.dumps(node))
        summary["nodes"].append({**template, "id": node_id, "notebook": node["notebook"], "parent": template["id"]})
    summary_path.write_text(json.dumps(summary))


def fabricate(root: Path, source: Path, studies: int, big: int, nodes: int) -> None:
    for number in range(studies):
        target = root / f"study-{number:02d}"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("run.lock"))
        if number < big:
            add_nodes(target, nodes)


def in_process(root: Path, repeats: int) -> tuple[float, float]:
    from aisci import api

    clock = time.perf_counter()
    cards = api.list_studies(root)
    cold = time.perf_counter() - clock
    assert len(cards) == 20 and all("error" not in c for c in cards), cards
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        api.list_studies(root)
        times.append(time.perf_counter() - clock)
    return cold, statistics.median(times)


def live_in_process(root: Path, repeats: int) -> dict[str, float]:
    from aisci import api, events

    sources = api.event_sources(root)
    cursor = api.study_events(root)["cursor"]
    study = root / "study-00"
    events.append(study / ".aisci", "message", text="bench")
    timed = {"watch sweep (20 stat)": lambda: [events.stamp(folder) for folder in sources.values()],
             "events after the cursor": lambda: api.study_events(root, cursor, sources),
             "the changed study's card": lambda: api.study_card(study, root)}
    found = {}
    for name, call in timed.items():
        times = []
        for _ in range(repeats):
            clock = time.perf_counter()
            call()
            times.append(time.perf_counter() - clock)
        found[name] = statistics.median(times)
    return found


def over_http(root: Path, repeats: int, workdir: Path) -> tuple[float, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "bench-token"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"), "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(EXTENSION), str(REPO), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", f"--port={port}", "--ip=127.0.0.1", "--no-browser",
                               f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}", "--allow-root",
                               "--ServerApp.jpserver_extensions={'jupyterlab_aisci': True}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/aisci/api/studies"
    headers = {"Authorization": f"token {token}"}

    def get() -> float:
        clock = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as response:
            data = json.loads(response.read())
        assert len(data["studies"]) == 20
        return time.perf_counter() - clock

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                cold = get()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("bench: the Jupyter server did not start") from None
                time.sleep(0.5)
        return cold, statistics.median(get() for _ in range(repeats))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, help="a finished study to copy (default: run a toy study first)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aisci-bench-list-") as work:
        workdir = Path(work)
        clock = time.perf_counter()
        source = args.study.resolve() if args.study else finished_toy_study(workdir)
        root = workdir / "root"
        fabricate(root, source, studies=20, big=3, nodes=60)
        node_files = sum(1 for _ in root.rglob("node.json"))
        print(f"fabricated 20 studies (3 with 60 nodes; {node_files} node.json files) in {time.perf_counter() - clock:.1f} s")
        cold, warm = in_process(root, args.repeats)
        print(f"in-process api.list_studies: first call {cold * 1000:.0f} ms, then median {warm * 1000:.1f} ms "
              f"over {args.repeats} calls")
        for name, seconds in live_in_process(root, args.repeats).items():
            print(f"live, in-process: {name}: median {seconds * 1000:.2f} ms")
        cold, warm = over_http(root, args.repeats, workdir)
        verdict = "meets" if warm <= 0.200 else "MISSES"
        print(f"GET /aisci/api/studies over HTTP: first call {cold * 1000:.0f} ms, then median {warm * 1000:.1f} ms "
              f"({verdict} the 200 ms goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
