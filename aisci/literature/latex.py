"""LaTeX in BibTeX values -> plain text for display, search and duplicate detection.
(The other direction, text -> LaTeX, is `encoding` and `markup`.)

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
