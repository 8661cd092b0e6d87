"""The method text against the executed code, without a model (aisci.paper.code_facts): what a
sentence about this study's training says must be what the code did.

    "SGD", "Adam", "AdamW", ...       the optimizer class the code constructs ("Adam" also names
                                      AdamW, Adam with decoupled weight decay; hand-written gradient
                                      descent, with no optimizer class, may be called SGD)
    "momentum 0.9"                    an optimizer's `momentum` argument (an Adam beta is no momentum)
    "batch size of 64", "full-batch"  the batch the code draws: a DataLoader's or a batch_size
                                      parameter's size, or the whole training set when it draws none
    "learning rate of 0.01"           an optimizer's lr, or an lr parameter of a run
    "weight decay of 0.1"             an optimizer's weight_decay, or such a parameter
    "cross-entropy", "MSE", "L1"...   the loss function the code calls
    "cosine schedule", "step decay"   the scheduler class the code constructs
    "N epochs", "N steps"             a parameter or constant of epochs / steps with that value

Only sentences about this study are read (we, our, trained, ...), and a term after a negation
or contrast ("unlike SGD", "instead of Adam") is not a claim. Limits: what the code computes at
run time (a batch size derived from the data) is not known; a term the list does not name passes.

The architecture, its sizes, the data sizes and split, and techniques such as dropout or label
smoothing are checked by aisci.paper.setup_check, on the same sentences.
"""

from __future__ import annotations

import math
import re
from aisci.literature.attribution import split_sentences
from aisci.paper import code_facts, setup_check
from aisci.paper.claims import _CLAIM_CUES, _hedged, _plain, item_sentences
from aisci.paper.code_facts import CodeFacts
from aisci.paper.setup_check import Mismatch

_NUM = r"(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\d+(?:,\d{3})+)"
_OPTIMIZER = re.compile(r"\b(SGD|AdamW|Adam|RMSprop|RMSProp|Adagrad|Adadelta|Adamax|NAdam|RAdam|L-?BFGS|Lion|"
                        r"Adafactor)\b")
_MOMENTUM = re.compile(r"\bmomentum\s*(?:of|=|:)?\s*\$?\s*" + _NUM, re.IGNORECASE)
_BATCH = re.compile(r"\b(?:(?:mini-?)?batch(?:es)?\s+(?:size\s+)?(?:of\s+|=\s*|:\s*)?\$?\s*" + _NUM +
                    r"|" + _NUM + r"\s+(?:examples|samples|points|sequences|images)\s+per\s+(?:mini-?)?batch)",
                    re.IGNORECASE)
_FULL_BATCH = re.compile(r"\bfull[- ]batch\b|\bentire training set (?:at once|in (?:every|each) step)\b",
                         re.IGNORECASE)
_LR = re.compile(r"\blearning[- ]rate\s*(?:of|=|:)?\s*\$?\s*(?:\\eta\s*=\s*)?" + _NUM, re.IGNORECASE)
_WD = re.compile(r"\bweight[- ]decay\s*(?:of|=|:)?\s*\$?\s*(?:\\lambda\s*=\s*)?" + _NUM, re.IGNORECASE)
_EPOCHS = re.compile(_NUM + r"\s+(?:training\s+)?epochs\b", re.IGNORECASE)
_STEPS = re.compile(_NUM + r"\s+(?:training\s+|optimi[sz]er\s+|gradient\s+)?(?:steps|iterations|updates)\b",
                    re.IGNORECASE)
LOSS_NAMES = {
    "cross_entropy": re.compile(r"\bcross[- ]entropy\b", re.IGNORECASE),
    "mse": re.compile(r"\bmean[- ]squared[- ]error\b|\bMSE\b|\bL2 loss\b|\bsquared[- ]error loss\b", re.IGNORECASE),
    "l1": re.compile(r"\bmean[- ]absolute[- ]error\b|\bMAE\b|\bL1 loss\b", re.IGNORECASE),
    "huber": re.compile(r"\bHuber loss\b|\bsmooth L1\b", re.IGNORECASE),
    "nll": re.compile(r"\bnegative log[- ]likelihood\b|\bNLL\b", re.IGNORECASE),
    "hinge": re.compile(r"\bhinge loss\b", re.IGNORECASE),
    "kl": re.compile(r"\bKL[- ]divergence loss\b", re.IGNORECASE),
}
COMPATIBLE_LOSSES = {"nll": {"nll", "cross_entropy"}, "cross_entropy": {"cross_entropy", "nll", "bce"},
                     "mse": {"mse"}, "l1": {"l1"}, "huber": {"huber"}, "hinge": {"hinge"}, "kl": {"kl"}}
SCHEDULES = {
    "cosine": (re.compile(r"\bcosine (?:annealing|schedule|decay|learning[- ]rate)", re.IGNORECASE),
               ("Cosine",)),
    "step decay": (re.compile(r"\bstep (?:decay|schedule)\b|\bdecay(?:s|ed)? the learning rate by a factor\b",
                              re.IGNORECASE), ("StepLR", "MultiStepLR", "ExponentialLR")),
    "one-cycle": (re.compile(r"\bone[- ]cycle\b", re.IGNORECASE), ("OneCycle",)),
    "plateau": (re.compile(r"\breduce[sd]? (?:the learning rate )?on plateau\b", re.IGNORECASE), ("Plateau",)),
}


def mismatches(tex: str, code: CodeFacts, template_text: str = "", section: str | None = None) -> list[Mismatch]:
    """The mismatches of a section's sentences with the code. A sentence quoted from the template's
    own description (`template_text`) is the template author's account, checked when the template
    is validated, not on every run. The model, data and techniques are read as
    aisci.paper.setup_check reads them in `section` (None: as in the method section)."""
    if code.runs == 0:
        return []
    found: list[Mismatch] = []
    # read as the sections are (LaTeX commands dropped), but a % there is a percent, not a comment
    quoted = " " + " ".join(_word_list(_plain(template_text.replace("%", " ")))) + " "
    for sentence in split_sentences(_plain(item_sentences(tex))):
        words = _word_list(sentence)
        if len(words) >= 5 and f" {' '.join(words)} " in quoted:
            continue
        if _CLAIM_CUES.search(sentence) or re.search(r"\b(?:is|are|was|were) (?:trained|optimi[sz]ed)", sentence):
            found += _sentence_mismatches(sentence, code)
        found += setup_check.mismatches(sentence, code, section)
    return found


def template_mismatches(template, description: str) -> list[Mismatch]:
    """The template author's own account of the method (as the writeup quotes it), held once, at
    `aisci templates validate`, against the baseline's code at the default parameters: a paper
    quoting it is not checked again on every run."""
    # written as plain text: a % in it is a percent, not a LaTeX comment
    return mismatches(description.replace("%", "\\%"), code_facts.from_template(template), section="method")


def _claims(pattern: re.Pattern, sentence: str):
    return [m for m in pattern.finditer(sentence) if not _hedged(sentence, m.start())]


def _sentence_mismatches(sentence: str, code: CodeFacts) -> list[Mismatch]:
    out: list[Mismatch] = []
    used = set(code.optimizers)
    shown = ", ".join(f"torch.optim.{o}" for o in sorted(used)) or "no optimizer class (hand-written updates)"
    for m in _claims(_OPTIMIZER, sentence):
        name = m.group(1).replace("RMSProp", "RMSprop").replace("L-BFGS", "LBFGS")
        ok = name in used or (name == "Adam" and "AdamW" in used) or (not used and name == "SGD")
        if not ok:
            out.append(Mismatch(name, sentence, f"says the model is trained with {name}, but the code uses {shown}"))
    momenta = code.optimizer_values("momentum")
    for m in _claims(_MOMENTUM, sentence):
        value = _number(m.group(1))
        if not any(_rounds(value, m.group(1), v) for v in momenta if isinstance(v, (int, float))):
            out.append(Mismatch(m.group(0), sentence, (
                f"states momentum {m.group(1)}, but no optimizer in the code takes a momentum argument"
                + (f" of that value ({', '.join(map(str, sorted(momenta)))})" if momenta else f" ({shown})"))))
    batches = {b for b in code.batch if isinstance(b, int)}
    for m in _claims(_BATCH, sentence):
        written = m.group(1) or m.group(2)
        value = _number(written)
        if "full" in code.batch and not batches:
            out.append(Mismatch(m.group(0), sentence, f"states a batch size of {written}, but the code trains "
                                                      "full-batch (every step uses the whole training set)"))
        elif batches and value not in batches:
            out.append(Mismatch(m.group(0), sentence, f"states a batch size of {written}, but the code's batch size "
                                                      f"is {', '.join(map(str, sorted(batches)))}"))
    if batches and _claims(_FULL_BATCH, sentence):
        out.append(Mismatch("full-batch", sentence, f"says training is full-batch, but the code draws batches of "
                                                   f"{', '.join(map(str, sorted(batches)))}"))
    out += _valued(sentence, _LR, "learning rate", code.optimizer_values("lr") | code.values_of("lr", "learning_rate"))
    out += _valued(sentence, _WD, "weight decay",
                   code.optimizer_values("weight_decay") | code.values_of("weight_decay", "wd"))
    steps = code.values_of("step", "iter")
    # full-batch, one step is one pass over the training set: its epochs are its steps
    epochs = code.values_of("epoch") or (steps if "full" in code.batch else set())
    out += _valued(sentence, _EPOCHS, "epochs", epochs)
    if not epochs and steps:
        out += [Mismatch(m.group(0), sentence, f"states {m.group(0)}, but the code counts no epochs: it runs "
                                               f"{', '.join(f'{v:g}' for v in sorted(steps))} steps of mini-batches")
                for m in _claims(_EPOCHS, sentence)]
    out += _valued(sentence, _STEPS, "steps", steps)
    for loss, pattern in LOSS_NAMES.items():
        for m in _claims(pattern, sentence):
            if code.losses and not (COMPATIBLE_LOSSES[loss] & code.losses):
                out.append(Mismatch(m.group(0), sentence, f"names the loss {m.group(0)}, but the code computes "
                                                          f"{', '.join(sorted(code.losses))}"))
    for schedule, (pattern, classes) in SCHEDULES.items():
        for m in _claims(pattern, sentence):
            if not any(c in s for s in code.schedulers for c in classes):
                out.append(Mismatch(m.group(0), sentence, (
                    f"describes a {schedule} learning-rate schedule, but the code constructs "
                    + (", ".join(sorted(code.schedulers)) or "no scheduler"))))
    return out


# "fits the training set within about 200 steps": an outcome counted in steps, not the training length
_OUTCOME_AT = re.compile(r"\b(?:within|after|by|until|at|before|than|takes?|took|taking|needs?|needed|requires?|"
                         r"required|reach\w*|first)\s+(?:about|around|roughly|approximately|nearly|almost|only|just|"
                         r"some|~)?\s*\$?\s*~?\s*$", re.IGNORECASE)


def _valued(sentence: str, pattern: re.Pattern, what: str, values: set) -> list[Mismatch]:
    out = []
    for m in _claims(pattern, sentence):
        if pattern in (_STEPS, _EPOCHS) and _OUTCOME_AT.search(sentence[:m.start()]):
            continue
        written = m.group(1)
        if values and not any(_rounds(_number(written), written, v) for v in values):
            out.append(Mismatch(m.group(0), sentence, f"states {what} {written}, but the runs used "
                                                      f"{', '.join(f'{v:g}' for v in sorted(values))}"))
    return out


def _word_list(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _rounds(value: float, written: str, fact) -> bool:
    if not isinstance(fact, (int, float)) or isinstance(fact, bool) or not math.isfinite(fact):
        return False
    decimals = len(written.split(".")[1].split("e")[0].split("E")[0]) if "." in written else 0
    exponent = int(re.split(r"[eE]", written)[1]) if re.search(r"[eE]", written) else 0
    return abs(fact - value) <= 0.5 * 10.0 ** (exponent - decimals) * (1 + 1e-9) + 1e-15
