"""The jupyterlab-aisci sidebar in real JupyterLab with Debian chromium: open it; create a study
from the launcher card's dialog with gate policy `stop`; run it to the ideas gate; approve one
idea from the sidebar; run (deciding at each later gate) to the end; open a node notebook from the
tree (its tab names idea and node); open the PDF; no errors in the console."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package (scripts/install.sh)")

from tests.browser.test_browser_lab import assert_console_clean, wait_for
from tests.conftest import TOY_TEMPLATE

pytestmark = pytest.mark.slow  # JupyterLab, chromium and a toy study run by gates: a few minutes

STUDY = "lab-study"
SIDEBAR = "#aisci-studies"
CARD = f'{SIDEBAR} .aisci-study[data-study="{STUDY}"]'


def open_sidebar(page, lab, workspace: str) -> None:
    page.goto(f"{lab.url}/lab/workspaces/{workspace}")
    tab = page.locator('.jp-SideBar [data-id="aisci-studies"]')
    try:
        tab.wait_for(timeout=60_000)
    except Exception:  # noqa: BLE001 — a checkout that never built the frontend
        pytest.skip("the jupyterlab-aisci frontend is not installed or built (jlpm build in extensions/jupyterlab-aisci)")
    if not page.locator(SIDEBAR).is_visible():
        tab.click()
    page.locator(f"{SIDEBAR} .aisci-sidebar-header").wait_for(timeout=30_000)


def phase_state(page, phase: str) -> str | None:
    return page.locator(f'{CARD} .aisci-phase[data-phase="{phase}"]').get_attribute("data-state")


def decisions(lab) -> list[dict]:
    path = lab.root / STUDY / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_sidebar_new_study_gates_tree_and_pdf(page, lab, artifacts):
    open_sidebar(page, lab, "sidebar")
    page.screenshot(path=str(artifacts / "sidebar_01_empty.png"))

    # the launcher's card opens the new-study dialog
    page.locator('.jp-LauncherCard[data-category="aisci"]').first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=30_000)
    dialog.locator(".aisci-field-folder").fill(STUDY)
    dialog.locator(".aisci-field-template").select_option("")
    dialog.locator(".aisci-field-template-folder").fill(str(TOY_TEMPLATE))
    dialog.locator(".aisci-field-topic").fill("learning rate on a toy fit")
    dialog.locator(".aisci-field-model").fill("openai:gpt-4o-mini")
    dialog.locator(".aisci-model-needs:has-text('OPENAI_API_KEY')").wait_for(timeout=10_000)
    dialog.screenshot(path=str(artifacts / "sidebar_02_new_study_dialog_model_key.png"))
    dialog.locator(".aisci-field-model").fill("offline")
    dialog.locator(".aisci-model-needs:has-text('offline engine')").wait_for(timeout=10_000)
    dialog.locator(".aisci-field-gates").select_option("stop")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="hidden", timeout=60_000)
    card = page.locator(CARD)
    card.wait_for(timeout=120_000)  # created on the server (what `aisci init` does), then listed
    assert 'ideas = "stop"' in (lab.root / STUDY / "aisci.toml").read_text()
    card.locator(".aisci-study-header").click()  # the tree, the gates and the log
    card.locator(".aisci-run").click()
    card.locator(".aisci-progress.aisci-mod-running").wait_for(timeout=60_000)  # the run's study-level progress
    page.locator(SIDEBAR).screenshot(path=str(artifacts / "sidebar_03a_running.png"))
    page.locator(f".aisci-statusbar:has-text('aisci: {STUDY} ·')").wait_for(timeout=30_000)  # study · phase · tokens · $
    page.wait_for_function(
        f"""() => document.querySelector('{CARD} .aisci-phase[data-state="waiting"]') !== null""", timeout=300_000)
    gate = card.locator('.aisci-gate[data-gate="ideas"]')
    gate.wait_for(timeout=30_000)
    assert gate.locator(".aisci-gate-item").count() == 3
    # the study's events reach the sidebar through the long poll on its event log
    card.locator(".aisci-live li:has-text('the ideas gate waits for you')").wait_for(timeout=30_000)
    page.locator(SIDEBAR).screenshot(path=str(artifacts / "sidebar_03_ideas_gate.png"))

    chosen = gate.locator(".aisci-gate-item").nth(1).get_attribute("data-item")
    gate.locator(".aisci-reason").fill("the cheaper idea first")
    gate.locator(f'.aisci-gate-item[data-item="{chosen}"] .aisci-approve').click()
    entry = wait_for(lambda: decisions(lab), 20, "the decision in decisions.jsonl")[-1]
    assert entry["gate"] == "ideas" and entry["action"] == "approve" and entry["items"] == [chosen]
    assert entry["by"] == "jupyterlab" and entry["note"] == "the cheaper idea first"
    card.locator(f".aisci-live li:has-text('approve {chosen} at the ideas gate (jupyterlab)')").wait_for(timeout=30_000)

    # run on; each later `stop` gate waits in turn: approve its first item and run again
    for _ in range(6):
        card.locator(".aisci-run:not([disabled])").click()
        card.locator(".aisci-badge.aisci-mod-running").wait_for(timeout=60_000)  # the new run, not the last one's end
        page.wait_for_function(
            f"""() => {{ const c = document.querySelector('{CARD}');
                         return c && !c.querySelector('.aisci-badge.aisci-mod-running')
                           && (c.querySelector('.aisci-phase[data-state="waiting"]') || c.querySelector('.aisci-review')
                               || c.querySelector('.aisci-phase[data-state="failed"]')); }}""", timeout=400_000)
        assert card.locator('.aisci-phase[data-state="failed"]').count() == 0, card.inner_text()
        waiting = card.locator(".aisci-gate").first
        if card.locator('.aisci-phase[data-state="waiting"]').count() == 0:
            break
        waiting.wait_for(timeout=30_000)
        name = waiting.get_attribute("data-gate")
        waiting.locator(".aisci-approve").first.click()
        wait_for(lambda: decisions(lab)[-1]["gate"] == name, 20, f"the {name} decision")
        page.wait_for_function(f"""() => !document.querySelector('{CARD} .aisci-gate[data-gate="{name}"]')""", timeout=30_000)
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{CARD} .aisci-phase')].every(p => p.dataset.state === 'done')""",
        timeout=60_000)
    assert [d["gate"] for d in decisions(lab)][:2] == ["ideas", "novelty"]
    card.locator(".aisci-tree .aisci-node.aisci-mod-best").wait_for(timeout=30_000)
    assert "aisci:" in page.locator(".aisci-statusbar").inner_text()
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first.bounding_box()
    if handle:  # a wider sidebar for the screenshot (the README shows it)
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + 300)
        page.mouse.down()
        page.mouse.move(handle["x"] + 180, handle["y"] + 300, steps=5)
        page.mouse.up()
    page.locator(SIDEBAR).screenshot(path=str(artifacts / "sidebar_04_finished_study.png"))
    page.screenshot(path=str(artifacts / "sidebar_05_page.png"))

    # a node from the tree opens in a tab named after its idea and node
    node = card.locator(".aisci-tree .aisci-node[data-status='done']").nth(1)
    node_id = node.get_attribute("data-node")
    node.click()
    idea, name = node_id.split("/")
    page.locator(".lm-TabBar-tab", has_text=f"{idea} · {name}").wait_for(timeout=30_000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
    page.screenshot(path=str(artifacts / "sidebar_06_node_notebook.png"))

    # the paper opens in JupyterLab's PDF viewer
    paper = card.locator(".aisci-paper")
    if paper.get_attribute("data-pdf") == "none":
        assert shutil.which("pdflatex") is None  # only a machine without LaTeX has no PDF
        pytest.skip("no LaTeX here: the study has no PDF to open")
    # the sidebar names the PDF that matches the sections: the final paper, or the draft
    final = paper.get_attribute("data-pdf") == "final"
    pdf = "paper.pdf" if final else "paper-draft.pdf"
    assert (lab.root / STUDY / "paper" / pdf).exists() and f"open {pdf}" in paper.inner_text()
    card.locator(".aisci-open-pdf").click()
    page.locator(".lm-TabBar-tab", has_text=pdf).wait_for(timeout=30_000)
    page.wait_for_timeout(3000)
    page.screenshot(path=str(artifacts / "sidebar_07_pdf.png"))
    assert_console_clean(page)
