"""The number checker: every number a section states must be a macro from values.tex, a
structural number, or match a fact of the study within the rounding it is written with.

Facts are the records of the executed notebooks, the parameters every node ran with, the
template's declared values and description, the study's settings (time limit) and counts
(runs, ideas, seeds). Structural numbers are not claims about results and pass:

- years (1900-2100, written without decimals) and ordinals (1st, 3rd);
- numbers after Section / Figure / Table / Equation / Appendix / Algorithm / Line / page ...;
- enumerations: "(1)", "(2)" and "1." or "1)" at the start of a line;
- inside \\cite, \\ref, \\label, \\url, \\includegraphics and other key or path arguments;
- integers inside math, and exponents / subscripts there (equation constants: $x^2$, $\\frac{1}{2}$);
- lengths (0.8\\linewidth, 3pt) and the integers 0 and 1;
- digits that are part of a name: L2, 2D, fp16, GPT-4, top-1, CIFAR-10.

"Within rounding" is strict: 0.30 matches 0.2979 (it rounds to it), 0.29 does not. A
percentage matches a fact either as written or divided by 100 (93.4\\% matches 0.934).
A number must also be about the fact it matches (aisci.paper.meaning): its sentence names the
fact's quantity, or names no quantity and shares a word with the fact's context (run, parameter,
description). A fact that names nothing (a bare Fact(value, source)) matches any sentence.

The template's own words (its title, description, metric and parameter descriptions, the baseline's
markdown) are its author's, checked when the template is validated, not on every run. The rule: a
sentence of the paper quoted from them (5 words or more, word for word) is not checked, and a number
taken from them is a fact bound to the 3 words on either side of it there ("4 attention heads"
backs "the model has 4 attention heads", never "4 layers").
Limits: numbers written as words ("ninety") are not read; a sentence that names the right
quantity for the wrong run passes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from aisci.paper import meaning
from aisci.paper.sections import strip_comments


@dataclass(frozen=True)
class Fact:
    value: float
    source: str  # where it comes from, for messages: "record final_loss of baseline/node-0"
    quantity: frozenset[str] = frozenset()  # what it measures ("accuracy"): aisci.paper.meaning
    context: frozenset[str] = frozenset()  # its description, unit, run, parameter name
    measured: bool = False  # a record of a run: its quantity words name what the study measures

    @property
    def bound(self) -> bool:
        """A fact that names what it is about; one that names nothing matches any sentence."""
        return bool(self.quantity or self.context)

    def about(self, sentence: set[str], named_quantities: set[str]) -> bool:
        """Whether a sentence with these words can be stating this fact: it names the fact's
        quantity, or it names no quantity of the study and shares a word with its context."""
        if not self.bound or self.quantity & sentence:
            return True
        return not (sentence & named_quantities) and bool((self.context | self.quantity) & sentence)


@dataclass(frozen=True)
class NumberUse:
    text: str  # as written
    value: float
    decimals: int  # digits after the point (negative for a written exponent: 1e-3 is -(-3))
    percent: bool
    start: int
    end: int
    structural: str | None  # why it is not a claim, or None

    def snippet(self, tex: str, width: int = 50) -> str:
        left = max(0, self.start - width)
        return " ".join(tex[left:self.end + width].split())


# --- masking: spans whose digits are keys, paths or macros, never numbers ----------------------------
_KEY_COMMANDS = re.compile(
    r"\\(?:[a-zA-Z]*cite[a-zA-Z]*|ref|eqref|autoref|[cC]ref|pageref|label|url|input|include|includegraphics|"
    r"bibliography[a-z]*|begin|end|usepackage|documentclass|[hv]space|setlength|addtolength|newcommand|"
    r"renewcommand|href|fontsize|linespread|resizebox)\*?(?:\s*\[[^\]]*\])*\s*\{[^}]*\}")
_VALUE_MACRO = re.compile(r"\\R[A-Z][A-Za-z]*")
_MATH = re.compile(r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$|\\\(.*?\\\)|\\\[.*?\\\]|"
                   r"\\begin\{(equation|align|gather|multline|eqnarray|math|displaymath)\*?\}.*?\\end\{\1\*?\}",
                   re.DOTALL)


def _blank(text: str, span: tuple[int, int]) -> str:
    start, end = span
    return text[:start] + " " * (end - start) + text[end:]


def mask(tex: str) -> str:
    """`tex` with comments, key arguments and value macros blanked out (same length, so
    positions still point into the original)."""
    text = re.sub(r"(?<!\\)%[^\n]*", lambda m: " " * len(m.group(0)), tex)
    for pattern in (_KEY_COMMANDS, _VALUE_MACRO):
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


# --- finding numbers ----------------------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\w.])(?P<int>\d{1,3}(?:(?:,|\{,\})\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
                     r"(?:[eE](?P<exp>[-+]?\d+))?")
_TIMES_TEN = re.compile(r"(?P<mant>\d+(?:\.\d+)?)\s*\\?(?:times|cdot)\s*10\s*\^\s*\{?\s*(?P<exp>[-+−]?\d+)\s*\}?")
_POWER_OF_TEN = re.compile(r"(?<![\d.])10\s*\^\s*\{?\s*(?P<exp>[-+−]?\d+)\s*\}?")
_REFERENCE_WORDS = re.compile(
    r"\b(?:section|sec\.|sections|figure|figures|fig\.|figs\.|table|tables|tab\.|equation|equations|eq\.|eqs\.|"
    r"appendix|algorithm|alg\.|chapter|line|lines|theorem|lemma|definition|corollary|"
    r"proposition|page|pages|p\.|pp\.|item|run\s+no\.|no\.|version|v\.)\s*~?\s*"
    r"(?:\d+\s*(?:,|and|or|to|--|-)\s*~?\s*)*$", re.IGNORECASE)
_LENGTH_UNIT = re.compile(r"(?:pt|mm|cm|em|ex|in|bp|sp|pc)\b|\s*\\(?:line|text|column|paper)width|"
                          r"\s*\\(?:text|paper)height")
_ORDINAL = re.compile(r"(?:st|nd|rd|th)\b")
_PERCENT = re.compile(r"\s*(?:\\%|\\,\\%|~?\\percent\b|\s+percent\b|\s+per\s+cent\b)")


def find_numbers(tex: str) -> list[NumberUse]:
    """Every number in a section's LaTeX, each marked structural (with the reason) or not."""
    text = mask(tex)
    math_spans = [m.span() for m in _MATH.finditer(text)]
    in_math = lambda pos: any(a <= pos < b for a, b in math_spans)
    found: list[NumberUse] = []
    taken: list[tuple[int, int]] = []
    for match in list(_TIMES_TEN.finditer(text)) + list(_POWER_OF_TEN.finditer(text)):
        if any(a < match.end() and match.start() < b for a, b in taken):
            continue
        exp = int(match["exp"].replace("−", "-"))
        mantissa = match.groupdict().get("mant")
        value = float(mantissa or 1) * 10.0 ** exp
        decimals = (len(mantissa.split(".")[1]) if mantissa and "." in mantissa else 0) - exp
        taken.append(match.span())
        found.append(NumberUse(tex[match.start():match.end()], value, decimals, False, match.start(), match.end(), None))
    for match in _NUMBER.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        use = _number_use(text, tex, match, in_math(match.start()))
        if use is not None:
            found.append(use)
    return sorted(found, key=lambda u: u.start)


def _number_use(text: str, tex: str, match: re.Match, math: bool) -> NumberUse | None:
    start, end = match.span()
    before, after = text[:start], text[end:]
    if re.search(r"[A-Za-z]-$", before):  # GPT-4, top-1, CIFAR-10: part of a name
        return None
    if after[:1].isalpha() and not _ORDINAL.match(after) and not re.match(r"[x×](?![A-Za-z])", after):
        return None  # 2D, 16bit
    negative = bool(re.search(r"(?:^|[\s(\[{=,;:$])[-−]$", before) or re.search(r"\$-\$$", before))
    integer = match["int"].replace("{,}", "").replace(",", "")
    frac, exp = match["frac"] or "", match["exp"]
    value = float(f"{integer}.{frac}" if frac else integer) * (10.0 ** int(exp) if exp else 1)
    value = -value if negative else value
    decimals = len(frac) - (int(exp) if exp else 0)
    percent_match = _PERCENT.match(after)
    percent = percent_match is not None
    shown_end = end + (percent_match.end() if percent_match else 0)
    structural = _structural(before, after, integer, frac, exp, value, math)
    return NumberUse(tex[start - (1 if negative else 0):shown_end], value, decimals, percent, start, shown_end,
                     structural)


def _structural(before: str, after: str, integer: str, frac: str, exp: str | None, value: float,
                math: bool) -> str | None:
    whole = not frac and not exp
    if _ORDINAL.match(after) and whole:
        return "ordinal"
    if _LENGTH_UNIT.match(after):
        return "length"
    if re.search(r"[\^_]\s*\{?\s*[-−]?$", before):
        return "exponent or subscript"
    if whole and 1900 <= value <= 2100 and len(integer) == 4:
        return "year"
    if _REFERENCE_WORDS.search(before):
        return "section, figure or table number"
    if whole and re.search(r"(?:^|\n)\s*(?:\\item\s*)?[(\[]?$", before) and re.match(r"[.)\]]", after):
        return "enumeration"
    if whole and re.search(r"\(\s*$", before) and re.match(r"\s*\)", after) and value <= 20:
        return "enumeration"
    if math and whole:
        return "equation constant"
    if whole and value in (0, 1):
        return "zero or one"
    return None


# --- matching facts -----------------------------------------------------------------------------
def matching_fact(use: NumberUse, facts: list[Fact], sentence: set[str] | None = None,
                  named_quantities: set[str] = frozenset()) -> Fact | None:
    """The first fact the number rounds from (sign aside: "a drop of 0.29" states -0.29) and,
    given the words of its sentence, that the sentence is about (Fact.about)."""
    tolerance = 0.5 * 10.0 ** (-use.decimals)
    shown = [abs(use.value)] + ([abs(use.value) / 100] if use.percent else [])
    for fact in facts:
        if not math.isfinite(fact.value):
            continue
        if sentence is not None and not fact.about(sentence, named_quantities):
            continue
        for index, value in enumerate(shown):
            scale = 1 if index == 0 else 100
            if abs(abs(fact.value) - value) * scale <= tolerance * (1 + 1e-9) + 1e-12:
                return fact
    return None


def unmatched_numbers(tex: str, facts: list[Fact], template_text: str = "") -> list[NumberUse]:
    """The numbers of a section that are neither structural nor a fact of the study that their
    sentence (or table row) is about. A sentence quoted from the template's own text (its
    description, metric and parameter descriptions) is its author's and is not checked here."""
    named = set().union(*(f.quantity for f in facts if f.measured))
    masked = mask(tex)
    quoted = " " + " ".join(re.findall(r"[a-z0-9]+", template_text.lower())) + " "
    found = []
    for use in find_numbers(tex):
        if use.structural is not None:
            continue
        context = meaning.context_of(masked, use.start, use.end)
        said = re.findall(r"[a-z0-9]+", re.sub(r"\\[a-zA-Z]+", " ", context).lower())
        if template_text and len(said) >= 5 and f" {' '.join(said)} " in quoted:
            continue
        sentence = meaning.words(context)
        if matching_fact(use, facts, sentence, named) is None:
            found.append(use)
    return found


def nearest_fact(use: NumberUse, facts: list[Fact]) -> Fact | None:
    """A fact the number rounds from whatever its sentence is about (for the message)."""
    return matching_fact(use, facts)


def numbers_in_text(text: str) -> list[float]:
    """Plain numbers in free text (a template's description), as facts the paper may repeat:
    read by the same grammar as the paper's numbers ("10,000", "1.5e-3")."""
    found = []
    for match in _NUMBER.finditer(strip_comments(text)):
        integer = match["int"].replace("{,}", "").replace(",", "")
        value = float(f"{integer}.{match['frac']}" if match["frac"] else integer)
        found.append(value * (10.0 ** int(match["exp"]) if match["exp"] else 1))
    return found


def numbers_in_context(text: str, width: int = 3) -> list[tuple[float, str]]:
    """Each number of a free text with the `width` words on either side of it."""
    text = strip_comments(text)
    found = []
    for match in _NUMBER.finditer(text):
        integer = match["int"].replace("{,}", "").replace(",", "")
        value = float(f"{integer}.{match['frac']}" if match["frac"] else integer)
        value *= 10.0 ** int(match["exp"]) if match["exp"] else 1
        before = re.findall(r"[A-Za-z_][\w]*", text[:match.start()])[-width:]
        after = re.findall(r"[A-Za-z_][\w]*", text[match.end():match.end() + 200])[:width]
        found.append((value, " ".join(before + after)))
    return found


def as_number(value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
