"""Claims about experiments that no notebook ran: a dataset or model named in an experiment
claim that no executed node mentions, an ablation when no node is an ablation, a seed count
(or spread across seeds) larger than any configuration ran.

How it decides, so a flag can be explained:

1. Evidence is what the study ran: the code and markdown of every finished node notebook,
   the parameters each node ran with, and the template's title, description and parameter
   and metric names. It is lower-cased and split into words.
2. A sentence is an experiment claim when it speaks of this study ("we", "our", "this
   paper") or of experiments ("trained", "evaluated", "runs", "seeds", "ablation",
   "results"). Related work is not checked, and a term preceded in its sentence by a
   negation, a modal or a contrast ("not", "would", "future", "unlike", "prior") is not
   a claim ("we did not evaluate on ImageNet" is honest).
3. In a claim, each dataset or model from `claims_vocabulary.json` must appear in the
   evidence (word-prefix match: "BatchNorm1d" is evidence for "BatchNorm"; "CIFAR-10" and
   "cifar10" are the same); "ablation" needs a node of kind ablation; "N seeds" / "averaged
   over N runs" needs N seeds of one configuration; "standard deviation", "error bars" or
   "\\pm" needs at least two.

Limits: names outside the vocabulary are not caught; a term that appears anywhere in
the evidence (a comment in the code) counts as run; hedged or oddly phrased claims pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.literature.attribution import split_sentences
from aisci.execution import build
from aisci.paper.sections import strip_comments
from aisci.search.node import Node, NodeKind, NodeStatus

if TYPE_CHECKING:  # annotations only: the artifact module imports paper/
    from aisci.artifacts import ExperimentSummary

VOCABULARY = Path(__file__).with_name("claims_vocabulary.json")
_CLAIM_CUES = re.compile(r"\b(we|our|us|this (?:paper|study|work)|experiments?|trained|train(?:s|ing)?|"
                         r"evaluat\w*|ablat\w*|seeds?|runs?|benchmark\w*|fine-?tun\w*|results?|tested)\b",
                         re.IGNORECASE)
_HEDGES = re.compile(r"\b(not|no|never|without|cannot|future|would|could|might|should|may|unlike|prior|"
                     r"previous|previously|others|beyond|instead)\b|n't\b", re.IGNORECASE)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "twenty": 20, "several": 2, "multiple": 2, "many": 2}
_COUNT = r"(?P<n>\d+|" + "|".join(_NUMBER_WORDS) + r")"
_SEED_COUNTS = [
    re.compile(_COUNT + r"\s+(?:different\s+|random\s+|independent\s+)*(?:seeds|random\s+initiali[sz]ations|"
               r"repetitions|replicates|replications|trials|runs\s+(?:per|each|for\s+each))\b", re.IGNORECASE),
    re.compile(r"\b(?:averaged|average|mean|median)\s+(?:over|across|of)\s+" + _COUNT +
               r"\s+(?:\w+\s+)?(?:seeds|runs|trials|repetitions)\b", re.IGNORECASE),
]
_SPREAD = re.compile(r"standard deviations?|\bstd\b|standard errors?|error bars?|confidence intervals?|\\pm\b|±",
                     re.IGNORECASE)
_ABLATION = re.compile(r"\bablat\w*", re.IGNORECASE)
_RUN_COUNT = re.compile(r"(?<![\w.])" + _COUNT + r"\s+(?:(?:experiment(?:al)?|training|separate|independent|"
                        r"different|additional|more|further)\s+)?(?:runs|experiments|training\s+runs|"
                        r"configurations)\b(?!\s+(?:per|each|for\s+each))", re.IGNORECASE)
_DATASET_COUNT = re.compile(r"(?<![\w.])" + _COUNT + r"\s+(?:\w+\s+)?(?:datasets|data\s+sets|benchmarks|corpora)\b",
                            re.IGNORECASE)
# "on ArithSet, ModBench and PrimeSum datasets", "the ModBench benchmark": capitalised names before the word
_NAME = r"[A-Z][\w\-]*[\w]"
_NAMED_DATA = re.compile(r"((?:" + _NAME + r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s+or\s+))*" + _NAME +
                         r")\s+(?:datasets?|data\s+sets?|benchmarks?|corpus|corpora)\b")
_NOT_NAMES = {"The", "These", "Those", "Our", "All", "Both", "Each", "Every", "Several", "Many", "Other", "Two",
              "Three", "Four", "Five", "Synthetic", "Real", "Standard", "Public", "Training", "Test", "Validation",
              "Held", "Toy", "This", "That", "Same", "Different", "New", "Small", "Large", "We", "In", "On"}


@dataclass(frozen=True)
class Claim:
    kind: str  # dataset | model | ablation | seeds
    term: str
    sentence: str
    reason: str


@dataclass(frozen=True)
class Evidence:
    text: str  # the evidence, lower-cased words separated by single spaces
    has_ablation: bool
    seeds: int  # the most seeds any one configuration ran
    run_counts: frozenset[int] = frozenset()  # every count of runs a text may state (all, finished, changed...)
    datasets: int = 1  # distinct datasets the finished runs used (values of a `dataset` parameter), at least 1

    def mentions(self, surface: str) -> bool:
        words = re.findall(r"[a-z0-9]+", surface.lower())
        if not words:
            return False
        return re.search(r"(?<![a-z0-9])" + r"\s*".join(map(re.escape, words)), self.text) is not None

    @classmethod
    def from_study(cls, root: Path, summary: ExperimentSummary, manifest) -> Evidence:
        parts = [manifest.name, manifest.title, manifest.description]
        parts += [f"{name} {p.description}" for name, p in manifest.parameters.items()]
        parts += [f"{name} {m.description}" for name, m in manifest.metrics.items()]
        finished = [n for n in summary.nodes if n.status == NodeStatus.DONE]
        for node in finished:
            parts.append(json.dumps(node.parameters))
            parts.append(node.idea)
            path = Path(root) / (node.notebook or "")
            if path.is_file():
                nb = build.read(path)
                parts += [cell.source for cell in nb.cells]
        ablation = any(n.kind == NodeKind.ABLATION or "ablat" in n.idea.lower() for n in finished)
        words = " ".join(re.findall(r"[a-z0-9]+", " ".join(parts).lower()))
        nodes = summary.nodes
        kinds = {n.kind for n in nodes}
        counts = {len(nodes), len(finished), sum(n.kind != NodeKind.BASELINE for n in nodes),
                  sum(n.kind != NodeKind.BASELINE for n in finished), len(nodes) - len(finished),
                  *(sum(n.kind == k for n in nodes) for k in kinds)}
        dataset_keys = [k for k in manifest.parameters if "dataset" in k.lower()]
        datasets = {json.dumps([n.parameters.get(k) for k in dataset_keys]) for n in finished}
        return cls(words, ablation, seeds_per_configuration(finished, manifest.seed_parameter),
                   frozenset(counts), max(1, len(datasets)) if dataset_keys else 1)


def seeds_per_configuration(nodes: list[Node], seed_parameter: str = "seed") -> int:
    """The most seeds one configuration ran: nodes of one idea whose parameters differ only
    in the seed parameter."""
    groups: dict[str, set] = {}
    for node in nodes:
        params = dict(node.parameters)
        seed = params.pop(seed_parameter, None)
        key = json.dumps([node.idea, params], sort_keys=True, default=str)
        groups.setdefault(key, set()).add(json.dumps(seed, default=str))
    return max((len(seeds) for seeds in groups.values()), default=0)


@lru_cache(maxsize=1)
def _vocabulary() -> list[tuple[str, str, tuple[str, ...], re.Pattern]]:
    """(kind, display name, all its surface forms, pattern of one form), longest forms first."""
    data = json.loads(VOCABULARY.read_text(encoding="utf-8"))
    entries = []
    for kind, table in (("dataset", data["datasets"]), ("model", data["models"])):
        for name, forms in table.items():
            for form in forms:
                words = re.split(r"[\s\-]+", form)
                body = r"[\s\-~]*".join(re.escape(w) for w in words)
                flags = 0 if any(c.isupper() for c in form) else re.IGNORECASE
                entries.append((kind, name, tuple(forms), re.compile(rf"(?<![\w\-]){body}s?(?![\w])", flags)))
    return sorted(entries, key=lambda e: -len(e[3].pattern))


def unrun_claims(tex: str, evidence: Evidence) -> list[Claim]:
    """Experiment claims in a section that the study's notebooks do not back."""
    claims: list[Claim] = []
    for sentence in split_sentences(_plain(item_sentences(tex))):
        if not _CLAIM_CUES.search(sentence):
            continue
        claims += _vocabulary_claims(sentence, evidence)
        claims += _design_claims(sentence, evidence)
    return list({(c.kind, c.term.lower(), c.sentence): c for c in claims}.values())


def _vocabulary_claims(sentence: str, evidence: Evidence) -> list[Claim]:
    found, taken = [], []
    for kind, name, forms, pattern in _vocabulary():
        for match in pattern.finditer(sentence):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue  # inside a longer name ("Vision Transformer" is not "Transformer")
            taken.append(match.span())
            if _hedged(sentence, match.start()):
                continue
            if not any(evidence.mentions(f) for f in forms):
                found.append(Claim(kind, name, sentence, (
                    f"claims an experiment with the {kind} {name}, which no executed notebook, parameter or the "
                    f"template mentions")))
    return found


def _design_claims(sentence: str, evidence: Evidence) -> list[Claim]:
    found = []
    match = _ABLATION.search(sentence)
    if match and not evidence.has_ablation and not _hedged(sentence, match.start()):
        found.append(Claim("ablation", match.group(0), sentence,
                           "claims an ablation, but no experiment node is an ablation"))
    taken: list[tuple[int, int]] = []
    for pattern in _SEED_COUNTS:
        for match in pattern.finditer(sentence):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue  # "mean over five seeds" and "five seeds" are one claim
            taken.append(match.span())
            written = match["n"].lower()
            count = int(written) if written.isdigit() else _NUMBER_WORDS[written]
            if count > max(evidence.seeds, 1) and not _hedged(sentence, match.start()):
                found.append(Claim("seeds", match.group(0), sentence, (
                    f"claims {match.group(0).strip()!r}, but no configuration ran more than "
                    f"{max(evidence.seeds, 1)} seed{'s' if evidence.seeds > 1 else ''}")))
    for match in _RUN_COUNT.finditer(sentence):
        if any(a < match.end() and match.start() < b for a, b in taken) or _hedged(sentence, match.start()):
            continue
        written = match["n"].lower()
        count = int(written) if written.isdigit() else _NUMBER_WORDS[written]
        if evidence.run_counts and count not in evidence.run_counts and written not in ("several", "multiple", "many"):
            found.append(Claim("runs", match.group(0), sentence, (
                f"claims {match.group(0).strip()!r}, but the study's run counts are "
                f"{', '.join(map(str, sorted(evidence.run_counts)))} (all, finished, changed settings, by kind)")))
    for match in _DATASET_COUNT.finditer(sentence):
        written = match["n"].lower()
        count = int(written) if written.isdigit() else _NUMBER_WORDS[written]
        if count > evidence.datasets and not _hedged(sentence, match.start()):
            found.append(Claim("datasets", match.group(0), sentence, (
                f"claims {match.group(0).strip()!r}, but the finished runs used {evidence.datasets} "
                f"dataset{'s' if evidence.datasets != 1 else ''}")))
    for match in _NAMED_DATA.finditer(sentence):
        names = [n for n in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s+or\s+", match.group(1)) if n]
        for name in names:
            if name in _NOT_NAMES or _hedged(sentence, match.start()) or evidence.mentions(name):
                continue
            found.append(Claim("dataset", name, sentence, (
                f"claims an experiment on the dataset {name}, which no executed notebook, parameter or the "
                "template mentions")))
    spread = _SPREAD.search(sentence)
    if spread and evidence.seeds < 2 and not _hedged(sentence, spread.start()):
        found.append(Claim("seeds", spread.group(0), sentence, (
            f"reports a spread across seeds ({spread.group(0)!r}), but every configuration ran one seed")))
    return found


def item_sentences(tex: str) -> str:
    """List items and paragraphs end their sentences (a hedge in one item does not reach the next)."""
    tex = re.sub(r"\\item\b|\\(?:begin|end)\{(?:itemize|enumerate|description)\}", ".\n", tex)
    return re.sub(r"\n\s*\n", ".\n\n", tex)


def _hedged(sentence: str, position: int) -> bool:
    return _HEDGES.search(sentence[:position]) is not None


def _plain(tex: str) -> str:
    """Sentences to read: comments, citations and references gone, command names dropped."""
    text = strip_comments(tex)
    text = re.sub(r"\\[a-zA-Z]*(?:cite|ref|label)[a-zA-Z]*\*?(?:\[[^\]]*\])*\{[^}]*\}", "", text)
    text = re.sub(r"\\pm\b", " ± ", text)
    text = re.sub(r"\\(?:emph|textit|textbf|texttt|text|mathrm)\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\\[a-zA-Z]+\*?", " ", text)
    text = text.replace("~", " ").replace("{", "").replace("}", "").replace("$", "")
    return re.sub(r"[ \t]+", " ", text)
