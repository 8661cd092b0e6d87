"""Unicode -> LaTeX that pdflatex typesets, for every text field written to a .bib.

Text is normalised to NFC and stripped of control characters first. pylatexenc encodes
each character; its answer is used only for characters known to typeset with both the
OT1 and T1 font encodings (aisci/data/pdflatex_glyphs.json, made by
scripts/probe_pdflatex_glyphs.py). A base letter with combining accents that NFC cannot
compose ("ı" + U+0301) gets the accent macros pylatexenc uses for composed letters. What
is left degrades to its ASCII transliteration (anyascii), and the caller is told, so a
reference can never stop the paper from compiling.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from anyascii import anyascii
from pylatexenc.latexencode import UnicodeToLatexEncoder

_GLYPHS = Path(__file__).resolve().parents[1] / "data" / "pdflatex_glyphs.json"
_ENCODER = UnicodeToLatexEncoder(non_ascii_only=True, replacement_latex_protection="braces-almost-all",
                                 unknown_char_policy="keep", unknown_char_warning=False)
# ASCII characters that mean something to LaTeX or BibTeX. Braces become text macros, not
# \{ \}: BibTeX counts braces even when escaped.
ASCII_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "&": r"\&",
                  "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}",
                  "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
_MACRO = re.compile(r"\\(?:[A-Za-z]+|.)")


@dataclass
class Encoded:
    latex: str
    substitutes: list[str] = field(default_factory=list)  # "中 as Zhong": characters written as ASCII stand-ins


def clean(text: str) -> str:
    """NFC, control and format characters dropped, whitespace runs as one space."""
    kept = []
    for char in str(text):
        category = unicodedata.category(char)
        if char in "\t\n\r" or category in ("Zs", "Zl", "Zp"):
            kept.append(" ")
        elif category[0] != "C":  # Cc, Cf, Co, Cs, Cn: nothing a reader should see
            kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def graphemes(text: str) -> list[str]:
    """Each base character with the combining marks that follow it."""
    out: list[str] = []
    for char in text:
        if out and unicodedata.combining(char):
            out[-1] += char
        else:
            out.append(char)
    return out


def encode_text(text: str, *, math: bool = False) -> Encoded:
    """Plain text -> LaTeX: specials escaped, every other character encoded (see module doc).
    With `math`, the result is for math mode (text-only forms wrapped in \\text)."""
    result = Encoded("")
    parts = []
    for grapheme in graphemes(clean(text)):
        if grapheme.isascii():
            parts.append(ASCII_SPECIALS.get(grapheme, grapheme) if not math or not grapheme.isalnum() else grapheme)
            continue
        parts.append(_encode_grapheme(grapheme, math, result))
    result.latex = "".join(parts)
    return result


def encode_non_ascii(value: str) -> Encoded:
    """A LaTeX value (a .bib field as a person wrote it) with only its non-ASCII characters
    encoded; its ASCII, macros and all, is left as it is."""
    result = Encoded("")
    parts, in_math, previous = [], False, ""
    for grapheme in graphemes(clean(value)):
        if grapheme == "$" and previous != "\\":
            in_math = not in_math
        parts.append(grapheme if grapheme.isascii() else _encode_grapheme(grapheme, in_math, result))
        previous = grapheme
    result.latex = "".join(parts)
    return result


def _encode_grapheme(grapheme: str, math: bool, result: Encoded) -> str:
    latex, exact = _grapheme_latex(grapheme)
    if not exact:
        result.substitutes.append(f"{grapheme} as {latex_to_plain(latex) or 'nothing'}")
    if math and latex and not latex.isalnum():
        inner = re.fullmatch(r"\{\\ensuremath\{(.*)\}\}", latex)
        # in math already: the symbol itself (\omega); a text-only form goes in \text
        latex = "{" + inner.group(1) + "}" if inner else (latex if "\\ensuremath" in latex else r"\text{" + latex + "}")
    return latex


@lru_cache(maxsize=16384)
def _grapheme_latex(grapheme: str) -> tuple[str, bool]:
    """(LaTeX, exact) for one non-ASCII grapheme; an inexact answer is a stand-in."""
    if len(grapheme) == 1 and typesets(grapheme):
        return _ENCODER.unicode_to_latex(grapheme), True
    decomposed = unicodedata.normalize("NFD", grapheme)
    base, marks = decomposed[0], decomposed[1:]
    if marks and base != grapheme:
        latex, exact = _grapheme_latex(base) if not base.isascii() else (base, True)
        if exact and "\\ensuremath" not in latex:  # text accents go on text letters only
            accents = [accent_macro(mark) for mark in marks]
            if None not in accents:
                for accent in accents:
                    latex = "{" + accent + "{" + _unbraced(latex) + "}}"
                return latex, True
        if exact:  # the letter without the accent pdflatex cannot put on it
            return latex, False
    compat = unicodedata.normalize("NFKC", grapheme)
    if compat != grapheme and all(typesets(c) or c.isascii() for c in compat):
        encoded = encode_text(compat)
        if not encoded.substitutes:
            return encoded.latex, True
    return "".join(ASCII_SPECIALS.get(c, c) for c in anyascii(grapheme).strip()), False


def latex_to_plain(latex: str) -> str:
    """A stand-in as the reader sees it (for the report): its escapes undone."""
    inverse = {v: k for k, v in ASCII_SPECIALS.items()}
    return re.sub(r"\\(?:[A-Za-z]+\{\}|.)", lambda m: inverse.get(m.group(0), m.group(0)), latex)


def _unbraced(latex: str) -> str:
    return latex[1:-1] if latex.startswith("{") and latex.endswith("}") and latex.count("{") == 1 else latex


@lru_cache(maxsize=256)
def accent_macro(mark: str) -> str | None:
    """The accent macro pylatexenc writes for a combining mark (U+0301 -> \\'), found by
    encoding a letter it composes with; None if no such letter typesets."""
    for base in "aeioucgsznrtlkhdwyAEIOUCGSZNRTLKHDWY":
        composed = unicodedata.normalize("NFC", base + mark)
        if len(composed) != 1 or not typesets(composed):
            continue
        latex = _ENCODER.unicode_to_latex(composed)
        match = re.fullmatch(r"\{?(\\[^A-Za-z]|\\[A-Za-z]+)\s*\{?" + base + r"\}?\}?", latex)
        if match:
            return match.group(1)
    return None


@lru_cache(maxsize=1)
def _safe_ranges() -> tuple[list[int], list[int]]:
    ranges = json.loads(_GLYPHS.read_text(encoding="utf-8"))["ranges"]
    return [low for low, _ in ranges], [high for _, high in ranges]


def typesets(char: str) -> bool:
    """Whether pdflatex typesets pylatexenc's encoding of this character (OT1 and T1)."""
    lows, highs = _safe_ranges()
    code = ord(char)
    index = bisect.bisect_right(lows, code) - 1
    return index >= 0 and code <= highs[index]


@lru_cache(maxsize=1)
def glyph_macros() -> tuple[frozenset[str], frozenset[str]]:
    """(text-mode, math-mode) macro names that the safe character encodings use."""
    text, math = set(), set()
    lows, highs = _safe_ranges()
    for low, high in zip(lows, highs):
        for code in range(low, high + 1):
            latex = _ENCODER.unicode_to_latex(chr(code))
            names = {m[1:] for m in _MACRO.findall(latex)}
            if "\\ensuremath" in latex:
                math |= names - {"ensuremath"}
            else:
                text |= names
    return frozenset(text), frozenset(math)
