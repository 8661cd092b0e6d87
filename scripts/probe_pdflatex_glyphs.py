"""Regenerate aisci/data/pdflatex_glyphs.json: the characters whose pylatexenc encoding
pdflatex typesets both with the default OT1 font encoding and with T1 (a venue style may
load either), with amsmath and amssymb loaded as the paper does.

    python scripts/probe_pdflatex_glyphs.py

Each character is written on its own line of one document per font encoding; pdflatex
runs without stopping, and a character is safe when no error points at its line (with
\\tracinglostchars=3, a glyph missing from the font is an error too).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pylatexenc
from pylatexenc.latexencode import UnicodeToLatexEncoder

OUT = Path(__file__).resolve().parents[1] / "aisci" / "data" / "pdflatex_glyphs.json"
# Latin, IPA, spacing modifiers, Greek, Cyrillic, Latin extended additional, Greek extended,
# punctuation, letterlike symbols, arrows, mathematical operators, ligatures, math alphanumerics
BLOCKS = [(0xA0, 0x530), (0x1E00, 0x2000), (0x2000, 0x2C00), (0xFB00, 0xFB50), (0x1D400, 0x1D800)]
FONT_ENCODINGS = {"OT1": "", "T1": r"\usepackage[T1]{fontenc}\usepackage{lmodern}"}


def candidates() -> dict[int, str]:
    encoder = UnicodeToLatexEncoder(non_ascii_only=True, replacement_latex_protection="braces-almost-all",
                                    unknown_char_policy="keep", unknown_char_warning=False)
    found = {}
    for low, high in BLOCKS:
        for cp in range(low, high):
            latex = encoder.unicode_to_latex(chr(cp))
            if latex != chr(cp) and latex.isascii():
                found[cp] = latex
    return found


def failing(encoded: dict[int, str], font_setup: str, workdir: Path) -> set[int]:
    lines = [r"\documentclass{article}", r"\usepackage[utf8]{inputenc}", font_setup,
             r"\usepackage{amsmath,amssymb}", r"\tracinglostchars=3", r"\begin{document}"]
    line_of = {}
    for cp, latex in sorted(encoded.items()):
        lines.append(f"x{latex}x\\par")
        line_of[len(lines)] = cp
    lines.append(r"\end{document}")
    (workdir / "probe.tex").write_text("\n".join(lines) + "\n", encoding="ascii")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "probe.tex"], cwd=workdir, capture_output=True,
                   timeout=600, check=False)
    log = (workdir / "probe.log").read_text(encoding="latin-1")
    return {line_of[int(n)] for n in re.findall(r"^l\.(\d+)", log, re.MULTILINE) if int(n) in line_of}


def ranges(codepoints: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for cp in codepoints:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def main() -> int:
    encoded = candidates()
    bad: set[int] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for setup in FONT_ENCODINGS.values():
            bad |= failing(encoded, setup, Path(tmp))
    safe = sorted(set(encoded) - bad)
    version = subprocess.run(["pdflatex", "--version"], capture_output=True, text=True, check=False).stdout
    OUT.write_text(json.dumps({"about": "characters whose pylatexenc encoding pdflatex typesets in OT1 and T1; "
                                        "made by scripts/probe_pdflatex_glyphs.py",
                               "pylatexenc": pylatexenc.__version__, "pdflatex": version.splitlines()[0],
                               "ranges": ranges(safe)}, indent=None) + "\n", encoding="utf-8")
    print(f"{len(safe)} of {len(encoded)} encodable characters typeset in OT1 and T1 -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
