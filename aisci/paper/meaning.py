"""What a number in the text is about: the words of its sentence (or of its table row and
header), and the words that name what each fact of the study measures.

A fact names its quantity (the words of a record's metric name, "accuracy" for final_val_acc,
"loss" for final_val_loss) and its context (the record's description and unit, the run that
recorded it, a parameter's name). A number is bound to a fact when its sentence names the fact's
quantity, or, when the sentence names no quantity of the study at all, when it shares a word
with the fact's context. So "improves accuracy to 0.99" cannot be backed by a validation loss
of 0.985, and "4 layers" cannot be backed by 4 attention heads.

Words are lower-cased, split at anything not a letter or digit (final_val_acc is final, val,
acc), plurals folded (accuracies, heads), and common abbreviations read as their words (acc is
accuracy, val is validation, lr is learning rate).
"""

from __future__ import annotations

import re

SYNONYMS = {
    "acc": ("accuracy",), "accuracy": ("acc",), "val": ("validation",), "validation": ("val",),
    "lr": ("learning", "rate"), "wd": ("weight", "decay"), "swd": ("sliced", "wasserstein"),
    "mse": ("loss", "error"), "nll": ("loss",), "ce": ("loss", "entropy"), "loss": ("error",),
    "num": ("number",), "params": ("parameter",), "sec": ("second",),
    "second": ("time",), "seconds": ("time",), "step": ("iteration",), "steps": ("iteration",),
    "iteration": ("step",), "epoch": ("pass",), "seed": ("replica",), "replica": ("seed",),
    "hidden": ("width",),
    "pct": ("percent",), "frac": ("fraction",), "fraction": ("share", "proportion", "percent"),
}
STOPWORDS = frozenset("""
a an the of to in on for with and or at by is are was were be been after before when than its it this that
these those from as into over under per each every all any our we us their they them which who what where how
also not no only then there here very more most less least up down out about between both either same other
number value values final last first total set using use used uses show shows shown reach reaches reached
improve improves improved increase increasing increases decrease decreasing decreases gives give given
get gets got make makes made while whereas compared versus vs one two three four five six seven eight nine ten
record records recorded texttt emph textbf textit mathrm text
""".split())
# words that qualify a quantity without being one: "final validation accuracy" is about accuracy
QUALIFIERS = frozenset("""
final best last first mean max min minimum maximum average avg median train training val validation test
held heldout baseline minus delta difference reached to at of per after overall
""".split())


def fold(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    """The content words of a text, folded, with their synonyms."""
    text = re.sub(r"\\[a-zA-Z]+", " ", text)  # command names are not words of the sentence
    found: set[str] = set()
    for raw in re.findall(r"[A-Za-z][A-Za-z0-9]*", text.replace("\\_", "_")):
        word = fold(raw)
        if word in STOPWORDS or len(word) < 2 and word not in SYNONYMS:
            continue
        found.add(word)
        found.update(fold(s) for s in SYNONYMS.get(word, ()))
    return found - STOPWORDS


def quantity_words(name: str) -> set[str]:
    """What a record or metric name measures: its words without the qualifiers (all of them when
    nothing else is left: num_runs measures runs)."""
    every = {w for w in words(name.replace("_", " ")) if not w.isdigit()}
    return {w for w in every if w not in QUALIFIERS} or every


# --- the context of a number in LaTeX ------------------------------------------------------------------
_TABULAR = re.compile(r"\\begin\{tabular\*?\}.*?\\end\{tabular\*?\}", re.DOTALL)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\$(`'\"])|\n\s*\n|\\item\b|\\\\|\\(?:sub)*section\*?\{|\\paragraph\{")


def context_of(tex: str, start: int, end: int) -> str:
    """The sentence a number at [start, end) stands in; in a table, its row and the header row."""
    for table in _TABULAR.finditer(tex):
        if table.start() <= start < table.end():
            rows = re.split(r"\\\\", table.group(0))
            offset = table.start()
            for row in rows:
                if offset <= start < offset + len(row) + 2:
                    header = next((r for r in rows if "&" in r), "")
                    return header + " " + row
                offset += len(row) + 2
    left = max((m.end() for m in _BOUNDARY.finditer(tex, 0, start)), default=0)
    right = next((m.start() for m in _BOUNDARY.finditer(tex, end)), len(tex))
    return tex[left:right]
