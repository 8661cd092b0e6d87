"""The writeup driven by a scripted model on the local fake server: a wrong number, a claim
about an experiment never run, an invented citation key and a mis-attributed LSTM are each
caught; the fix task is handed the problem; a LaTeX error goes back to it and is fixed
within the round limit."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from aisci.llm.store import CallStore
from aisci.paper.compile import tex_available
from aisci.paper.sections import SECTIONS as SECTION_NAMES, read_section
from aisci.phases import writeup
from aisci.writeup.tasks import DRAFT_ORDER
from aisci.runner import make_context, run_study
from aisci.study import Study
from tests.fake_llm_server import reply
from tests.study_helpers import drafted_section, set_config

pytestmark = pytest.mark.slow  # one toy study to the analysis (shared), then writeup runs only

GOODFELLOW = """@book{goodfellow2016deep,
  title = {Deep Learning},
  author = {Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron},
  publisher = {MIT Press},
  year = {2016}
}
"""
SECTIONS = {
    "method": "Each run fits $y = a x^2$ by gradient descent on noisy samples, as the template's notebook does; "
              "a variant changes the learning rate \\texttt{lr} and nothing else.",
    "experimental_setup": "Every notebook ran with a wall-time limit of 300 seconds; the baseline uses "
                               "\\texttt{lr} $= 0.1$ for 20 steps.",
    "title": "Learning rates on a toy fit",
    "abstract": "We vary the learning rate of a toy fit. The best run reaches \\RAnalysisBestFinalLoss.",
    "introduction": "Step sizes matter~\\cite{robbins1951stochastic}. Section~\\ref{sec:results} reports what we "
                    "found.",
    "related_work": "Stochastic approximation~\\cite{robbins1951stochastic} studies step sizes.",
    "results": "Table~\\ref{tab:results} lists every run. Figure~\\ref{fig:primary_metric} compares the runs and "
               "Figure~\\ref{fig:curves} shows their curves. The baseline reaches \\RAnalysisBaselineFinalLoss and "
               "the best run \\RAnalysisBestFinalLoss.",
    "discussion": "A larger step size helps on this problem.",
    "limitations": "Every configuration ran once, so the differences may be noise.",
    "conclusion": "The learning rate moves the final loss of a toy fit.",
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> Path:
    """A toy study run by the offline engine up to the analysis; each test works on a copy."""
    root = tmp_path_factory.mktemp("writeup-model") / "study"
    Study.create(root, str(Path(__file__).parent / "fixtures" / "toy"), "learning rate on a toy fit")
    run_study(Study.open(root), until="analysis", say=lambda m: None)
    return root


@pytest.fixture
def study(analysed, tmp_path, fake_llm, monkeypatch) -> Path:
    root = tmp_path / "study"
    shutil.copytree(analysed, root)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    set_config(root, "llm", roles={"writeup": f"openai:fake-model@{fake_llm.base_url}"}, max_retries=0)
    set_config(root, "paper", compile=False)
    return root


def task_of(request) -> str:
    return request.body["response_format"]["json_schema"]["name"]


def prompt_of(request) -> str:
    return request.body["messages"][-1]["content"]


def section_text(prompt: str) -> str:
    return prompt.split("---\n", 1)[1].split("\n---", 1)[0]


def scripted(fake_llm, sections: dict | None = None, fix=None, first: dict | None = None) -> None:
    """The model: a fixed answer per section (`sections` overrides some), `fix(prompt)` answers the
    fix task; `first` maps a section to a step the server answers its first request with."""
    pending = dict(first or {})

    def respond(request: dict):
        task = request["response_format"]["json_schema"]["name"]
        name = drafted_section(task)
        if name in pending:
            return pending.pop(name)
        if name is not None:
            return reply({name: {**SECTIONS, **(sections or {})}[name]})
        if task == "writeup_fix" and fix is not None:
            return reply({"text": fix(request["messages"][-1]["content"])})
        raise AssertionError(f"unexpected task {task}")
    fake_llm.respond_with(respond)


def run_writeup(root: Path) -> dict:
    writeup.run(make_context(Study.open(root), say=lambda m: None))
    return json.loads((root / "paper" / "checks.json").read_text())


def open_findings(checks: dict, check: str) -> list[dict]:
    return [f for f in checks["findings"] if f["check"] == check and not f["ok"]]


def test_clean_model_draft_passes_every_check(study, fake_llm):
    scripted(fake_llm)
    checks = run_writeup(study)
    assert checks["open"] == 0, [f["detail"] for f in checks["findings"] if not f["ok"]]
    # one call per section, each its own task and schema, in the drafting order
    assert [task_of(r) for r in fake_llm.requests] == [f"writeup_{n}" for n in DRAFT_ORDER]
    assert sorted(DRAFT_ORDER) == sorted(SECTION_NAMES)
    method_prompt = prompt_of(next(r for r in fake_llm.requests if task_of(r) == "writeup_method"))
    assert "## cell" in method_prompt and "random.seed(seed)" in method_prompt  # the baseline notebook's code
    # a section is written from the sections before it, so the paper reads as one text
    prompts = {task_of(r): prompt_of(r) for r in fake_llm.requests}
    assert SECTIONS["method"] in prompts["writeup_results"] and SECTIONS["results"] in prompts["writeup_abstract"]
    assert SECTIONS["abstract"] in prompts["writeup_title"] and SECTIONS["conclusion"] not in prompts["writeup_results"]
    caps = {task_of(r): r.body.get("max_tokens") for r in fake_llm.requests}
    assert caps["writeup_title"] < caps["writeup_abstract"] < caps["writeup_results"]  # sized per section
    sections = json.loads((study / "paper" / "sections.json").read_text())
    assert all(sections[n]["author"] == "model:fake-model" and len(sections[n]["calls"]) == 1 for n in SECTION_NAMES)
    assert len({sections[n]["calls"][0] for n in SECTION_NAMES}) == len(SECTION_NAMES)
    assert "Drafted by fake-model" in (study / "paper" / "main.tex").read_text()

    # nothing changed: every section's call is answered by the store, nothing reaches the server
    sent = fake_llm.request_count
    run_writeup(study)
    assert fake_llm.request_count == sent
    # a person rewrites the conclusion: only the sections whose prompts show it are asked again
    # (this model answers them as before, so related work and the title, written from those, replay)
    conclusion = study / "paper" / "sections" / "conclusion.tex"
    conclusion.write_text(conclusion.read_text().replace("moves the final loss", "changes the final loss"))
    run_writeup(study)
    asked = [task_of(r) for r in fake_llm.requests[sent:]]
    assert asked == ["writeup_introduction", "writeup_abstract"]
    assert "changes the final loss" in prompt_of(fake_llm.requests[sent])


def test_wrong_number_is_flagged_and_fixed_by_the_model(study, fake_llm):
    wrong = SECTIONS["results"] + " The high learning rate reaches an accuracy of 0.95."
    fixed = SECTIONS["results"]
    scripted(fake_llm, {"results": wrong}, fix=lambda prompt: fixed)
    checks = run_writeup(study)
    fix_prompts = [prompt_of(r) for r in fake_llm.requests if task_of(r) == "writeup_fix"]
    assert len(fix_prompts) == 1 and "[number] the number 0.95 matches no record" in fix_prompts[0]
    assert 'The section "results" currently reads' in fix_prompts[0]  # its own fix round, no other section's
    assert "\\RAnalysisBestFinalLoss = " in fix_prompts[0]  # the macros it may use instead
    # the fix follows the section's own call, before any later section is written from it
    order = [task_of(r) for r in fake_llm.requests]
    assert order[order.index("writeup_results") + 1] == "writeup_fix"
    assert len(order) == len(DRAFT_ORDER) + 1
    later = [prompt_of(r) for r in fake_llm.requests if task_of(r) in ("writeup_discussion", "writeup_abstract")]
    assert all(fixed in p and "0.95" not in p for p in later)
    assert checks["open"] == 0
    fixed_findings = [f for f in checks["findings"] if f["check"] == "number"]
    assert fixed_findings and all(f["status"] == "fixed" and f["section"] == "results" for f in fixed_findings)
    assert "0.95" not in (study / "paper" / "sections" / "results.tex").read_text()
    sections = json.loads((study / "paper" / "sections.json").read_text())
    assert sections["results"]["revisions"] == 1
    assert all(sections[n]["revisions"] == 0 for n in SECTION_NAMES if n != "results")
    assert "revised 1 time by the same model" in (study / "paper" / "paper.md").read_text()
    # the disclosure names the calls that wrote the section, and each leads to what the model was asked
    draft_call, fix_call = sections["results"]["calls"]
    store = CallStore(study / "llm" / "calls.sqlite")
    assert store.get(draft_call).task == "writeup.results" and store.get(fix_call).task == "writeup.fix"
    assert f"calls {draft_call}, {fix_call} in the call store" in (study / "paper" / "paper.md").read_text()


def test_a_cut_off_section_gets_the_repair_round(study, fake_llm):
    cut = reply('{"results": "Table~\\\\ref{tab:results} lists', finish_reason="length")
    scripted(fake_llm, first={"results": cut})
    checks = run_writeup(study)
    asked = [r for r in fake_llm.requests if task_of(r) == "writeup_results"]
    assert len(asked) == 2  # the cut-off answer, then the repair round in the same conversation
    repair = asked[1].body["messages"]
    assert repair[-2]["role"] == "assistant" and "cut off at 4000 tokens" in repair[-1]["content"]
    assert [task_of(r) for r in fake_llm.requests].count("writeup_discussion") == 1  # the others: one call each
    assert checks["open"] == 0
    assert read_section(study / "paper" / "sections", "results").body.strip() == SECTIONS["results"]
    [row] = [r for r in CallStore(study / "llm" / "calls.sqlite").by_task() if r["task"] == "writeup.results"]
    assert row["calls"] == 1  # one task call in the store, its repair counted with it


def test_wrong_number_left_by_a_stubborn_model_is_reported(study, fake_llm):
    set_config(study, "paper", compile=False, fix_rounds=2)
    wrong = SECTIONS["results"] + " Its loss falls by 0.4321."
    attempts = iter(["0.4322", "0.4323", "0.4324"])
    # the model answers every fix with another made-up number
    scripted(fake_llm, {"results": wrong}, fix=lambda p: re.sub(r"0\.432\d", next(attempts), section_text(p)))
    checks = run_writeup(study)
    assert sum(task_of(r) == "writeup_fix" for r in fake_llm.requests) == 2  # bounded: fix_rounds
    [finding] = open_findings(checks, "number")
    assert finding["section"] == "results" and "0.4323" in finding["detail"]
    assert "0.4323" in (study / "paper" / "sections" / "results.tex").read_text()
    assert "left 1 problem open" in (study / "paper" / "paper.md").read_text()


def test_claim_about_an_experiment_never_run_is_flagged(study, fake_llm):
    set_config(study, "paper", compile=False, fix_rounds=0)
    claim = ("We also train a ResNet on CIFAR-10 and report the mean over five seeds; an ablation of the "
             "step count confirms it.")
    scripted(fake_llm, {"discussion": SECTIONS["discussion"] + " " + claim})
    checks = run_writeup(study)
    details = " | ".join(f["detail"] for f in open_findings(checks, "claim"))
    assert "dataset CIFAR-10" in details and "model ResNet" in details
    assert "five seeds" in details and "ablation" in details
    assert all(f["section"] == "discussion" for f in open_findings(checks, "claim"))
    # the check of the method against the code also sees the ResNet no run built
    code = open_findings(checks, "method_code")
    assert all(f["section"] == "discussion" and "ResNet" in f["detail"] for f in code)
    assert checks["open"] == len(open_findings(checks, "claim")) + len(code)


def test_a_fix_that_changes_nothing_is_not_asked_again(study, fake_llm):
    set_config(study, "paper", compile=False, fix_rounds=3)
    scripted(fake_llm, {"results": SECTIONS["results"] + " Its loss falls by 0.4321."}, fix=section_text)
    checks = run_writeup(study)
    assert sum(task_of(r) == "writeup_fix" for r in fake_llm.requests) == 1
    assert open_findings(checks, "number")


def test_chktex_warnings_go_to_the_fix_task(study, fake_llm):
    sloppy = "A larger step size helps on this problem . It is ``clear\"."

    def fix(prompt):
        assert "[chktex] chktex warning 26 at line 1: You ought to remove spaces in front of punctuation." in prompt
        return SECTIONS["discussion"]

    scripted(fake_llm, {"discussion": sloppy}, fix=fix)
    checks = run_writeup(study)
    assert checks["open"] == 0 and checks["warnings"] == 0
    assert {f["status"] for f in checks["findings"] if f["check"] == "chktex"} == {"fixed"}


def test_invented_citation_key_is_rejected_then_removed(study, fake_llm):
    set_config(study, "paper", compile=False, fix_rounds=1)
    invented = "Step sizes matter~\\cite{robbins1951stochastic,smith2023grokfast}. Section~\\ref{sec:results} says more."
    scripted(fake_llm, {"introduction": invented}, fix=section_text)  # the model keeps the invented key
    checks = run_writeup(study)
    [prompt] = [prompt_of(r) for r in fake_llm.requests if task_of(r) == "writeup_fix"]
    assert "\\cite{smith2023grokfast} is not in references.bib" in prompt
    [finding] = [f for f in checks["findings"] if f["check"] == "citation"]
    assert finding["status"] == "removed" and finding["key"] == "smith2023grokfast"
    text = (study / "paper" / "sections" / "introduction.tex").read_text()
    assert "smith2023grokfast" not in text and "\\cite{robbins1951stochastic}" in text
    assert "smith2023grokfast" not in (study / "paper" / "references.bib").read_text()
    assert checks["open"] == 0


def test_lstm_credited_to_goodfellow_is_flagged_with_the_canonical_reference(study, fake_llm):
    set_config(study, "paper", compile=False, fix_rounds=0)
    (study / "literature" / "library.bib").write_text(GOODFELLOW)
    scripted(fake_llm, {"related_work": "Recurrent models such as the LSTM (Goodfellow et al., 2016) and "
                                        "stochastic approximation~\\cite{robbins1951stochastic} inspire this work. "
                                        "An LSTM~\\cite{goodfellow2016deep} keeps a memory cell."})
    checks = run_writeup(study)
    found = open_findings(checks, "attribution")
    assert len(found) == 2
    for finding in found:
        assert "Hochreiter & Schmidhuber (1997)" in finding["detail"] and finding["key"] == "hochreiter1997long"
        assert finding["bibtex"].startswith("@article{hochreiter1997long")
    # the library's entry is in references.bib; the canonical one only offered (no fix round ran)
    bib = (study / "paper" / "references.bib").read_text()
    assert "goodfellow2016deep" in bib and "hochreiter1997long" not in bib


def test_misattribution_fix_gets_the_canonical_entry_to_cite(study, fake_llm):
    set_config(study, "paper", compile=False, fix_rounds=2)
    (study / "literature" / "library.bib").write_text(GOODFELLOW)
    bad = "We compare with an LSTM~\\cite{goodfellow2016deep}; stochastic approximation~\\cite{robbins1951stochastic}."

    def fix(prompt):
        assert "cite Hochreiter & Schmidhuber (1997) as \\cite{hochreiter1997long}" in prompt
        return section_text(prompt).replace("goodfellow2016deep", "hochreiter1997long")

    scripted(fake_llm, {"related_work": bad}, fix=fix)
    checks = run_writeup(study)
    assert checks["open"] == 0
    assert [f["status"] for f in checks["findings"] if f["check"] == "attribution"] == ["fixed"]
    assert "@article{hochreiter1997long" in (study / "paper" / "references.bib").read_text()
    provenance = {b["key"]: b["origin"] for b in checks["bibliography"]}
    assert provenance == {"robbins1951stochastic": "template", "goodfellow2016deep": "library",
                          "hochreiter1997long": "attribution-table"}


@pytest.mark.skipif(not tex_available(), reason="no LaTeX installed (latexmk or pdflatex + bibtex); CI installs TeX")
def test_latex_error_goes_back_to_the_fix_task_and_is_fixed(study, fake_llm):
    set_config(study, "paper", compile=True, fix_rounds=2)
    broken = SECTIONS["results"] + " The effect is \\resultbox{clear}."

    def fix(prompt):
        assert "[latex] LaTeX stopped with \"Undefined control sequence.\"" in prompt
        assert "\\resultbox{clear}" in prompt  # the offending line is quoted
        return section_text(prompt).replace("\\resultbox{clear}", "clear")

    scripted(fake_llm, {"results": broken}, fix=fix)
    checks = run_writeup(study)
    assert checks["compile"]["status"] == "ok" and checks["compile"]["latex_fix_rounds"] == 1
    assert sum(task_of(r) == "writeup_fix" for r in fake_llm.requests) == 1
    assert (study / "paper" / "paper.pdf").exists()
    assert [f["status"] for f in checks["findings"] if f["check"] == "latex"] == ["fixed"]
    assert "\\resultbox" not in (study / "paper" / "sections" / "results.tex").read_text()
    assert re.search(r"Undefined control sequence", (study / "paper" / "compile.log").read_text()) is None


@pytest.mark.skipif(not tex_available(), reason="no LaTeX installed (latexmk or pdflatex + bibtex); CI installs TeX")
def test_latex_error_the_model_cannot_fix_is_reported_with_the_log_kept(study, fake_llm):
    set_config(study, "paper", compile=True, fix_rounds=1)
    scripted(fake_llm, {"results": SECTIONS["results"] + " See \\resultbox{this}."}, fix=section_text)
    checks = run_writeup(study)
    assert checks["compile"]["status"] == "failed"
    [finding] = open_findings(checks, "latex")
    assert finding["section"] == "results" and "Undefined control sequence" in finding["detail"]
    assert "Undefined control sequence" in (study / "paper" / "compile.log").read_text()
    assert not (study / "paper" / "paper.pdf").exists()
    assert (study / "paper" / "paper.md").exists() and (study / "paper" / "paper.html").exists()
