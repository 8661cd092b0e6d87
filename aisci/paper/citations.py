"""Citations in the sections: every key must be in references.bib (a key a model invented is
rejected), and a sentence that names a method of the attribution table must cite the work
that introduced it (aisci.literature.attribution does the reading)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from aisci.literature.attribution import CitationIssue, load_table
from aisci.literature.model import Reference
from aisci.paper.sections import strip_comments

_CITE = re.compile(r"(?P<command>\\[a-zA-Z]*cite[a-zA-Z]*\*?)(?P<opts>(?:\s*\[[^\]]*\]){0,2})\s*\{(?P<keys>[^}]*)\}")


@dataclass(frozen=True)
class UnknownKey:
    key: str
    suggestion: str | None  # the closest key that does exist, if any is close


def cited_keys(tex: str) -> list[str]:
    """Keys of every \\cite-like command (natbib's \\citep, \\citet, ... too), in order."""
    keys = []
    for match in _CITE.finditer(strip_comments(tex)):
        keys += [k.strip() for k in match["keys"].split(",") if k.strip()]
    return list(dict.fromkeys(keys))


def unknown_keys(tex: str, known: set[str]) -> list[UnknownKey]:
    found = []
    for key in cited_keys(tex):
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
            found.append(UnknownKey(key, close[0] if close else None))
    return found


def remove_keys(tex: str, keys: set[str]) -> str:
    """`tex` without the given keys; a citation left with no key goes, with the tie before it."""
    def replace(match: re.Match) -> str:
        kept = [k.strip() for k in match["keys"].split(",") if k.strip() and k.strip() not in keys]
        return f"{match['command']}{match['opts']}{{{','.join(kept)}}}" if kept else "\x00"

    text = _CITE.sub(replace, tex)
    text = re.sub(r"[ \t]*~?\x00", "\x00", text)
    text = re.sub(r"\(\s*\x00\s*\)", "\x00", text)
    return re.sub(r"[ \t]*\x00(?:[ \t]+(?=[.,;:]))?", "", text)


def misattributions(tex: str, bib: dict[str, Reference]) -> list[CitationIssue]:
    """Sentences naming a method of the attribution table while citing another work, in
    LaTeX (\\cite{key}, resolved through references.bib) or author-year text forms."""
    return load_table().check_text(strip_comments(tex), bib=bib)
