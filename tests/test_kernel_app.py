"""aisci's kernel app (ipykernel without the shutdown that hangs): a node's kernel ends on
the shutdown request, so the interpreter's own exit work (flushing the notebook's open
files) happens, plain and in the sandbox; the kernel imports a node's own modules, not aisci's."""

from __future__ import annotations

import sys

import pytest

from aisci.execution import bubblewrap, build
from aisci.execution.execute import execute_notebook
from aisci.execution.kernel import KERNEL_APP, with_kernel_app
from aisci.execution.sandbox import SandboxSettings

# flushed when the interpreter finalizes, after ipykernel's exit handlers (where the hang
# was): a kernel ended by SIGTERM or SIGKILL leaves the file empty
AT_EXIT = """
log = open("buffered.txt", "w")
log.write("written by the notebook, flushed only when the interpreter exits")
"""
OWN_MODULE = "import build, kernel\nassert (build.VALUE, kernel.VALUE) == ('node', 'node'), (build.__file__, kernel.__file__)"


def run_node(folder, sandbox):
    folder.mkdir(parents=True)
    # modules named like aisci's own (aisci/execution/build.py, kernel.py): the node's must win
    (folder / "build.py").write_text("VALUE = 'node'\n")
    (folder / "kernel.py").write_text("VALUE = 'node'\n")
    nb = build.notebook("exit", build.AISCI_AUTHOR)
    nb.cells += [build.code(OWN_MODULE), build.code(AT_EXIT)]
    build.write(nb, folder / "nb.ipynb")
    return execute_notebook(folder / "nb.ipynb", folder / "nb.ipynb", cwd=folder, timeout_s=60, sandbox=sandbox)


def test_ipykernels_launcher_becomes_the_kernel_app_and_other_kernels_stay():
    assert with_kernel_app(["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "c.json"]) == [
        "/usr/bin/python3", str(KERNEL_APP), "-f", "c.json"]
    assert with_kernel_app(["python", "-X", "utf8", "-m", "ipykernel", "-f", "c.json"]) == [
        "python", "-X", "utf8", str(KERNEL_APP), "-f", "c.json"]
    other = ["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"]
    assert with_kernel_app(other) == other
    assert KERNEL_APP.is_file()


def test_the_kernel_exits_on_its_own_and_its_exit_work_is_done(tmp_path):
    # the hang it fixes struck one shutdown in three to ten, by load: several nodes make a regression show
    for i in range(4):
        folder = tmp_path / f"node-{i}"
        result = run_node(folder, sandbox=None)
        assert result.ok, result.reason
        assert (folder / "buffered.txt").read_text().startswith("written by the notebook"), \
            f"node {i}: the kernel was killed at shutdown"


@pytest.mark.skipif(not sys.platform.startswith("linux") or bubblewrap.problem() is not None,
                    reason=f"bubblewrap cannot run here: {bubblewrap.problem()}")
def test_a_sandboxed_kernel_exits_on_its_own_too(tmp_path):
    for i in range(2):
        folder = tmp_path / f"node-{i}"
        result = run_node(folder, sandbox=SandboxSettings(memory_mb=4096, cpu_seconds=120, max_processes=128))
        assert result.ok and result.sandbox == "bubblewrap", result.reason
        assert (folder / "buffered.txt").read_text().startswith("written by the notebook"), \
            f"node {i}: the kernel was killed at shutdown"
