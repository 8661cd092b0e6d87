"""Compile the paper: latexmk when installed, else pdflatex + bibtex, with a time limit.
The log is kept; without TeX the .tex tree stays and the caller says so."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aisci.errors import TexMissing

INSTALL_HINT = "apt-get install texlive-latex-base texlive-latex-recommended texlive-fonts-recommended latexmk"


@dataclass
class CompileResult:
    ok: bool
    pdf: Path | None
    log: Path
    errors: list[str]


def tex_available() -> bool:
    return bool(shutil.which("latexmk") or (shutil.which("pdflatex") and shutil.which("bibtex")))


def compile_pdf(paper_dir: Path, main: str = "main.tex", timeout_s: int = 180) -> CompileResult:
    if not tex_available():
        raise TexMissing(f"no LaTeX found, so no PDF was built; the .tex is in {paper_dir} ({INSTALL_HINT})")
    stem = Path(main).stem
    if shutil.which("latexmk"):
        commands = [["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main]]
    else:
        pdflatex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main]
        commands = [pdflatex, ["bibtex", stem], pdflatex, pdflatex]
    log = paper_dir / "compile.log"
    transcript = []
    ok = True
    for command in commands:
        try:
            done = subprocess.run(command, cwd=paper_dir, capture_output=True, text=True, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            transcript.append(f"$ {' '.join(command)}\n(timed out after {timeout_s} s)")
            ok = False
            break
        transcript.append(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}")
        if done.returncode != 0 and command[0] != "bibtex":
            ok = False
            break
    log.write_text("\n".join(transcript), encoding="utf-8", errors="replace")
    pdf = paper_dir / f"{stem}.pdf"
    errors = _errors("\n".join(transcript))
    return CompileResult(ok and pdf.exists(), pdf if pdf.exists() else None, log, errors)


def _errors(text: str) -> list[str]:
    """The `file:line: message` lines of a -file-line-error log, and `! ...` lines."""
    found = []
    for line in text.splitlines():
        if (".tex:" in line and ": " in line and not line.startswith("$")) or line.startswith("! "):
            if line not in found:
                found.append(line.strip())
    return found[:20]
