"""Real JupyterLab on 127.0.0.1 (token-less, a random free port, a temporary root) driven by
Debian's chromium through Playwright — never a downloaded browser. Screenshots are kept in
the artifacts folder printed at the end of the run (AISCI_ARTIFACTS overrides where)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS_BASE = Path(os.environ.get("AISCI_ARTIFACTS", Path(tempfile.gettempdir()) / "aisci-artifacts"))
ARTIFACTS: Path | None = None  # one folder per test run (several runs may share a machine)


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; scripts/install.sh does it)"
    for module, package in (("playwright.sync_api", "playwright"), ("jupyterlab", "jupyterlab")):
        try:
            __import__(module)
        except ImportError:
            return f"the {package} package is missing (pip install {package}; scripts/install.sh does it)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "jupyterlab-aisci"


def extension_setup(base: Path) -> tuple[str, dict]:
    """Config lines and environment that load jupyterlab-aisci: built in this checkout (`jlpm build`
    in extensions/jupyterlab-aisci), found through PYTHONPATH and JUPYTER_PATH, so the code tested is
    the checkout's; or else installed (pip, as CI and Binder do: install.sh builds no copy in place)."""
    import importlib.util

    env: dict[str, str] = {}
    built = EXTENSION / "jupyterlab_aisci" / "labextension"
    if (built / "package.json").exists():
        data = base / "data"
        (data / "labextensions").mkdir(parents=True)
        (data / "labextensions" / "jupyterlab-aisci").symlink_to(built)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXTENSION), os.environ.get("PYTHONPATH")]))
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(data), os.environ.get("JUPYTER_PATH")]))
    elif importlib.util.find_spec("jupyterlab_aisci") is None:
        return "", env
    return "c.ServerApp.jpserver_extensions = {'jupyterlab_aisci': True}\n", env


@dataclass
class Lab:
    url: str
    root: Path
    process: subprocess.Popen
    log: Path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    global ARTIFACTS
    ARTIFACTS_BASE.mkdir(parents=True, exist_ok=True)
    ARTIFACTS = Path(tempfile.mkdtemp(prefix=time.strftime("browser-%Y%m%d-%H%M%S-"), dir=ARTIFACTS_BASE))
    return ARTIFACTS


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(f"browser tests need chromium, playwright and jupyterlab: {reason}")
    base = tmp_path_factory.mktemp("lab")
    root, runtime = base / "root", base / "runtime"
    root.mkdir()
    port = _free_port()
    config = base / "jupyter_test_config.py"
    extension_config, extension_env = extension_setup(base)
    config.write_text(
        "from jupyterlab.galata import configure_jupyter_server\n"
        "configure_jupyter_server(c)  # token-less, no xsrf check, app exposed to the page: tests only\n"
        f"c.ServerApp.ip = '127.0.0.1'\nc.ServerApp.port = {port}\nc.ServerApp.root_dir = {str(root)!r}\n"
        f"c.LabApp.user_settings_dir = {str(base / 'settings')!r}\nc.ServerApp.open_browser = False\nc.ServerApp.allow_root = True  # CI runs as root\nc.LabApp.news_url = None\nc.LabApp.check_for_updates_class = "
        "'jupyterlab.NeverCheckForUpdate'\n" + extension_config)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(base / "config"),
           "AISCI_NO_PROGRESS": "1", **extension_env}
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "get notified about Jupyter news?" toast over the screenshots
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = base / "jupyterlab.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "jupyterlab", f"--config={config}"], cwd=root, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"JupyterLab did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    try:
        yield Lab(url, root, process, log)
    finally:
        try:  # the server stops its kernels on shutdown
            urllib.request.urlopen(urllib.request.Request(f"{url}/api/shutdown", method="POST"), timeout=10)
            process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        if ARTIFACTS is not None:
            shutil.copyfile(log, ARTIFACTS / "jupyterlab.log")


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser, artifacts, request):
    """A fresh page whose console errors (and uncaught exceptions) are collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console = Console()
    page.on("console", lambda m: (console.messages.append(f"{m.type}: {m.text}"),
                                  console.errors.append(m.text) if m.type == "error" else None))
    page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    page.console = console
    yield page
    try:  # the page as the test left it: the first thing to look at when one fails
        page.screenshot(path=str(artifacts / f"{request.node.name}.final.png"), full_page=True)
    except Exception as exc:  # noqa: BLE001 — a crashed page has no screenshot; the console log below still helps
        console.messages.append(f"(no final screenshot: {exc})")
    (artifacts / f"{request.node.name}.console.json").write_text(json.dumps(console.messages, indent=1))
    context.close()


def pytest_terminal_summary(terminalreporter):
    if ARTIFACTS is not None and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"browser test artifacts (screenshots, console, server log): {ARTIFACTS}")
