"""In real JupyterLab: run 00_quickstart.ipynb, see the idea panel, click Approve and find the
decision in decisions.jsonl; edit a generated experiment notebook inline, save, rerun the
study and find the edit in the tree; no errors in the browser console."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package (scripts/install.sh)")
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from aisci.phase_notebooks import path as notebook_path
from tests.conftest import TOY_TEMPLATE
from tests.lab_server import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.load_dependent]  # JupyterLab, chromium and a toy study: about two minutes

STUDY = "quickstart-study"


SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show (other tabs stay in the DOM)


def open_notebook(page, lab, relative: str, workspace: str) -> None:
    """Open a notebook in a workspace of its own, so no tab of an earlier test is restored."""
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{relative}")
    page.wait_for_selector(f"{SHOWN} .jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(f'{SHOWN} .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=60_000)
    dialog = page.locator(".jp-Dialog")
    try:  # JupyterLab may ask which kernel to start: take the one it proposes (the notebook's python3)
        dialog.wait_for(state="visible", timeout=5_000)
    except PlaywrightTimeout:
        return
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="hidden", timeout=10_000)
    page.wait_for_selector(f'{SHOWN} .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=60_000)


def assert_console_clean(page) -> None:
    assert page.console.errors == [], page.console.errors


@pytest.fixture(scope="module")
def quickstart(lab):
    """The shipped quickstart, its parameters pointed at the fast toy template."""
    nb = nbformat.read(str(notebook_path("00_quickstart.ipynb")), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = (f"study_dir = {STUDY!r}\ntemplate = {str(TOY_TEMPLATE)!r}\n"
                   "topic = 'learning rate on a toy fit'\nllm = None\n"
                   "sandbox = 'bubblewrap'\nsandbox_reason = ''")
    nbformat.write(nb, str(lab.root / "00_quickstart.ipynb"))
    return lab.root / "00_quickstart.ipynb"


def test_quickstart_runs_and_an_approve_click_lands_in_decisions(page, lab, quickstart, artifacts):
    shutil.rmtree(lab.root / STUDY, ignore_errors=True)  # a rerun starts from no study, as the first try did
    open_notebook(page, lab, quickstart.name, "quickstart")
    page.click('.lm-MenuBar-itemLabel:text-is("Run")')
    page.click('li[data-command="runmenu:run-all"]')
    panel = page.locator(".aisci-ideas-panel")
    panel.wait_for(state="visible", timeout=300_000)
    page.locator(".aisci-paper-view").wait_for(state="visible", timeout=120_000)  # the last cell ran too
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(artifacts / "01_quickstart_idea_panel.png"))
    assert panel.locator(".aisci-idea-card").count() == 3
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0

    decisions = lab.root / STUDY / "decisions.jsonl"
    assert decisions.read_text() == ""
    panel.locator(".aisci-idea-card").nth(1).locator(".aisci-approve").click()
    entry = wait_for(lambda: [json.loads(line) for line in decisions.read_text().splitlines()], 20,
                     "the decision in decisions.jsonl")[-1]
    assert entry["gate"] == "ideas" and entry["action"] == "approve" and entry["by"] == "panel"
    assert len(entry["items"]) == 1 and entry["after"] == entry["items"] and len(entry["before"]) == 2
    page.locator(".aisci-ideas-panel:has-text('approved by you')").wait_for(timeout=20_000)  # the panel shows it
    page.locator(".aisci-ideas-panel").screenshot(path=str(artifacts / "02_after_approve.png"))
    page.screenshot(path=str(artifacts / "03_quickstart_page.png"))
    for number, name in enumerate(("experiments", "figures", "paper", "review"), start=4):
        other = page.locator(f".aisci-{name}-panel")
        assert other.count() == 1, name
        other.evaluate("element => element.scrollIntoView({block: 'start'})")  # tall panels: their top in view
        page.screenshot(path=str(artifacts / f"{number:02d}_{name}_panel.png"))
    # the experiments panel's link opens the selected node's notebook inside JupyterLab
    page.locator(".aisci-experiments-panel a", has_text="Open the notebook").click()
    # the tab is titled "<idea> · <node>" (the extension names node notebooks), not experiment.ipynb
    page.locator(".lm-TabBar-tab", has_text=" · node-").wait_for(timeout=30_000)
    page.wait_for_selector(f"{SHOWN} .jp-Cell", timeout=30_000)
    page.screenshot(path=str(artifacts / "08_node_notebook_opened_from_the_panel.png"))
    assert_console_clean(page)


def test_an_inline_edit_of_an_experiment_notebook_becomes_a_human_node(page, lab, quickstart, artifacts):
    study = lab.root / STUDY
    if not (study / "experiments" / "summary.json").exists():
        pytest.skip("needs the study the quickstart test runs")
    summary = json.loads((study / "experiments" / "summary.json").read_text())
    approved = [json.loads(line) for line in (study / "decisions.jsonl").read_text().splitlines()][-1]["items"]
    node = next(n for n in summary["nodes"] if n["idea"] in approved)  # the idea the study goes on with
    relative = f"{STUDY}/{node['notebook']}"
    open_notebook(page, lab, relative, "edit-node")

    # the editor of the parameters cell, in the notebook on show (the quickstart's tab stays in the DOM)
    parameters = page.locator(f"{SHOWN} .jp-CodeCell .jp-InputArea-editor", has_text="steps = ").first
    parameters.scroll_into_view_if_needed()
    parameters.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.type("lr = 0.3\nsteps = 10\nseed = 0\npause_s = 0.0")
    page.keyboard.press("Escape")
    parameters.screenshot(path=str(artifacts / "09_edited_parameters_cell.png"))
    page.keyboard.press("Control+s")
    path = study / node["notebook"]
    wait_for(lambda: "steps = 10" in path.read_text(), 20, "the saved notebook")
    page.screenshot(path=str(artifacts / "10_experiment_notebook_saved.png"))
    assert_console_clean(page)

    run = subprocess.run([sys.executable, "-m", "aisci", "run", str(study), "--quiet"], capture_output=True, text=True, check=False,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    nodes = [json.loads(p.read_text()) for p in (study / "experiments").rglob("node.json")]
    human = [n for n in nodes if n.get("kind") == "human"]
    assert len(human) == 1 and human[0]["parent"] == node["id"] and human[0]["status"] == "done", nodes
    edited = nbformat.read(str(study / human[0]["notebook"]), as_version=4)
    assert any("steps = 10" in c.source for c in edited.cells if c.cell_type == "code")
