"""The model and data a method section describes, against the executed code, without a model
(the facts come from aisci.paper.code_facts):

    "a 2-layer transformer", "3 hidden layers"      a layer or block count the runs used
    "width 128", "64 hidden units", "d_model = 64"  a width a layer was built with, or a width parameter
    "4 attention heads"                             a head count
    "10,000 training examples"                      a training-set size the code sets or records
    "a held-out set of 2,000", "256 test points"    a held-out size the code sets or records
    "an 80/20 split", "50% of the data for training" the training share: a train fraction, or
                                                    training size / (training + held-out size)
    "a transformer", "an MLP", "an LSTM"            an architecture, from method_vocabulary.json
    "dropout", "label smoothing", "warm-up", ...    a technique, from method_vocabulary.json

A fact the code does not reveal (a size it computes at run time) is unknown, and a statement
about it is not checked: only a statement that contradicts a known fact is flagged. Every
finished run counts, so a value any run used is right.

Which sentences are read: in the method and experimental setup, a sentence about the study
("we", "our", "the model", "is trained", "is applied", ...); in the other sections, only one
that speaks of the study in the first person ("we", "our", "this study"), so that background
("dropout is a standard regulariser", "DDPM trains the model with a U-Net") is not a claim. A term
after a negation or contrast ("without dropout", "unlike a transformer") is no claim, and a
sentence that negates a technique anywhere ("dropout is not used", "we disable dropout") claims
none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aisci.paper.claims import _CLAIM_CUES, _HEDGES, _hedged
from aisci.paper.code_facts import CodeFacts

VOCABULARY = Path(__file__).with_name("method_vocabulary.json")
SETUP_SECTIONS = ("method", "experimental_setup")

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "single": 1}
# a count, not a factor ("4 * d_model"), a share ("4%") or a decimal ("4.5"); a full stop may follow
_N = r"(?<![\w.])(\d+|" + "|".join(_WORDS) + r")(?!\w|\.\d|\s*(?:\*|×|·|x\b|times\b|%|/))"
_INT = r"(?<![\w.])(\d+)(?!\w|\.\d|\s*(?:\*|×|·|x\b|times\b|%))"
_ITEMS = r"(?:examples|samples|points|data points|pairs|equations|images|sequences|instances|inputs|sentences)"

_FIRST_PERSON = re.compile(r"\b(?:we|our|us|this (?:paper|study|work))\b", re.IGNORECASE)
_OWN = re.compile(r"\b(?:we|our|us|this (?:paper|study|work))\b|\b(?:the|each|every) "
                  r"(?:model|network|denoiser|classifier|regressor|architecture|baseline)s?\b", re.IGNORECASE)
_DESCRIBES = re.compile(r"\b(?:is|are|was|were) (?:trained|optimi[sz]ed|applied|used|added|employed|inserted|"
                        r"clipped|set|split|held out|drawn|sampled|regulari[sz]ed)\b|\b(?:training|test|held-out|"
                        r"validation) (?:set|split|data)\b|\bsplit\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:disabl\w*|omit\w*|remov\w*|turn(?:s|ed)? off|exclud\w*|avoid\w*|forgo\w*|skip\w*|"
                      r"neither|nor|none|rather than|free of|ablat\w*|drop(?:s|ped|ping)? (?:the|all))\b",
                      re.IGNORECASE)

LAYERS = [re.compile(_N + r"[- ]layer(?:ed)?\b", re.IGNORECASE),
          re.compile(_N + r"\s+(?:hidden|transformer|attention|residual|linear|fully[- ]connected|dense|"
                     r"convolutional|recurrent|LSTM|GRU|MLP|decoder|encoder)?\s*(?:layers|blocks)\b", re.IGNORECASE),
          re.compile(r"\bdepth\s*(?:of|=|:)?\s*" + _N, re.IGNORECASE)]
WIDTHS = [re.compile(r"\b(?:hidden|model|embedding|residual(?:[- ]stream)?|layer)\s+(?:size|width|dimension(?:ality)?|"
                     r"dim)\s*(?:of|=|:|is|to)?\s*" + _INT, re.IGNORECASE),
          re.compile(r"(?<!kernel )(?<!window )(?<!bin )(?<!line )(?<!filter )\bwidth\s*(?:of|=|:|is)?\s*" + _INT,
                     re.IGNORECASE),
          re.compile(_INT + r"\s+(?:hidden\s+)?(?:units|neurons)\b", re.IGNORECASE),
          re.compile(_INT + r"[- ]dimensional\s+(?:\w+\s+)?(?:hidden|residual|embeddings?|model|latent|token|"
                     r"representations?)\b", re.IGNORECASE),
          re.compile(r"\bd_?\\?_?\{?model\}?\s*=\s*" + _INT)]
HEADS = [re.compile(_N + r"\s+(?:self-)?(?:attention\s+)?heads\b", re.IGNORECASE),
         re.compile(_N + r"[- ]head(?:ed)?\s+(?:self-)?attention\b", re.IGNORECASE)]
TRAIN_SIZES = [re.compile(_INT + r"\s+(?:\w+\s+)?training\s+" + _ITEMS + r"\b", re.IGNORECASE),
               re.compile(r"\btraining\s+(?:set|split|data)\s+(?:of|with|contains|has|holds)\s+" + _INT, re.IGNORECASE),
               re.compile(_INT + r"\s+(?:\w+\s+)?" + _ITEMS + r"\s+(?:are\s+|were\s+)?(?:used\s+)?(?:for|in)\s+"
                          r"(?:the\s+)?training\b", re.IGNORECASE)]
HELD_OUT_SIZES = [re.compile(_INT + r"\s+(?:\w+\s+)?(?:held[- ]out|test|validation|evaluation)\s+" + _ITEMS + r"\b",
                             re.IGNORECASE),
                  re.compile(r"\b(?:held[- ]out|test|validation|evaluation)\s+(?:set|split|data)\s+(?:of|with|contains|"
                             r"has|holds)\s+" + _INT, re.IGNORECASE),
                  re.compile(_INT + r"\s+(?:\w+\s+)?" + _ITEMS + r"\s+(?:are\s+|were\s+)?(?:held[- ]out|(?:used\s+)?"
                             r"for\s+(?:testing|validation|evaluation))\b", re.IGNORECASE)]
_SPLIT = re.compile(r"(?<![\w.])(\d{1,2}(?:\.\d+)?)\s*%?\s*[/:]\s*(\d{1,2}(?:\.\d+)?)\s*%?"
                    r"(?:\s*[/:]\s*(\d{1,2}(?:\.\d+)?)\s*%?)?(?![\w.])\s+(?:[\w/-]+\s+){0,2}split\b", re.IGNORECASE)
_SHARE = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s*%\s+of\s+(?:the\s+|all\s+)?(?:\w+\s+){0,2}?"
                    r"(?:data|dataset|examples|samples|equations|points|pairs|images|table)\b(?:\s+\w+){0,3}?\s+"
                    r"(?:for|as|to|in)\s+(?:the\s+)?(training|train|testing|test|validation|held-out|evaluation)\b",
                    re.IGNORECASE)
_HALF = re.compile(r"\bhalf\s+of\s+(?:the\s+|all\s+)?(?:\w+\s+){0,2}?(?:data|dataset|examples|samples|equations|"
                   r"points|pairs|table)\b(?:\s+\w+){0,3}?\s+(?:for|as|to|in)\s+(?:the\s+)?(training|train)\b",
                   re.IGNORECASE)
_FRACTION = re.compile(r"\btrain(?:ing)?[- _]?(?:fraction|share|ratio)\s*(?:of|=|:|is)?\s*(0?\.\d+|\d{1,2}\s*%)",
                       re.IGNORECASE)
_TRANSFORMER = re.compile(r"\btransformers?\b|\battention\b|\bblocks?\b", re.IGNORECASE)
_MLP = re.compile(r"\bMLPs?\b|\bperceptrons?\b|\bhidden layers?\b|\bfully[- ]connected\b|\bfeed-?forward\b",
                  re.IGNORECASE)
SPLIT_TOLERANCE = 0.025  # "70/30" for 10,000 of 14,000 (71.4%) is an honest rounding; "80/20" is not


@dataclass(frozen=True)
class Mismatch:
    term: str
    sentence: str
    reason: str


def mismatches(sentence: str, code: CodeFacts, section: str | None = None) -> list[Mismatch]:
    """What one plain-text sentence says about the model, the data or the techniques that the
    code contradicts. `section` None reads the sentence as the method section would."""
    in_setup = section is None or section in SETUP_SECTIONS
    if in_setup:
        about_study = _OWN.search(sentence) or _CLAIM_CUES.search(sentence) or _DESCRIBES.search(sentence)
    else:  # the introduction or the discussion tells of others' models too: only "we" and "our" claim
        about_study = _FIRST_PERSON.search(sentence)
    if not about_study:
        return []
    text = _normalised(sentence)
    out: list[Mismatch] = []
    if (_OWN if in_setup else _FIRST_PERSON).search(sentence):  # an architecture is the study's when it says so
        out += _architectures(text, sentence, code)
    # "a 2-layer transformer" counts blocks; "a 3-layer MLP" may count linear maps or hidden layers
    blocky = _TRANSFORMER.search(text) and not _MLP.search(text)
    layers = (code.blocks or code.layers) if blocky else code.layers
    out += _counted(text, sentence, LAYERS, layers, "a model of {n} layers", "layer counts")
    out += _counted(text, sentence, WIDTHS, code.widths, "a width of {n}", "widths")
    out += _counted(text, sentence, HEADS, code.heads, "{n} attention heads", "head counts")
    out += _counted(text, sentence, TRAIN_SIZES, code.train_sizes, "{n} training examples", "training-set sizes")
    out += _counted(text, sentence, HELD_OUT_SIZES, code.held_out_sizes, "{n} held-out examples",
                    "held-out sizes")
    out += _split(text, sentence, code.train_fractions)
    out += _techniques(text, sentence, code)
    return out


def _normalised(sentence: str) -> str:
    """Thousands separators ("10,000", "10{,}000", "10\\,000") and "\\%" as plain text."""
    text = sentence.replace("\\%", "%")
    return re.sub(r"(?<=\d)(?:\{,\}|\\,|,)(?=\d{3}(?!\d))", "", text)


def _claims(pattern: re.Pattern, text: str):
    return [m for m in pattern.finditer(text) if not _hedged(text, m.start())]


def _count(word: str) -> int:
    return _WORDS.get(word.lower()) or int(word)


def _counted(text: str, sentence: str, patterns: list[re.Pattern], known: set, said: str, what: str) -> list[Mismatch]:
    if not known:
        return []  # the code does not reveal it: unknown stays unchecked
    out = []
    for pattern in patterns:
        for m in _claims(pattern, text):
            n = _count(m.group(1))
            if n not in known and not any(x.term == m.group(0) for x in out):
                out.append(Mismatch(m.group(0), sentence, f"states {said.format(n=n)} ({m.group(0)!r}), but the "
                                                           f"code's {what} are {_listed(known)}"))
    return out


def _split(text: str, sentence: str, shares: set) -> list[Mismatch]:
    if not shares:
        return []
    stated = []
    for m in _claims(_SPLIT, text):
        parts = [float(p) for p in m.groups() if p]
        stated.append((m.group(0), parts[0] / sum(parts)))
    for m in _claims(_SHARE, text):
        share = float(m.group(1)) / 100
        stated.append((m.group(0), share if m.group(2).lower().startswith("train") else 1 - share))
    stated += [(m.group(0), 0.5) for m in _claims(_HALF, text)]
    for m in _claims(_FRACTION, text):
        written = m.group(1).replace(" ", "")
        stated.append((m.group(0), float(written.rstrip("%")) / 100 if written.endswith("%") else float(written)))
    return [Mismatch(term, sentence, f"states a split with {share:.0%} of the data for training ({term!r}), but the "
                                     f"code trains on {', '.join(f'{s:.1%}' for s in sorted(shares))}")
            for term, share in stated if 0 < share < 1 and not any(abs(share - s) <= SPLIT_TOLERANCE for s in shares)]


def _architectures(text: str, sentence: str, code: CodeFacts) -> list[Mismatch]:
    out = []
    for name, entry in vocabulary()["architectures"].items():
        hits = [m for pattern in entry["text"] for m in _claims(pattern, text)]
        if hits and not evidence(entry, code):
            out.append(Mismatch(hits[0].group(0), sentence, f"describes the model as {hits[0].group(0)!r}, but no "
                                                            f"finished run's code builds a {name} ({_shown(entry)})"))
    return out


def _techniques(text: str, sentence: str, code: CodeFacts) -> list[Mismatch]:
    if _HEDGES.search(text) or _NEGATED.search(text):
        return []  # "dropout is not used", "we disable dropout": no claim of it
    out = []
    for name, entry in vocabulary()["techniques"].items():
        hits = [m for pattern in entry["text"] for m in pattern.finditer(text)]
        if hits and not evidence(entry, code):
            out.append(Mismatch(hits[0].group(0), sentence, f"says the study uses {name} ({hits[0].group(0)!r}), but "
                                                            f"no finished run's code applies it ({_shown(entry)})"))
    return out


def evidence(entry: dict, code: CodeFacts) -> bool:
    """Whether the code shows one of a vocabulary entry's calls, keywords or names."""
    return bool(set(entry["calls"]) & code.calls or set(entry.get("keywords", ())) & code.keywords
                or any(p.fullmatch(n) for p in entry["names"] for n in code.names))


def _shown(entry: dict) -> str:
    shown = [f"{c}()" for c in entry["calls"][:3]] + [f"{k}=" for k in entry.get("keywords", [])[:2]]
    return "no " + ", ".join(shown) if shown else "no name of it in the code"


def _listed(values: set) -> str:
    return ", ".join(f"{v:g}" for v in sorted(values))


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    """method_vocabulary.json compiled: a text pattern is case-insensitive unless it starts with
    (?-i); a name pattern always is."""
    raw = json.loads(VOCABULARY.read_text())
    compiled: dict = {}
    for group in ("architectures", "techniques"):
        compiled[group] = {}
        for name, entry in raw[group].items():
            compiled[group][name] = {
                **entry,
                "text": [re.compile(p[5:]) if p.startswith("(?-i)") else re.compile(p, re.IGNORECASE)
                         for p in entry["text"]],
                "names": [re.compile(p, re.IGNORECASE) for p in entry["names"]]}
    return compiled
