"""LaTeX in BibTeX values -> plain text for display, search and duplicate detection.

The .bib keeps the author's LaTeX untouched; only derived text is decoded. pylatexenc
does the decoding, but it costs ~0.25 ms a value, so values without a backslash take a
fast path (strip the protective braces) and repeated values (author lists) are cached.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

_SPACES = re.compile(r"\s+")
_decoder = LatexNodes2Text(math_mode="verbatim", keep_braced_groups=False)


@lru_cache(maxsize=65536)
def latex_to_text(value: str | None) -> str:
    if not value:
        return ""
    if "\\" not in value and "$" not in value:
        text = value.replace("{", "").replace("}", "").replace("~", " ")
    else:
        try:
            text = _decoder.latex_to_text(value)
        except Exception:  # pylatexenc rejects some malformed input; keep the words anyway
            text = re.sub(r"\\[a-zA-Z]+|[{}\\]", "", value)
    return _SPACES.sub(" ", text).strip()


_BIBTEX_SPECIALS = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "$": r"\$"}
_SPECIAL_RE = re.compile(r"(?<!\\)[&%#_$]")


def text_to_bibtex_value(text: str) -> str:
    """Plain text from an online source -> a value safe inside `{...}` in a .bib.

    Unicode stays as it is (biber and bibtex8 read UTF-8); characters that LaTeX treats
    as commands are escaped, and unbalanced braces are dropped so the entry stays parseable.
    """
    text = _SPACES.sub(" ", text).strip()
    text = _SPECIAL_RE.sub(lambda m: _BIBTEX_SPECIALS[m.group(0)], text)
    if not braces_balanced(text):
        text = text.replace("{", "").replace("}", "")
    return text


def braces_balanced(text: str) -> bool:
    depth = 0
    for index, char in enumerate(text):
        if char in "{}" and index > 0 and text[index - 1] == "\\":
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0
