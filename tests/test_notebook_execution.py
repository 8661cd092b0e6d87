"""Notebooks run through papermill in the allow-listed kernel: no secrets, a wall-time limit,
failures reported, records read back."""

from __future__ import annotations

from aisci.execution import build
from aisci.execution.execute import execute_notebook
from aisci.execution.kernel import kernel_env
from aisci.records import read_records


def run_cells(tmp_path, *sources, timeout_s=30, parameters=None):
    nb = build.notebook("test", build.AISCI_AUTHOR)
    nb.cells.append(build.parameters_cell({"x": 1}))
    nb.cells += [build.code(s) for s in sources]
    path = tmp_path / "nb.ipynb"
    build.write(nb, path)
    result = execute_notebook(path, path, cwd=tmp_path / "work", timeout_s=timeout_s, parameters=parameters)
    return result, build.read(path)


def outputs_text(nb) -> str:
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells for o in c.get("outputs", []))


def test_kernel_sees_no_secrets(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "GITHUB_TOKEN", "MY_SECRET", "DB_PASSWORD", "S2_API_KEY"):
        monkeypatch.setenv(name, "hunter2-" + name)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:hunter2@h/db")  # a secret in a harmless-looking name
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    result, nb = run_cells(tmp_path, "import os\nprint(dict(os.environ))")
    assert result.ok
    text = outputs_text(nb)
    assert "hunter2" not in text and "DATABASE_URL" not in text and "'OMP_NUM_THREADS': '3'" in text
    assert "hunter2" not in (tmp_path / "nb.ipynb").read_text()


def test_the_environment_is_an_allow_list():
    base = {"OPENAI_API_KEY": "k", "DATABASE_URL": "postgres://u:p@h/db", "PATH": "/bin", "LC_ALL": "C.UTF-8",
            "DATA_ROOT": "/data", "HF_TOKEN": "t", "HOME": "/home/me"}
    env = kernel_env(base, declared=["DATA_ROOT", "HF_TOKEN"])
    assert env["PATH"] == "/bin" and env["LC_ALL"] == "C.UTF-8" and env["DATA_ROOT"] == "/data"
    assert not {"OPENAI_API_KEY", "DATABASE_URL", "HF_TOKEN"} & set(env), "a declared credential is still refused"
    assert env["HOME"] == "/home/me" and "HOME" not in kernel_env(base, sandboxed=True)


def test_kernel_works_in_the_given_folder(tmp_path):
    result, nb = run_cells(tmp_path, "import os\nprint(os.getcwd())\nopen('made-here.txt', 'w').write('x')")
    assert result.ok and (tmp_path / "work" / "made-here.txt").exists()


def test_a_notebook_past_its_limit_is_timed_out(tmp_path):
    result, _ = run_cells(tmp_path, "import time\ntime.sleep(60)", timeout_s=2)
    assert result.status == "timed_out" and "2 s" in result.reason and result.duration_s < 30


def test_many_short_cells_cannot_dodge_the_wall_time_limit(tmp_path):
    cells = ["import time\ntime.sleep(0.8)"] * 8  # each cell is under the limit, the notebook is not
    result, _ = run_cells(tmp_path, *cells, timeout_s=3)
    assert result.status == "timed_out"


def test_an_error_is_reported_with_the_failing_cell(tmp_path):
    result, nb = run_cells(tmp_path, "a = 1", "raise ValueError('broken on purpose')")
    assert result.status == "failed" and "ValueError: broken on purpose" in result.reason
    assert nb.metadata["aisci"]["execution"]["status"] == "failed"


def test_records_round_trip_with_provenance(tmp_path):
    result, _ = run_cells(tmp_path, "import aisci, numpy as np\naisci.record('acc', np.float32(0.5), unit='%')\n"
                                    "aisci.record('steps', x * 10)", parameters={"x": 7})
    assert result.ok
    records = {r.name: r for r in read_records(tmp_path / "nb.ipynb")}
    assert records["acc"].value == 0.5 and records["acc"].unit == "%"
    assert records["steps"].value == 70 and records["steps"].cell_index is not None
