"""Compile the paper: latexmk when installed, else pdflatex + bibtex, with a time limit.
The log is kept; without TeX the .tex tree stays and the caller says so."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aisci.errors import TexMissing

INSTALL_HINT = "apt-get install texlive-latex-base texlive-latex-recommended texlive-fonts-recommended latexmk"


CHKTEX_QUIET = (1, 2, 3, 8, 11, 12, 13, 24, 35, 36, 44, 46)  # style advice, not mistakes
_SECTION_ERROR = re.compile(r"(?:\./)?sections/(?P<name>[A-Za-z_]+)\.tex:(?P<line>\d+):\s*(?P<message>.*)")


@dataclass
class CompileResult:
    ok: bool
    pdf: Path | None
    log: Path
    errors: list[str]
    timed_out: bool = False

    def section_errors(self) -> dict[str, list[tuple[int, str]]]:
        """section name -> (line, message) of the errors LaTeX located in paper/sections/."""
        found: dict[str, list[tuple[int, str]]] = {}
        for error in self.errors:
            match = _SECTION_ERROR.search(error)
            if match and not match["message"].startswith("==> Fatal error"):  # the consequence, not the error
                found.setdefault(match["name"], []).append((int(match["line"]), match["message"].strip()))
        return found


@dataclass
class LintWarning:
    line: int
    column: int
    number: int
    message: str
    context: list[str] = field(default_factory=list)


def chktex_available() -> bool:
    return shutil.which("chktex") is not None


def chktex(path: Path, timeout_s: int = 30) -> list[LintWarning]:
    """chktex's warnings about one file (style advice switched off); [] without chktex."""
    if not chktex_available():
        return []
    quiet = [f"-n{n}" for n in CHKTEX_QUIET]
    try:
        done = subprocess.run(["chktex", "-q", "-I0", *quiet, "-f", "%l:%c:%n:%m\n", str(path)], check=False,
                              capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return []
    warnings = []
    for line in done.stdout.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
            warnings.append(LintWarning(int(parts[0]), int(parts[1]), int(parts[2]), parts[3].strip()))
    return warnings


def tex_available() -> bool:
    return bool(shutil.which("latexmk") or (shutil.which("pdflatex") and shutil.which("bibtex")))


def compile_pdf(paper_dir: Path, main: str = "main.tex", timeout_s: int = 180) -> CompileResult:
    if not tex_available():
        raise TexMissing(f"no LaTeX found, so no PDF was built; the .tex is in {paper_dir} ({INSTALL_HINT})")
    stem = Path(main).stem
    if shutil.which("latexmk"):
        commands = [["latexmk", "-pdf", "-g", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main]]
    else:
        pdflatex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main]
        commands = [pdflatex, ["bibtex", stem], pdflatex, pdflatex]
    log = paper_dir / "compile.log"
    transcript = []
    ok, timed_out = True, False
    for command in commands:
        try:
            done = subprocess.run(command, cwd=paper_dir, capture_output=True, text=True, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            transcript.append(f"$ {' '.join(command)}\n(timed out after {timeout_s} s)")
            ok, timed_out = False, True
            break
        transcript.append(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}")
        if done.returncode != 0 and command[0] != "bibtex":
            ok = False
            break
    log.write_text("\n".join(transcript), encoding="utf-8", errors="replace")
    pdf = paper_dir / f"{stem}.pdf"
    errors = _errors("\n".join(transcript))
    if not ok and pdf.exists():
        pdf.unlink()  # a PDF left by an earlier, successful run is not this source's
    return CompileResult(ok and pdf.exists(), pdf if pdf.exists() else None, log, errors, timed_out)


def _errors(text: str) -> list[str]:
    """The `file:line: message` lines of a -file-line-error log, and `! ...` lines."""
    found = []
    for line in text.splitlines():
        located = ".tex:" in line and ": " in line and not line.startswith("$")
        if (located or line.startswith("! ")) and line.strip() not in found:
            found.append(line.strip())
    return found[:20]
