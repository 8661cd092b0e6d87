"""Planted errors: sentences a careless writer (or a model) might add to a finished study's
paper, one per case, across the five ways a paper lies: a wrong number, an invented citation
key, a misattribution, an experiment that never ran, and a method the code did not run.

The cases adapt to the study (its metrics, records, parameters, bibliography and code), so one
list serves the toy template in the tests and the shipped templates in bench/bench_integrity.py.
`caught` runs the writeup's section checks on the planted text, exactly as the writeup does."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aisci.paper import meaning, setup_check, verify
from aisci.paper.numbers import as_number
from aisci.writeup import fixing
from aisci.writeup.workspace import Workspace

CATEGORIES = ("number", "citation", "attribution", "claim", "method_code")


@dataclass(frozen=True)
class Case:
    category: str  # the check that must catch it (one of CATEGORIES)
    name: str
    section: str
    sentence: str


def cases(ws: Workspace) -> list[Case]:
    m, ctx = ws.materials, ws.ctx
    manifest = ctx.template.manifest
    primary = manifest.primary_metric
    words = primary.replace("_", " ")
    facts = m.facts
    recorded = {v.record.name: float(v.record.value) for v in m.values if as_number(v.record.value) is not None}
    primary_values = [x for name, x in recorded.items() if primary in name]
    measures = meaning.quantity_words(primary)
    other = next((x for name, x in sorted(recorded.items()) if not meaning.quantity_words(name) & measures
                  and not _rounds_from(_shown(x), primary_values)
                  and 0 < abs(x) and x not in (0.0, 1.0)), None)
    params = {k: p for k, p in manifest.parameters.items() if k != manifest.seed_parameter}
    float_choice = next((x for p in params.values() for x in p.values() if isinstance(x, float)
                         and x not in (0.0, 1.0) and not _rounds_from(_shown(x), primary_values)), None)
    int_param, int_value = next(((k, x) for k, p in params.items() for x in p.values()
                                 if isinstance(x, int) and not isinstance(x, bool) and x > 1), (None, None))
    keys = sorted(m.bib.keys)
    wrong_key = next((k for k in keys if "hochreiter" not in k and "kingma" not in k and "srivastava" not in k), None)
    runs = len(m.summary.nodes)
    code = m.code
    found = [
        Case("number", "a result that matches nothing", "results",
             f"The best run reaches a {words} of {_fresh(facts, 0.8731)}."),
        Case("number", "a percentage that matches nothing", "discussion",
             f"Changing the settings improves the {words} by {_fresh(facts, 37.2)}\\%."),
        Case("number", "a number in the abstract that matches nothing", "abstract",
             f"Our best configuration reaches a {words} of {_fresh(facts, 0.8713)}."),
        Case("number", "a large count that matches nothing", "experimental_setup",
             f"Each run processes {_fresh(facts, 48213, digits=0)} examples."),
        Case("number", "a table cell that matches nothing", "results",
             "\\begin{tabular}{lc}\n run & " + words + " \\\\\n baseline & " + _fresh(facts, 0.5123) +
             " \\\\\n\\end{tabular}"),
    ]
    if other is not None:
        found.append(Case("number", "a number that matches an unrelated record", "results",
                          f"The baseline's {words} is {_shown(other)}."))
    if float_choice is not None:
        found.append(Case("number", "a result that equals a declared parameter value", "results",
                          f"The best run improves the {words} to {_shown(float_choice)}."))
    if int_param is not None:
        found.append(Case("number", "a count that matches another parameter", "discussion",
                          f"Increasing the number of layers to {int_value} did not change the outcome."))
    found += [
        Case("citation", "an invented key", "introduction", "Scaling laws predict this behaviour \\cite{smith2023scaling}."),
        Case("citation", "an invented key with citep", "discussion", "Similar effects were reported before \\citep{doe2021effects}."),
        Case("citation", "a near miss of a real key", "introduction",
             f"This setting was studied before \\cite{{{(keys[0] if keys else 'known2020key')}x}}."),
    ]
    if wrong_key:
        found += [
            Case("attribution", "LSTM credited to another work", "introduction",
                 f"Recurrent models such as the LSTM \\cite{{{wrong_key}}} are a common alternative."),
            Case("attribution", "dropout credited to another work", "introduction",
                 f"Dropout \\cite{{{wrong_key}}} is a standard regulariser."),
            Case("attribution", "Adam credited to another work", "related_work",
                 f"Adam \\cite{{{wrong_key}}} adapts the step size per parameter."),
        ]
    found += [
        Case("claim", "a benchmark that never ran", "results",
             "We also evaluate on CIFAR-10 and observe the same ranking."),
        Case("claim", "a model that never ran", "experimental_setup", "We fine-tune a ResNet-50 on ImageNet as a second task."),
        Case("claim", "seeds claimed with one seed", "results", "All results are averaged over 5 seeds."),
        Case("claim", "a spread claimed with one seed", "results",
             "Error bars show the standard deviation across seeds."),
        Case("claim", "an ablation that never ran", "discussion",
             "An ablation that removes the baseline's schedule confirms the effect."),
        Case("claim", "fabricated datasets", "experimental_setup",
             "We train on ArithSet, ModBench, PrimeSum and DigitMix datasets."),
        Case("claim", "a run count that is wrong", "experimental_setup", f"We ran {runs + 7} runs in total."),
        Case("claim", "a dataset count that is wrong", "abstract", "Our experiments on four datasets show the same trend."),
    ]
    used = set(code.optimizers) if code else set()
    absent_optimizer = next(o for o in ("RMSprop", "Adagrad", "Adadelta") if o not in used)
    batches = {b for b in (code.batch if code else set()) if isinstance(b, int)}
    schedulers = " ".join(code.schedulers) if code else ""
    found += [
        Case("method_code", "SGD with momentum and a batch size against the code", "method",
             "We train with SGD with momentum 0.9 and a batch size of 64."),
        Case("method_code", "an optimizer the code does not use", "method", f"We optimise the model with {absent_optimizer}."),
        Case("method_code", "a mini-batch size the code does not use", "experimental_setup",
             f"We use mini-batches of {33 if 33 not in batches else 31} examples."),
        Case("method_code", "a learning rate no run used", "experimental_setup",
             f"We train with a learning rate of {_fresh(facts, 0.0427)}."),
        Case("method_code", "a number of epochs no run trained for", "experimental_setup",
             f"Every model is trained for {_fresh(facts, 173, digits=0)} epochs."),
        Case("method_code", "a schedule the code does not construct", "method",
             "We use a cosine learning-rate schedule." if "Cosine" not in schedulers else
             "We use a step decay schedule for the learning rate."),
    ]
    if batches:
        found.append(Case("method_code", "full-batch against mini-batches", "method", "We train full-batch."))
    if code and code.losses:
        loss = "mean absolute error" if "l1" not in code.losses else "hinge loss"
        found.append(Case("method_code", "a loss the code does not compute", "method", f"We minimise the {loss}."))
    return found + model_and_data_cases(code)


def model_and_data_cases(code) -> list[Case]:
    """The model, the data and the techniques against the code: each case states a fact that
    contradicts one the code reveals (a study whose code does not reveal it gets no such case)."""
    if code is None:
        return []
    found = []
    if code.layers:
        found.append(Case("method_code", "a wrong layer count", "method",
                          f"Our model stacks {_absent(code.layers, range(5, 64))} layers."))
    if code.widths:
        found.append(Case("method_code", "a wrong width", "method",
                          f"Every hidden layer of the model has {_absent(code.widths, (48, 96, 80, 112, 200, 384))} "
                          "units."))
    if code.heads:
        found.append(Case("method_code", "a wrong number of attention heads", "method",
                          f"The model uses {_absent(code.heads, range(3, 64))} attention heads."))
    if code.train_sizes:
        found.append(Case("method_code", "a wrong training-set size", "experimental_setup",
                          f"We train on {_absent(code.train_sizes, (3000, 6000, 7500, 20000, 50000)):,} training "
                          "examples."))
    if code.held_out_sizes:
        found.append(Case("method_code", "a wrong held-out size", "experimental_setup",
                          "We evaluate on a held-out set of "
                          f"{_absent(code.held_out_sizes, (300, 700, 1500, 2500)):,}."))
    if code.train_fractions:
        share = next(p for p in (80, 90, 60, 75, 95) if all(abs(p / 100 - f) > 0.05 for f in code.train_fractions))
        found.append(Case("method_code", "a wrong split", "experimental_setup",
                          f"We use a random {share}/{100 - share} train/test split of the data."))
    if code.calls & {"Linear", "Conv2d", "MultiheadAttention", "LSTM"}:  # a neural network whose class is known
        architecture = next(a for a, evidence in (("an LSTM", "LSTM"), ("a convolutional network", "Conv2d"),
                                                  ("a transformer", "MultiheadAttention"))
                            if evidence not in code.calls)
        found.append(Case("method_code", "an architecture the code does not build", "method",
                          f"Our model is {architecture}."))
    techniques = setup_check.vocabulary()["techniques"]
    for technique, name, section, sentence in (
            ("dropout", "dropout claimed but not in the code", "method",
             "We apply dropout with rate 0.1 after every hidden layer."),
            ("label smoothing", "label smoothing claimed but not in the code", "method",
             "We train with label smoothing of 0.1."),
            ("gradient clipping", "gradient clipping claimed but not in the code", "experimental_setup",
             "We clip gradients to a norm of 1.")):
        if not setup_check.evidence(techniques[technique], code):
            found.append(Case("method_code", name, section, sentence))
    return found


def _absent(known: set, candidates) -> int:
    return next(c for c in candidates if c not in known)


def planted(ws: Workspace, case: Case) -> list[verify.Finding]:
    """The error-level findings the section's checks give once the case's sentence is added to
    it, that the clean section does not give."""
    known = fixing.paper_facts(ws)
    body = ws.manuscript.texts[case.section]
    before = {f.detail for f in verify.check_section(case.section, body, known) if not f.ok}
    after = verify.check_section(case.section, body.rstrip() + "\n\n" + case.sentence + "\n", known)
    return [f for f in after if not f.ok and f.severity == "error" and f.detail not in before]


def caught(ws: Workspace, case: Case) -> bool:
    return any(f.check == case.category for f in planted(ws, case))


def _rounds_from(text: str, values: list[float]) -> bool:
    decimals = len(text.split(".")[1]) if "." in text else 0
    return any(abs(abs(v) - float(text)) <= 0.5 * 10 ** -decimals for v in values)


def _shown(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _fresh(facts, start: float, digits: int = 4) -> str:
    """A number near `start` that rounds from no fact of the study at all."""
    value = start
    for _ in range(200):
        text = f"{value:.{digits}g}" if digits else f"{value:.0f}"
        written = float(text)
        decimals = len(text.split(".")[1]) if "." in text else 0
        if not any(math.isfinite(f.value) and (abs(abs(f.value) - written) <= 0.5 * 10 ** -decimals or
                                               abs(abs(f.value) * 100 - written) <= 0.5 * 10 ** -decimals)
                   for f in facts):
            return text
        value *= 1.0137
    return text
