"""The sandbox's walls, tried as a hostile notebook would, with a key exported in the
environment *before* aisci starts (as a user does): what the kernel can see, read, write,
reach and signal; kill -9 of aisci while a kernel starts or computes; and fail closed where
bubblewrap is missing or namespaces are refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from aisci.execution import bubblewrap, build
from tests.conftest import TOY_TEMPLATE, sandbox_processes

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-first"),
    pytest.mark.skipif(bubblewrap.problem() is not None, reason=f"bubblewrap cannot run here: {bubblewrap.problem()}"),
]
REPO = Path(__file__).resolve().parent.parent
PLANTED_KEY = "sk-planted-" + uuid.uuid4().hex
PLANTED_URL = "postgres://u:password-" + uuid.uuid4().hex[:8] + "@h/db"

HOST = """
import sys
from pathlib import Path
from aisci.execution.execute import execute_notebook
from aisci.execution.sandbox import SandboxSettings
node, study, template, timeout = Path(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
result = execute_notebook(node / "experiment.ipynb", node / "experiment.ipynb", cwd=node, timeout_s=timeout,
                          kernel_log=node / "kernel.log",
                          sandbox=SandboxSettings(memory_mb=2048, cpu_seconds=60, max_processes=64,
                                                  read_only=(template,), hidden=(study,)))
(node / "result.json").write_text(__import__("json").dumps(result.as_dict()))
"""


def host_env(tmp_path: Path) -> dict[str, str]:
    """aisci's environment: the user's, with a key and a database URL exported, and a home
    folder of its own with an ~/.ssh to steal."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY " + PLANTED_KEY)
    return {**os.environ, "OPENAI_API_KEY": PLANTED_KEY, "DATABASE_URL": PLANTED_URL, "HOME": str(home),
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def make_study(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A study folder as aisci lays it out, with a node to run and things around it to protect."""
    study = tmp_path / "study"
    node = study / "experiments" / "idea" / "node-2"
    node.mkdir(parents=True)
    (study / "template").mkdir()
    (study / "template" / "manifest.toml").write_text("name = 'toy'\n")
    (study / "aisci.toml").write_text("[experiments]\nsandbox = \"bubblewrap\"\nallow_network = false\n")
    (study / "llm").mkdir()
    (study / "llm" / "calls.sqlite").write_bytes(b"SQLite format 3\0 " + PLANTED_KEY.encode())
    (study / "decisions.jsonl").write_text("{}\n")
    (study / "experiments" / "idea" / "node-1").mkdir()
    (study / "experiments" / "idea" / "node-1" / "experiment.ipynb").write_text("{}")
    return study, node, study / "template"


def write_notebook(node: Path, *cells: str) -> None:
    nb = build.notebook("hostile", build.AISCI_AUTHOR)
    nb.cells += [build.code(textwrap.dedent(c)) for c in cells]
    build.write(nb, node / "experiment.ipynb")


def start_host(tmp_path: Path, node: Path, study: Path, template: Path, timeout_s: float = 120) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOST, str(node), str(study), str(template), str(timeout_s)],
                            env=host_env(tmp_path), start_new_session=True)


def outputs(node: Path) -> str:
    nb = build.read(node / "experiment.ipynb")
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) + o.get("evalue", "")
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.fixture
def listening_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def serve():
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


PROC = """
import os
seen, found = [], []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        seen.append(int(pid))
        for name in ('environ', 'cmdline'):
            try:
                data = open(f'/proc/{pid}/{name}', 'rb').read()
            except OSError:
                continue
            if b'sk-planted' in data or b'password-' in data:
                found.append((pid, name))
print('PROC seen', len(seen), 'found', found)
print('ENV', sorted(os.environ))
"""

READS = """
import os
for path in {paths!r} + [os.path.expanduser('~/.ssh/id_ed25519'), '/etc/shadow', '/root/.ssh']:
    try:
        open(path, 'rb').read() if not os.path.isdir(path) else os.listdir(path)
        print('READ', path, 'visible')
    except OSError as exc:
        print('READ', path, 'blocked', type(exc).__name__)
print('STUDY FOLDER', sorted(os.listdir({study!r})))
"""

WRITES = """
import os
for path in ['../../aisci.toml', '../../../aisci.toml', '../../../ESCAPED', {host_tmp!r}, os.path.expanduser('~/x'),
             {study!r} + '/aisci.toml', {template!r} + '/manifest.toml', '/usr/ESCAPED']:
    try:
        with open(path, 'a') as f:
            f.write('sandbox = "none"\\n')
        print('WRITE', path, 'landed inside the sandbox')
    except OSError as exc:
        print('WRITE', path, 'blocked', type(exc).__name__)
open('made-here.txt', 'w').write('ok')
"""

NETWORK = """
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=5)
    print('NET connected')
except OSError as exc:
    print('NET blocked', type(exc).__name__)
try:
    socket.getaddrinfo('example.com', 443)
    print('DNS resolved')
except OSError as exc:
    print('DNS blocked', type(exc).__name__)
"""

SIGNAL = """
import os, signal
try:
    os.kill({outsider}, signal.SIGKILL)
    print('SIGNAL delivered')
except OSError as exc:
    print('SIGNAL blocked', type(exc).__name__)
"""


def test_a_hostile_notebook_finds_nothing_and_changes_nothing_outside_its_folder(tmp_path, listening_server):
    study, node, template = make_study(tmp_path)
    port, accepted = listening_server
    host_tmp = f"/tmp/aisci-hostile-{uuid.uuid4().hex}"
    toml_before = (study / "aisci.toml").read_bytes()
    outsider = subprocess.Popen(["sleep", "120"])
    secrets = [str(study / "aisci.toml"), str(study / "llm" / "calls.sqlite"), str(study / "decisions.jsonl"),
               "../../../aisci.toml", "../node-1/experiment.ipynb", str(tmp_path / "home" / ".ssh" / "id_ed25519")]
    write_notebook(node, PROC, READS.format(paths=secrets, study=str(study)),
                   WRITES.format(host_tmp=host_tmp, study=str(study), template=str(template)),
                   NETWORK.format(port=port), SIGNAL.format(outsider=outsider.pid), "print('STILL RUNNING')")
    try:
        host = start_host(tmp_path, node, study, template)
        assert host.wait(timeout=300) == 0
        assert outsider.poll() is None, "the process outside the sandbox is alive"
    finally:
        outsider.kill()
        outsider.wait()
    result = json.loads((node / "result.json").read_text())
    text = outputs(node)
    assert result["status"] == "ok" and result["sandbox"] == "bubblewrap", result
    assert "STILL RUNNING" in text
    # no key in any process it can see, nor in its own environment (an allow-list)
    assert "found []" in text and PLANTED_KEY not in text and "password-" not in text
    assert "OPENAI_API_KEY" not in text and "DATABASE_URL" not in text
    seen = int(text.split("PROC seen ")[1].split()[0])
    assert seen <= 4, f"it sees only the sandbox's own processes, not {seen}"
    # the study around the node, the home folder and the system's secrets are not there
    for path in secrets + ["/etc/shadow", "/root/.ssh"]:
        assert f"READ {path} blocked" in text, path
    assert "STUDY FOLDER ['experiments', 'template']" in text, "only the node's own path and the template"
    # writes: nothing lands outside the node folder. The study of this test lies under /tmp, so
    # the folders above the node are in the sandbox's private /tmp: a write there may succeed,
    # into a tmpfs that vanishes with the sandbox (elsewhere they are read-only)
    for path in ("../../aisci.toml", "../../../ESCAPED", f"{study}/aisci.toml", host_tmp, "/tmp/home/x"):
        assert f"WRITE {path} blocked" in text or f"WRITE {path} landed inside the sandbox" in text, path
    assert f"WRITE {template}/manifest.toml blocked OSError" in text, "the template is read-only"
    assert "WRITE /usr/ESCAPED blocked OSError" in text
    assert (study / "aisci.toml").read_bytes() == toml_before and not (study / "ESCAPED").exists()
    assert not list(tmp_path.rglob("ESCAPED")) and not Path(host_tmp).exists()
    assert not (tmp_path / "home" / "x").exists(), "$HOME inside is a private folder"
    assert (node / "made-here.txt").read_text() == "ok"
    # no network, no DNS
    assert "NET blocked" in text and "DNS blocked" in text and not accepted
    assert "SIGNAL blocked ProcessLookupError" in text


def test_the_kernel_imports_the_installed_packages_and_the_template_stays_readable(tmp_path):
    study, node, template = make_study(tmp_path)
    write_notebook(node, f"import numpy, torch, matplotlib.pyplot, aisci\nprint('IMPORTED', torch.ones(2).sum().item())\n"
                         f"print('TEMPLATE', open({str(template / 'manifest.toml')!r}).read().strip())")
    host = start_host(tmp_path, node, study, template)
    assert host.wait(timeout=300) == 0
    text = outputs(node)
    assert "IMPORTED 2.0" in text and "TEMPLATE name = 'toy'" in text, text[-2000:]


# ------------------------------------------------------------------------- kill -9 of aisci


@pytest.mark.parametrize("when", ["starting", "computing"])
@pytest.mark.parametrize("how", ["process-group", "pid"])
def test_kill_9_of_aisci_leaves_no_sandbox_process_within_2_s(tmp_path, how, when):
    study, node, template = make_study(tmp_path)
    write_notebook(node, "import os, subprocess, time\nsubprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                         "open('computing', 'w').write('1')\nwhile True:\n    sum(range(10**6))")
    host = start_host(tmp_path, node, study, template, timeout_s=300)
    deadline = time.monotonic() + 120
    ready = (lambda: sandbox_processes(tmp_path)) if when == "starting" else (lambda: (node / "computing").exists())
    while not ready() and time.monotonic() < deadline and host.poll() is None:
        time.sleep(0.01)
    assert ready(), "the sandbox never got that far"
    if how == "process-group":
        os.killpg(host.pid, signal.SIGKILL)
    else:
        os.kill(host.pid, signal.SIGKILL)
    host.wait()
    killed_at = time.monotonic()
    while sandbox_processes(tmp_path) and time.monotonic() - killed_at < 2:
        time.sleep(0.05)
    assert not sandbox_processes(tmp_path), f"left after 2 s: {sandbox_processes(tmp_path)}"


# ------------------------------------------------------------------------- fail closed


def run_aisci(args: list[str], env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "aisci", *args], env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def without_bwrap_on_path(tmp_path: Path) -> dict[str, str]:
    """PATH holding this Python and the usual tools, but no bwrap."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("sh", "bash", "true", "sleep", "cat", "env", "latexmk", "pdflatex", "bibtex", "kpsewhich", "chktex"):
        found = shutil.which(name)
        if found:
            (tools / name).symlink_to(found)
    return {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), str(tools)]),
            "AISCI_NO_PROGRESS": "1",
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_without_bubblewrap_generated_code_is_refused_and_sandbox_none_runs_disclosed(tmp_path):
    env = without_bwrap_on_path(tmp_path)
    study = tmp_path / "study"
    init = run_aisci(["init", str(study), "--template", str(TOY_TEMPLATE), "--topic", "learning rate on a toy fit"], env)
    assert init.returncode == 0, init.stderr
    refused = run_aisci(["run", str(study), "--until", "experiments", "--quiet"], env)
    assert refused.returncode == 2
    error = refused.stderr.strip().splitlines()
    assert len(error) == 1 and "bubblewrap" in error[0] and 'sandbox = "none"' in error[0], refused.stderr
    assert "Traceback" not in refused.stderr
    assert not list((study / "experiments").rglob("experiment.ipynb")) or not list((study / "experiments").rglob("kernel.log"))

    import tomllib

    import tomli_w

    config = tomllib.loads((study / "aisci.toml").read_text())
    config["experiments"].update(sandbox="none", sandbox_reason="a throwaway VM for this test")
    (study / "aisci.toml").write_text(tomli_w.dumps(config))
    ran = run_aisci(["run", str(study), "--until", "experiments", "--quiet"], env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert 'sandbox = "none"' in ran.stdout + ran.stderr and "a throwaway VM for this test" in ran.stdout + ran.stderr
    status = run_aisci(["status", str(study)], env)
    assert "sandbox: NONE" in status.stdout and "a throwaway VM for this test" in status.stdout
    executions = [json.loads(line) for line in (study / ".aisci" / "executions.jsonl").read_text().splitlines()]
    nodes = [e for e in executions if e.get("runs_study_code")]
    assert nodes and all(e["sandbox"] == "none" for e in nodes), "the run log says each node ran unsandboxed"

    from aisci.paper import disclosure
    from aisci.study import Study

    text = disclosure.to_markdown(disclosure.gather(Study.open(study), [], []))
    assert 'sandbox = "none"' in text and "a throwaway VM for this test" in text
    assert f"{len(nodes)} run" in text


def test_where_namespaces_are_refused_generated_code_is_refused_with_one_line(tmp_path):
    """Docker's default seccomp profile (Binder) refuses new namespaces; a seccomp filter of
    our own does the same to this one command, so bubblewrap is there but cannot work."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    deny = [sys.executable, str(Path(__file__).with_name("deny_namespaces.py"))]
    probe = subprocess.run([*deny, "true"], capture_output=True, check=False)
    if probe.returncode == 3:
        pytest.skip("no seccomp filter for this machine's architecture")
    refused = run_aisci(["templates", "validate", str(TOY_TEMPLATE), "--run"], env, prefix=deny)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    error = refused.stderr.strip().splitlines()
    assert len(error) == 1 and "namespaces" in error[0] and 'sandbox = "none"' in error[0], refused.stderr
    trusted = run_aisci(["templates", "validate", str(TOY_TEMPLATE), "--run", "--sandbox", "none"], env, prefix=deny)
    assert trusted.returncode == 0 and "recorded every declared metric" in trusted.stdout, trusted.stderr[-2000:]
