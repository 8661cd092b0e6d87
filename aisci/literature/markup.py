"""What literature sources put in titles and abstracts -> LaTeX for a .bib field.

- "text": plain text (Semantic Scholar, names everywhere); HTML entities are decoded.
- "tex": arXiv's TeX: `$math$` stays math when it is safe to typeset, accents and other
  text-mode TeX become the characters they stand for; a literal "\\n" is a line break.
- "html": HTML and JATS from OpenAlex and Crossref: italics, bold, small capitals,
  sub- and superscripts become their LaTeX commands, entities their characters, other
  tags (paragraphs, MathML wrappers) are dropped and their text kept.

Every result passes `latex_safety.latex_problem`; what does not is written as plain text
and the reason kept in `Encoded.substitutes`.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Literal

from aisci.literature.encoding import Encoded, encode_text
from pylatexenc.latex2text import LatexNodes2Text
from aisci.literature.latex_safety import known_command, latex_problem

Markup = Literal["text", "tex", "html"]

_HTML_COMMANDS = {"i": "textit", "em": "textit", "italic": "textit", "b": "textbf", "strong": "textbf",
                  "bold": "textbf", "sup": "textsuperscript", "sub": "textsubscript", "sc": "textsc",
                  "scp": "textsc", "small-caps": "textsc", "tt": "texttt", "monospace": "texttt"}
_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")
_BACKSLASH_NRT = re.compile(r"\\([nrt])([A-Za-z]*)")


_PLAIN = LatexNodes2Text(math_mode="text", keep_braced_groups=False)


def plain_text(latex: str) -> str:
    """The words of a LaTeX value, math as the characters it shows (for a plain fallback)."""
    try:
        return _PLAIN.latex_to_text(latex)
    except Exception:  # pylatexenc rejects some malformed input; keep the words anyway
        return re.sub(r"\\[a-zA-Z]+|[{}\\$]", "", latex)


def plain_name(name: str, markup: Markup = "text") -> str:
    """A person's name as plain text: arXiv writes "Cand\\`es", Crossref "M&#252;ller".
    An organisation's outer braces ("{PDP Research Group}") are kept."""
    if name.startswith("{") and name.endswith("}"):
        return "{" + plain_name(name[1:-1], markup) + "}"
    if markup == "tex" and ("\\" in name or "{" in name):
        return plain_text(name)
    if markup == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", name))
    return html.unescape(name)


def to_latex(text: str, markup: Markup = "text") -> Encoded:
    if markup == "html":
        result = _html_to_latex(text)
    elif markup == "tex":
        result = _tex_to_latex(text)
    else:
        result = encode_text(html.unescape(text))
    problem = latex_problem(result.latex)
    if problem:  # fail closed: plain words rather than a paper that does not compile
        plain = encode_text(plain_text(result.latex))
        plain.substitutes = result.substitutes + [f"markup written as plain text ({problem})"]
        return plain
    return result


# --- arXiv TeX ------------------------------------------------------------------------------
def _tex_to_latex(text: str) -> Encoded:
    out = Encoded("")
    parts, last = [], 0
    for match in _MATH.finditer(text):
        parts.append(_tex_text(text[last:match.start()], out))
        parts.append(_tex_math(match.group(1), out))
        last = match.end()
    parts.append(_tex_text(text[last:], out))
    out.latex = "".join(parts)
    return out


def _tex_text(text: str, out: Encoded) -> str:
    # keep the spaces around math that the clean-up of whitespace would trim
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    text = _BACKSLASH_NRT.sub(_escaped_break, text)
    if "\\" in text or "{" in text:  # TeX accents and commands -> the characters they mean
        unknown = [c for c in re.findall(r"\\([A-Za-z]+)", text) if not known_command(c)]
        out.substitutes += [f"unknown command \\{c} dropped" for c in dict.fromkeys(unknown)]
        text = plain_text(text.replace("\\$", "\x00")).replace("\x00", "$")
    encoded = encode_text(text)
    out.substitutes += encoded.substitutes
    return lead + encoded.latex + trail if encoded.latex else lead or trail


def _escaped_break(match: re.Match) -> str:
    """A "\\n" written out in the text (a line break that lost its meaning on the way) is a
    space, unless it starts a real command (\\nu, \\textit)."""
    return match.group(0) if known_command(match.group(1) + match.group(2)) else " " + match.group(2)


def _tex_math(math: str, out: Encoded) -> str:
    parts = []
    for char in math:
        if char.isascii():
            parts.append(char)
        else:
            encoded = encode_text(char, math=True)
            out.substitutes += encoded.substitutes
            parts.append(encoded.latex)
    candidate = "$" + "".join(parts).strip() + "$"
    problem = latex_problem(candidate)
    if problem is None:
        return candidate
    out.substitutes.append(f"math ${math}$ written as text ({problem})")
    encoded = encode_text(plain_text(candidate))
    out.substitutes += encoded.substitutes
    return encoded.latex


# --- HTML and JATS ----------------------------------------------------------------------------
class _HtmlToLatex(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[bool] = []  # per open tag: whether it opened a LaTeX group
        self.out = Encoded("")

    def handle_starttag(self, tag, attrs):
        if not _is_markup(tag):  # "a<b" in a title is a comparison, not a <b> tag
            self.parts.append(self._text(self.get_starttag_text() or ""))
            self.open.append(False)
            return
        command = _HTML_COMMANDS.get(tag.split(":")[-1].lower())
        if command:
            self.parts.append("\\" + command + "{")
        elif tag.lower() in ("p", "br", "div", "jats:p", "jats:title", "jats:sec"):
            self.parts.append(" ")
        self.open.append(bool(command))

    def handle_startendtag(self, tag, attrs):
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if not _is_markup(tag):
            self.parts.append(self._text(f"</{tag}>"))
            return
        if self.open and self.open.pop():
            self.parts.append("}")

    def handle_data(self, data):
        # publishers write TeX math in titles too ("Sparse $\ell_1$ recovery"); other text is text
        parts, last = [], 0
        for match in _MATH.finditer(data):
            parts.append(self._text(data[last:match.start()]))
            parts.append(_tex_math(match.group(1), self.out))
            last = match.end()
        parts.append(self._text(data[last:]))
        self.parts.append("".join(parts))

    def _text(self, data: str) -> str:
        encoded = encode_text(data)
        self.out.substitutes += encoded.substitutes
        lead = " " if data[:1].isspace() else ""
        trail = " " if data[-1:].isspace() and encoded.latex else ""
        return lead + encoded.latex + trail


_EMPTY_MARKUP = re.compile(r"\\(?:" + "|".join(set(_HTML_COMMANDS.values())) + r")\{\s*\}")
_MARKUP_TAGS = frozenset("i em b strong sup sub sc scp tt u small span p br div a font math".split())


def _is_markup(tag: str) -> bool:
    """Tags publishers use: HTML's inline ones and anything namespaced (jats:, mml:)."""
    return ":" in tag or tag.lower() in _MARKUP_TAGS


# a "<" that opens a well-formed tag; any other (a comparison: "a<b and c>d") is text
_TAG_START = re.compile(r"<(?!/?[A-Za-z][\w:.-]*(?:\s+[\w:.-]+=(?:\"[^\"]*\"|'[^']*'))*\s*/?>)")


def _html_to_latex(text: str) -> Encoded:
    parser = _HtmlToLatex()
    parser.feed(_TAG_START.sub("&lt;", text))
    parser.close()
    parser.parts += ["}" for opened in parser.open if opened]
    latex = _EMPTY_MARKUP.sub("", "".join(parser.parts))  # a tag around nothing
    latex = " ".join(latex.split())
    return Encoded(latex, parser.out.substitutes)
