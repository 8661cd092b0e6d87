"""The model and the data a method section states, against the executed code without a model
(aisci.paper.setup_check): layer counts, widths, heads, training and held-out sizes, the split,
the architecture and techniques such as dropout. Read from the notebooks of the two shipped
templates and the mini-batch MLP fixture, as the writeup reads a finished run's notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from aisci.paper import setup_check
from aisci.paper.code_facts import CodeFacts, read_code
from aisci.paper.method_check import mismatches

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {"grokking": ROOT / "aisci" / "templates" / "grokking" / "baseline.ipynb",
             "2d_diffusion": ROOT / "aisci" / "templates" / "2d_diffusion" / "baseline.ipynb",
             "mlp_regression": ROOT / "tests" / "fixtures" / "mlp_regression" / "baseline.ipynb",
             "toy": ROOT / "tests" / "fixtures" / "toy" / "baseline.ipynb"}


def code_of(template: str, **params) -> CodeFacts:
    nb = nbformat.read(NOTEBOOKS[template], as_version=4)
    code = read_code([c.source for c in nb.cells if c.cell_type == "code"], params, CodeFacts(runs=1))
    code.parameters = {k: {v} for k, v in params.items()}
    return code


def flagged(text: str, code: CodeFacts, section: str | None = "method") -> list[str]:
    return [m.term for m in mismatches(text, code, section=section)]


def test_the_model_and_data_facts_are_read_from_the_code():
    grokking = code_of("grokking")
    assert grokking.blocks == {1} and grokking.heads == {4} and {64, 256} <= grokking.widths  # 4 * d_model
    assert grokking.train_fractions == {0.5} and grokking.train_sizes == set()  # computed at run time: unknown
    diffusion = code_of("2d_diffusion")
    assert diffusion.blocks == {3} and diffusion.layers == {3, 4} and 128 in diffusion.widths
    assert diffusion.train_sizes == {10_000} and 4_000 in diffusion.held_out_sizes  # N_TRAIN, N_HELD_OUT = ...
    assert diffusion.train_fractions == {10_000 / 14_000}
    mlp = code_of("mlp_regression")
    assert mlp.layers == {2, 3} and mlp.widths == {1, 32}  # a literal stack of 3 nn.Linear: 2 hidden layers
    assert mlp.train_sizes == {512} and mlp.held_out_sizes == {256}
    toy = code_of("toy")
    assert not (toy.layers or toy.widths or toy.train_sizes or toy.train_fractions)
    # a run's parameters are what its code read: the width of a run with d_model = 128
    assert {128, 512} <= code_of("grokking", d_model=128, n_layers=2).widths


# each planted contradiction, and the honest statement of the same fact
PLANTED = [
    ("grokking", "Our model is a 2-layer transformer with width 128.", ["2-layer", "width 128"],
     "Our model is a 1-layer transformer with width 64, whose MLP has 256 hidden units."),
    ("grokking", "The model uses 8 attention heads.", ["8 attention heads"], "The model uses 4 attention heads."),
    ("grokking", "We use an 80/20 train/test split.", ["80/20 train/test split"],
     "We use a 50/50 train/test split, with 50% of the equations for training."),
    ("grokking", "Our model is an LSTM.", ["LSTM"], "Our model is a transformer with layer normalisation."),
    ("2d_diffusion", "Our denoiser is an MLP with 2 hidden layers of 64 units.", ["2 hidden layers", "64 units"],
     "Our denoiser is an MLP with 3 hidden layers of 128 units."),
    ("2d_diffusion", "We train on 5,000 training points.", ["5000 training points"],
     "We train on 10{,}000 training points and evaluate on 4,000 held-out points."),
    ("2d_diffusion", "The model is evaluated on a held-out set of 300.", ["held-out set of 300"],
     "The model is evaluated on a held-out set of 4,000."),
    ("2d_diffusion", "We use an 80/20 split.", ["80/20 split"], "We use a 70/30 split."),
    ("2d_diffusion", "Our model is a transformer.", ["transformer"], "Our model is an MLP."),
    ("mlp_regression", "We train an MLP with 64 hidden units.", ["64 hidden units"],
     "We train a 3-layer MLP with 32 hidden units, a 2:1 split of 512 training and 256 test points."),
    ("mlp_regression", "We train on 10,000 training examples.", ["10000 training examples"],
     "We train on 512 training examples."),
    ("mlp_regression", "We apply dropout of 0.1 after every hidden layer.", ["dropout"],
     "We apply no dropout."),
    ("mlp_regression", "We train with label smoothing of 0.1.", ["label smoothing"],
     "We train without label smoothing."),
    ("grokking", "We clip gradients to a norm of 1.", ["clip gradients"], "We use a linear warm-up of 10 steps."),
    ("grokking", "Our model uses batch normalisation and early stopping.", ["batch normalisation", "early stopping"],
     "Each block of the model uses layer normalisation."),
]


@pytest.mark.parametrize("template,wrong,terms,right", PLANTED)
def test_a_stated_fact_that_contradicts_the_code_is_flagged_and_the_true_one_is_not(template, wrong, terms, right):
    code = code_of(template)
    assert flagged(wrong, code) == terms
    assert flagged(right, code) == []


def test_what_the_code_does_not_show_stays_unchecked():
    toy = code_of("toy")  # no sizes, no layers
    assert flagged("We train a 2-layer MLP of width 64 on 10,000 training examples with an 80/20 split.", toy) == \
        ["MLP"]  # only the architecture: pure-Python code builds no network
    grokking = code_of("grokking")  # its training-set size is computed at run time
    assert flagged("We train on 1,104 training equations.", grokking) == []


def test_background_and_negations_are_no_claims():
    code = code_of("2d_diffusion")
    assert flagged("Dropout is a standard regulariser.", code, "introduction") == []
    assert flagged("Transformers trained on text dominate language modelling.", code, "introduction") == []
    assert flagged("Unlike a transformer, our denoiser is an MLP.", code) == []
    for honest in ("We do not use dropout.", "Dropout is disabled in every run, so we omit it.",
                   "No label smoothing is applied.", "We train without gradient clipping or mixup."):
        assert flagged(honest, code) == [], honest
    # in the results, a first-person claim is still a claim
    assert flagged("Our 5-layer denoiser reaches the data floor.", code, "results") == ["5-layer"]


def test_a_technique_is_evidenced_by_its_call_keyword_or_name_in_the_code():
    def code(source: str) -> CodeFacts:
        return read_code([source], {}, CodeFacts(runs=1))
    claim = "We apply dropout and label smoothing, and clip gradients."
    assert flagged(claim, code("net = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.1))\n"
                               "loss = F.cross_entropy(x, y, label_smoothing=0.1)\n"
                               "torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)")) == []
    # label_smoothing=0.0 smooths nothing; a string or a comment is not code
    assert flagged(claim, code("loss = F.cross_entropy(x, y, label_smoothing=0.0)  # dropout, clip_grad_norm_\n"
                               "note = 'nn.Dropout'")) == ["dropout", "label smoothing", "clip gradients"]


def test_the_vocabulary_table_compiles_and_names_evidence_for_every_entry():
    table = setup_check.vocabulary()
    assert {"dropout", "label smoothing", "batch normalisation", "weight averaging", "learning-rate warm-up",
            "gradient clipping", "mixup", "early stopping"} <= set(table["techniques"])
    for group in table.values():
        for name, entry in group.items():
            assert entry["text"] and (entry["calls"] or entry.get("keywords") or entry["names"]), name


def test_templates_validate_holds_the_templates_own_account_against_its_code(tmp_path, capsys):
    import shutil

    from aisci.cli import main

    for shipped in ("grokking", "2d_diffusion", str(NOTEBOOKS["mlp_regression"].parent)):
        assert main(["templates", "validate", shipped]) == 0
        assert "warning" not in capsys.readouterr().out  # the shipped descriptions are true of their code
    root = shutil.copytree(NOTEBOOKS["toy"].parent, tmp_path / "toy")
    manifest = root / "manifest.toml"
    manifest.write_text(manifest.read_text().replace(
        "a fast, dependency-free template for tests.", "we train with Adam, dropout and a batch size of 64."))
    assert main(["templates", "validate", str(root)]) == 0  # still usable: a warning, not a problem
    out = capsys.readouterr().out
    assert "the template's description says the model is trained with Adam" in out
    assert "says the study uses dropout" in out and "states a batch size of 64" in out
    assert out.strip().endswith("valid, with 3 warning(s)")
