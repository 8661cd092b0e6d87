import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fake_llm_server"]

TOY_TEMPLATE = Path(__file__).parent / "fixtures" / "toy"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("AISCI_NO_PROGRESS", "1")


@pytest.fixture
def toy_template() -> Path:
    return TOY_TEMPLATE


def sandbox_processes(under: Path) -> list[int]:
    """Live processes of a sandbox working under `under` (other tests may run sandboxes at the
    same time): the launcher, bubblewrap, the kernel and its children all carry the run marker
    in their environment. Seen from here: inside, a kernel has pids of its own namespace."""
    from aisci.execution.sandbox import RUN_MARKER_ENV

    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if RUN_MARKER_ENV.encode() not in Path(f"/proc/{entry}/environ").read_bytes():
                continue
            if not os.readlink(f"/proc/{entry}/cwd").startswith(str(under)):
                continue
            if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry))
        except OSError:
            pass
    return found


def pytest_collection_modifyitems(config, items):
    """Only the tests marked load_dependent get one retry (pytest-rerunfailures' flaky marker)."""
    for item in items:
        if item.get_closest_marker("load_dependent") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


_RERUN: list[str] = []


def pytest_runtest_logreport(report):
    if report.outcome == "rerun":
        _RERUN.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    """Flakiness stays visible: name every test that passed or failed only after a rerun."""
    if _RERUN:
        terminalreporter.section("tests that needed a rerun")
        for nodeid in dict.fromkeys(_RERUN):
            terminalreporter.write_line(f"RERUN {nodeid}")
