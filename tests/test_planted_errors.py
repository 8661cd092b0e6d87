"""The paper cannot lie: errors planted in a finished toy study's paper are caught before the final
PDF (tests/planted.py, across the five categories), `aisci paper` runs the same checks and builds
only a marked draft while a problem is open, and a person's acceptance at the paper gate (with a
reason, printed in the disclosure) is what lets paper.pdf be built with one."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from aisci.cli import main
from aisci.paper.code_facts import CodeFacts, read_code
from aisci.paper.method_check import mismatches
from aisci.paper.numbers import Fact, unmatched_numbers
from aisci.paper.sections import SECTIONS, read_section
from aisci.runner import make_context, run_study
from aisci.study import Study
from aisci.writeup import facts
from aisci.writeup.workspace import Workspace
from tests.planted import CATEGORIES, cases, planted
from tests.study_helpers import copy_study

pytestmark = pytest.mark.slow  # one offline toy study (shared), then section checks and a few rebuilds
TEMPLATES = Path(__file__).resolve().parent.parent / "aisci" / "templates"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("planted") / "study"
    Study.create(root, str(Path(__file__).parent / "fixtures" / "toy"), "learning rate on a toy fit")
    run_study(Study.open(root), say=lambda m: None)
    return root


@pytest.fixture(scope="module")
def workspace(finished) -> Workspace:
    ctx = make_context(Study.open(finished), say=lambda m: None)
    ws = Workspace(ctx, facts.gather(ctx))
    ws.manuscript.texts = {n: read_section(ws.sections_dir, n).body for n in SECTIONS}
    return ws


@pytest.fixture
def study(finished, tmp_path) -> Path:
    return copy_study(finished, tmp_path / "study")


def checks_of(root: Path) -> dict:
    return json.loads((root / "paper" / "checks.json").read_text())


# --- the planted-error suite ----------------------------------------------------------------------
def test_the_clean_paper_has_no_open_problem_and_is_the_final_pdf(finished):
    checks = checks_of(finished)
    assert checks["open"] == 0, [f["detail"] for f in checks["findings"] if not f["ok"]]
    assert checks["pdf"] in ("paper/paper.pdf", None)
    assert not (finished / "paper" / "paper-draft.pdf").exists()


def test_the_suite_has_at_least_25_cases_across_the_five_categories(workspace):
    planted_cases = cases(workspace)
    assert len(planted_cases) >= 25
    assert {c.category for c in planted_cases} == set(CATEGORIES)
    names = {c.name for c in planted_cases}
    for subtle in ("a number that matches an unrelated record", "a count that matches another parameter",
                   "seeds claimed with one seed", "SGD with momentum and a batch size against the code",
                   "fabricated datasets"):
        assert subtle in names


def test_every_planted_error_is_caught_by_the_check_of_its_category(workspace):
    missed = [(c.name, c.sentence, [f.detail for f in planted(workspace, c)]) for c in cases(workspace)
              if not any(f.check == c.category for f in planted(workspace, c))]
    assert missed == []


# --- the one check path: aisci paper, a draft, and an acceptance ----------------------------------
def plant(root: Path, section: str, sentence: str) -> None:
    path = root / "paper" / "sections" / f"{section}.tex"
    path.write_text(path.read_text() + sentence + "\n")  # the stamp no longer matches: a person's edit


def test_a_planted_error_reaches_only_a_marked_draft_through_aisci_paper(study, capsys):
    plant(study, "results", "The best run reaches a final loss of 0.8731.")
    assert main(["status", str(study)]) == 0
    assert "built BEFORE the sections were last edited" in capsys.readouterr().out  # the old PDF is not current
    assert main(["paper", str(study)]) == 1
    out = capsys.readouterr().out
    assert "paper-draft.pdf (DRAFT: 1 integrity problem open" in out and "0.8731" in out
    paper = study / "paper"
    assert not (paper / "paper.pdf").exists() and (paper / "paper-draft.pdf").exists()
    pages = PdfReader(str(paper / "paper-draft.pdf")).pages
    assert all("DRAFT" in page.extract_text() and "1 integrity problem open" in page.extract_text() for page in pages)
    assert "0.8731" in pages[0].extract_text()  # the first-page box lists the problem
    checks = checks_of(study)
    [problem] = [f for f in checks["findings"] if not f["ok"]]
    assert problem["check"] == "number" and checks["open"] == 1 and checks["pdf"] == "paper/paper-draft.pdf"
    markdown = (paper / "paper.md").read_text()
    assert f"[{problem['id']}] Results, number" in markdown and "(open)" in markdown
    assert "1 number in it match" in (paper / "main.tex").read_text()  # the title note says so
    assert main(["status", str(study)]) == 0
    assert "paper-draft.pdf (DRAFT: 1 integrity problem open; no paper.pdf), matches the sections" in capsys.readouterr().out


def test_a_person_accepts_an_open_problem_and_the_disclosure_prints_why(study, capsys):
    plant(study, "discussion", "We ran 12 runs in total.")
    assert main(["paper", str(study)]) == 1
    problems = [f for f in checks_of(study)["findings"] if not f["ok"]]
    assert {f["check"] for f in problems} >= {"claim"}
    capsys.readouterr()
    assert main(["approve", str(study), "paper", problems[0]["id"]]) == 2  # a reason is required
    assert "needs a reason" in capsys.readouterr().err
    ids = [f["id"] for f in problems]
    assert main(["approve", str(study), "paper", *ids, "--note", "the count includes runs of a pilot study"]) == 0
    assert main(["paper", str(study)]) == 0
    paper = study / "paper"
    assert (paper / "paper.pdf").exists() and not (paper / "paper-draft.pdf").exists()
    checks = checks_of(study)
    assert checks["open"] == 0 and checks["accepted"] == len(ids)
    assert all(f["status"] == "accepted" for f in checks["findings"] if not f["ok"])
    markdown = (paper / "paper.md").read_text()
    assert "Accepted by a person at the paper gate: the count includes runs of a pilot study" in markdown
    text = " ".join(page.extract_text() for page in PdfReader(str(paper / "paper.pdf")).pages)
    assert "the count includes runs of a pilot study" in " ".join(text.split())
    decisions = [json.loads(line) for line in (study / "decisions.jsonl").read_text().splitlines()]
    assert decisions[-1]["action"] == "accept" and decisions[-1]["note"] == "the count includes runs of a pilot study"
    # taken back: the draft returns
    assert main(["reject", str(study), "paper", *ids]) == 0
    assert main(["paper", str(study)]) == 1 and not (paper / "paper.pdf").exists()


def test_the_title_note_names_a_persons_sections_and_unverified_numbers(study):
    plant(study, "abstract", "The best setting reaches a final loss of 0.8713.")
    assert main(["paper", str(study)]) == 1
    main_tex = (study / "paper" / "main.tex").read_text()
    assert "written or edited by a person (Abstract)" in main_tex
    assert "no language model wrote this text" in main_tex and "every number in the text is typeset" not in main_tex
    assert "1 number in it match" in main_tex


# --- numbers bound to meaning, and the method against the code: the issue's own examples ----------
def test_a_number_must_be_a_record_of_what_its_sentence_is_about():
    val_loss = Fact(0.985, "record final_val_loss", frozenset({"loss"}), frozenset({"validation", "loss"}), True)
    val_acc = Fact(0.6941, "record final_val_acc", frozenset({"accuracy", "acc"}), frozenset({"validation"}), True)
    fraction = Fact(0.7, "declared value of train_fraction", frozenset({"train", "fraction"}), frozenset({"train"}))
    heads = Fact(4, "the template's description (width d_model attention heads)", frozenset({"attention", "head"}),
                 frozenset({"attention", "head"}))
    facts = [val_loss, val_acc, fraction, heads]
    flagged = lambda tex: [u.text for u in unmatched_numbers(tex, facts)]
    assert flagged("Weight decay improves accuracy to 0.99.") == ["0.99"]
    assert flagged("The validation loss falls to 0.99.") == []
    assert flagged("The best run reaches a validation accuracy of 0.70.") == ["0.70"]
    assert flagged("The best run reaches a validation accuracy of 0.69.") == []
    assert flagged("We use a train fraction of 0.7.") == []
    assert flagged("Increasing the number of layers to 4 helps.") == ["4"]
    assert flagged("The model has 4 attention heads.") == []


def grokking_code() -> CodeFacts:
    nb = nbformat.read(TEMPLATES / "grokking" / "baseline.ipynb", as_version=4)
    params = {"lr": 0.003, "weight_decay": 2.0, "d_model": 64, "n_layers": 1, "num_steps": 1500, "seed": 0,
              "train_fraction": 0.5, "prime": 47, "operation": "add"}
    code = read_code([c.source for c in nb.cells if c.cell_type == "code"][1:], params, CodeFacts(runs=1))
    code.parameters = {k: {v} for k, v in params.items()}
    return code


def test_sgd_with_momentum_and_a_batch_size_against_full_batch_adamw_code():
    code = grokking_code()
    assert set(code.optimizers) == {"AdamW"} and code.batch == {"full"} and code.losses == {"cross_entropy"}
    found = mismatches("We train with SGD with momentum 0.9 and a batch size of 64.", code)
    assert [m.term for m in found] == ["SGD", "momentum 0.9", "batch size of 64"]
    assert "torch.optim.AdamW" in found[0].reason and "full-batch" in found[2].reason
    assert mismatches("We train full-batch with AdamW at a learning rate of 0.003 for 1500 steps, minimising "
                      "the cross-entropy.", code) == []
    assert mismatches("Unlike SGD with momentum, we use AdamW.", code) == []


# --- the review reads the findings -------------------------------------------------------------------
def test_the_review_names_open_problems_caps_the_score_and_credits_only_what_ran(study):
    from aisci.paper.checks import run_checks
    from aisci.review.meta import apply_findings, meta_review
    from aisci.review.offline import OPEN_PROBLEM_CAP, OfflineChecklistReviewer
    from aisci.review.verified import from_study

    plant(study, "results", "All results are averaged over 5 seeds; error bars show the standard deviation. "
                            "An ablation of each component confirms it on CIFAR-10, ImageNet and SVHN.")
    assert main(["paper", str(study)]) == 1
    findings = run_checks(study)
    integrity = [f for f in findings if f.check.startswith("writeup:")]
    assert integrity and not any(f.ok for f in integrity)
    assert {f.check for f in integrity} >= {"writeup:claim"}
    text = (study / "paper" / "paper.md").read_text().split("<!-- appendix")[0]
    reviewer = OfflineChecklistReviewer()
    verified = from_study(study)
    assert verified.seeds == 1 and verified.ablation_nodes == 0 and verified.open_problems
    as_text = {c.key: c for c in reviewer.assess(text).checks}
    as_study = reviewer.assess(text, verified)
    checks = {c.key: c for c in as_study.checks}
    for item in ("seeds", "ablations", "datasets", "error_bars"):
        assert not checks[item].passed, checks[item].reason  # the claims earn nothing
        assert checks[item].value <= as_text[item].value or item == "datasets"
    assert as_study.form.overall <= OPEN_PROBLEM_CAP and as_study.form.decision == "Reject"
    assert any(w.startswith("[integrity]") for w in as_study.form.weaknesses)
    meta = apply_findings(meta_review([as_study.form]), findings, threshold=6)
    assert meta.decision == "Reject" and meta.overall <= 5
    assert integrity[0].detail in meta.summary  # the meta-review names them
    assert any("integrity problem" in reason for reason in meta.reasons)


def test_aisci_review_reads_a_study_paper_with_links_in_list_items(finished, capsys):
    tex = finished / "paper" / "sections" / "related_work.tex"
    assert main(["review", str(finished / "paper" / "main.tex")]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the review is wrapped at 100 columns
    assert "Seeds, ablations and datasets are counted from the study's runs" in out
    from aisci.review.inputs import tex_to_text
    text = tex_to_text("\\begin{document}\\begin{itemize}\\item see \\href{https://a.org/x}{the page}\\end{itemize}"
                       "\\end{document}")
    assert "the page" in text and tex.exists()


def test_paper_md_renders_links_and_the_offline_text_counts_and_credits_rightly(finished):
    from aisci.artifacts import ExperimentSummary, Ideas
    from aisci.paper import latex

    assert latex.to_markdown(r"See \href{https://doi.org/10.1/a\_b}{the paper} or \url{https://a.org}.", {}) == \
        "See [the paper](https://doi.org/10.1/a_b) or <https://a.org>."
    summary = ExperimentSummary.load(Study.open(finished)).as_json()
    changed = sum(n["kind"] != "baseline" for n in summary["nodes"])
    abstract = read_section(finished / "paper" / "sections", "abstract").body
    assert f"in {changed} run{'s' if changed != 1 else ''} that change" in abstract
    origins = {i.origin for i in Ideas.load(Study.open(finished)).ideas}
    limitations = read_section(finished / "paper" / "sections", "limitations").body
    if "seed" in origins:
        assert "seed ideas" in limitations
    assert "declared parameter values by aisci's offline engine rather" not in limitations
