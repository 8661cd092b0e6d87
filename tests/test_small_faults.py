"""Small faults found by using aisci as a new user would (issue 19), each with its test here or
beside the code it concerns (template validation, ideation, disclosure, status, paper wording)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLAKY = '''
import pytest
from pathlib import Path

@pytest.mark.load_dependent
def test_passes_the_second_time(tmp_path_factory):
    marker = Path(__file__).with_suffix(".ran")
    if not marker.exists():
        marker.write_text("once")
        raise AssertionError("missed a deadline")

def test_fails_the_first_time_unmarked():
    marker = Path(__file__).with_suffix(".ran2")
    if not marker.exists():
        marker.write_text("once")
        raise AssertionError("flaky, and not marked")
'''


def test_only_load_dependent_tests_are_rerun_and_each_rerun_is_named(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems, pytest_runtest_logreport, "
        "pytest_terminal_summary  # noqa: F401\n"
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'load_dependent: retried once')\n")
    (tmp_path / "test_flaky.py").write_text(FLAKY)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "-c", os.devnull, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    out = done.stdout
    assert "1 failed, 1 passed, 1 rerun" in out, out
    assert "tests that needed a rerun" in out and "RERUN test_flaky.py::test_passes_the_second_time" in out
    assert "RERUN test_flaky.py::test_fails_the_first_time_unmarked" not in out


def test_pyproject_applies_no_global_reruns():
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--reruns" not in options.get("addopts", "")
    assert any(m.startswith("load_dependent:") for m in options["markers"])


def test_the_widgets_draw_with_any_font():
    """No emoji (they need an emoji font; a bare JupyterLab machine shows an empty box)."""
    for path in sorted((ROOT / "aisci" / "widgets").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        emoji = sorted({c for c in text if ord(c) >= 0x1F000 or c == "\ufe0f"})
        assert not emoji, f"{path.name}: {emoji}"


def test_cell_authorship_leaves_out_papermills_cell_and_credits_the_header_to_aisci(tmp_path):
    import nbformat

    from aisci.execution import build
    from aisci.paper.notebooks import cell_authors
    from aisci.search.compose import HEADER_ROLE, PERSON

    nb = build.notebook("Node", build.AISCI_AUTHOR)
    nb.cells = [build.markdown("> **Edited by a person**", PERSON, role=HEADER_ROLE),
                nbformat.v4.new_code_cell("lr = 0.3", metadata={"tags": ["injected-parameters"]}),
                build.code("x = 1", "offline-engine"), build.code("y = 2", PERSON)]
    path = tmp_path / "node.ipynb"
    nbformat.write(nb, str(path))
    assert dict(cell_authors(path)) == {"aisci": 1, "offline-engine": 1, PERSON: 1}


def test_the_paper_and_figures_use_the_manifests_words_not_identifiers():
    from aisci.writeup.facts import offline_title
    from aisci.manifest import load_template, prose_name

    diffusion = load_template("2d_diffusion").manifest
    assert offline_title(diffusion, ["beta_schedule", "num_timesteps"]).endswith(
        ": how the noise schedule and the number of diffusion steps move the sliced Wasserstein distance")
    # no label: the first clause of the description, not the column name the contract requires
    assert prose_name("final_val_acc", "", "accuracy on the test set after the last step (1.0 = all right)") == \
        "accuracy on the test set after the last step"
    assert prose_name("final_a", "", "the learned coefficient") == "learned coefficient"
    assert prose_name("x_y", "", "") == "x y"
