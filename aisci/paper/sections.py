"""The section files in paper/sections/: one LaTeX file per section, each opened by a stamp
that names who wrote it and the hash of what was written.

The stamp makes a person's edit recognisable on any later run, from the file alone: a
body whose hash differs from its stamp, or a file without a stamp, was written by a
person and is kept (never overwritten, never rewritten by a fix task). Deleting a file
asks aisci to write that section again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aisci.constants import PERSON  # noqa: F401 - who wrote a section, as the section files say
from aisci.fsutil import atomic_write_text, sha256_of

# the order of the paper; `title` holds the title as LaTeX text
SECTIONS = ("title", "abstract", "introduction", "related_work", "method", "experimental_setup", "results",
            "discussion", "limitations", "conclusion")
HEADINGS = {"title": "Title", "abstract": "Abstract", "introduction": "Introduction",
            "related_work": "Related Work", "method": "Method", "experimental_setup": "Experimental Setup",
            "results": "Results", "discussion": "Discussion", "limitations": "Limitations",
            "conclusion": "Conclusion"}
_STAMP = re.compile(r"^% aisci: written by (?P<author>.+?) \(sha256 (?P<digest>[0-9a-f]{16})\)\s*$")
_HINT = ("% Edit this file freely: aisci keeps an edited section on every rerun and discloses it as written by a "
         "person.\n% Delete it to have aisci write the section again.\n")


@dataclass(frozen=True)
class SectionFile:
    name: str
    path: Path
    body: str  # the text without the stamp
    author: str | None  # who wrote the body as stamped; None: no stamp
    edited: bool  # the body differs from what its stamp says was written

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def by_person(self) -> bool:
        return self.exists and (self.author is None or self.edited)


def digest(body: str) -> str:
    return sha256_of(_normalise(body))[:16]


def read_section(folder: Path, name: str) -> SectionFile:
    path = Path(folder) / f"{name}.tex"
    if not path.exists():
        return SectionFile(name, path, "", None, False)
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    stamp = _STAMP.match(lines[0]) if lines else None
    if stamp is None:
        return SectionFile(name, path, text, None, False)
    body = "".join(line for line in lines[1:] if not _is_hint(line))
    return SectionFile(name, path, body, stamp["author"], digest(body) != stamp["digest"])


def write_section(folder: Path, name: str, body: str, author: str) -> SectionFile:
    body = body.strip("\n") + "\n"
    path = Path(folder) / f"{name}.tex"
    atomic_write_text(path, f"% aisci: written by {author} (sha256 {digest(body)})\n{_HINT}{body}")
    return SectionFile(name, path, body, author, False)


def sections_digest(folder: Path) -> str:
    """The section files as they are now: checks or a PDF made from other sections are not current."""
    return sha256_of({p.name: sha256_of(p.read_bytes()) for p in sorted(Path(folder).glob("*.tex"))})


def strip_comments(tex: str) -> str:
    """The text without LaTeX comments (an escaped \\% stays)."""
    return re.sub(r"(?<!\\)%.*", "", tex)


def _is_hint(line: str) -> bool:
    return line.startswith(("% Edit this file freely:", "% Delete it to have aisci"))


def _normalise(body: str) -> str:
    """Trailing whitespace and blank lines at the ends do not count as an edit."""
    return "\n".join(line.rstrip() for line in body.strip("\n").splitlines())
