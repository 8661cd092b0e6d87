"""Brace-protect the capitals of a title, as Better BibTeX does, so that a bibliography
style that lower-cases titles (plainnat) prints "GANs", "NLG 530B" and "Bayesian" as
written.

Protected: words with a capital after their first letter (GANs, ImageNet, 530B), words
capitalised mid-sentence (proper nouns; in a title-case title, every capitalised word),
and math. Not protected: the first word and the first word after a colon, which BibTeX
styles keep as they are anyway.
"""

from __future__ import annotations

import re

from aisci.literature.latex import latex_to_text

# A title at brace depth 0: math, a braced group (a special character such as {\'e}, or
# text already protected), a command with its braced arguments, a word character, or other.
_TOKEN = re.compile(r"(?<!\\)\$[^$]*(?<!\\)\$|\{|\\[A-Za-z]+|\\.|[\w']|.", re.DOTALL)


def protect_case(title: str) -> str:
    units = _units(title)
    out: list[str] = []
    word: list[str] = []
    sentence_start = True

    def flush():
        nonlocal sentence_start
        if not word:
            return
        latex = "".join(word)
        text = latex_to_text(latex)
        if text and _needs_protection(text, sentence_start):
            latex = "{" + latex + "}"
        out.append(latex)
        word.clear()
        sentence_start = False

    for kind, unit in units:
        if kind == "word":
            word.append(unit)
            continue
        flush()
        if kind == "math":
            out.append("{" + unit + "}")
            sentence_start = False
        else:
            out.append(unit)
            if unit.strip() == ":":
                sentence_start = True
    flush()
    return "".join(out)


def _needs_protection(text: str, sentence_start: bool) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    inner_capital = any(c.isupper() for c in text[1:])
    capitalised = text[0].isupper()
    return inner_capital or (capitalised and not sentence_start)


def _units(title: str) -> list[tuple[str, str]]:
    """(kind, LaTeX) pieces: "word" (part of a word), "math", "group" (already protected),
    or "other" (spaces, punctuation, formatting commands with their arguments)."""
    units: list[tuple[str, str]] = []
    index = 0
    while index < len(title):
        match = _TOKEN.match(title, index)
        token = match.group(0)
        if token == "{":
            end = _group_end(title, index)
            group = title[index:end]
            # {\'e}: a special character, part of the word around it
            units.append(("word" if group.startswith("{\\") and not group.startswith("{\\ensuremath") else "group",
                          group))
            index = end
        elif token.startswith("$"):
            units.append(("math", token))
            index = match.end()
        elif re.fullmatch(r"\\[A-Za-z]+", token):
            end = match.end()
            while end < len(title) and title[end] == "{":  # its arguments, already brace-protected
                end = _group_end(title, end)
            units.append(("other", title[index:end]))
            index = end
        elif re.fullmatch(r"\\.", token) or re.fullmatch(r"[\w']", token):
            units.append(("word" if token[-1].isalnum() or token == "'" else "other", token))
            index = match.end()
        else:
            units.append(("other", token))
            index = match.end()
    return units


def _group_end(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "\\":
            continue
        if char == "{" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif char == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)
