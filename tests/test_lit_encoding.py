"""Text -> LaTeX for references.bib: any Unicode a literature source returns typesets, or
degrades to a readable ASCII stand-in that is reported."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from aisci.literature.bibvalue import safe_value
from aisci.literature.casing import protect_case
from aisci.literature.encoding import clean, encode_text
from aisci.literature.latex_safety import latex_problem
from aisci.literature.markup import to_latex


def test_text_is_nfc_without_control_characters():
    assert clean("Jose\u0301 \u0098Big\u200b Data\tand\nmore") == "José Big Data and more"


@pytest.mark.parametrize("text, latex", [
    ("λ-Calculus", r"{\ensuremath{\lambda}}-Calculus"),
    ("Dı\u0301az", r"D{\'{\i}}az"),  # dotless i + combining acute: no precomposed letter exists
    ("Jose\u0301", r"Jos{\'e}"),
    ("50% of R&D_x in $ and #1 {a} ^~\\", r"50\% of R\&D\_x in \$ and \#1 \textbraceleft{}a\textbraceright{} "
                                          r"\textasciicircum{}\textasciitilde{}\textbackslash{}"),
])
def test_encoding(text, latex):
    encoded = encode_text(text)
    assert (encoded.latex, encoded.substitutes) == (latex, [])
    assert latex_problem(encoded.latex) is None


def test_what_pdflatex_cannot_typeset_degrades_to_ascii_and_is_reported():
    encoded = encode_text("深度学习 ș 😀")
    assert encoded.latex.isascii() and "Shen" in encoded.latex and "s" in encoded.latex
    assert len(encoded.substitutes) == 6 and encoded.substitutes[0] == "深 as Shen"


@pytest.mark.parametrize("value", [r"\undefined{x}", "{unbalanced", "5% off", r"$\alpha", r"\alpha outside math",
                                   "x_1 outside math", r"$$\alpha$$", "a}b{"])
def test_unsafe_latex_is_caught(value):
    assert latex_problem(value) is not None


@pytest.mark.parametrize("value", [r"\url{https://github.com/a_b/c%20d}", r"\href{http://x.org/a_b}{the \emph{code}}",
                                   r"Erd{\H{o}}s and \'Etienne, \textsc{Lisp} \& $\mathcal{O}(n\log n)$ -- \LaTeX"])
def test_what_people_write_in_their_bib_files_is_safe(value):
    assert latex_problem(value) is None


def test_a_field_that_cannot_be_encoded_is_written_plainly_with_a_note():
    value, note = safe_value("title", r"A \mysterymacro{study} of $\alpha$ in Zürich")
    assert latex_problem(value) is None and "study" in value and "mysterymacro" not in value
    assert note.startswith("written as plain text (\\mysterymacro")
    assert safe_value("journal", "Revue d'Économie") == (r"Revue d'{\'E}conomie", None)
    assert safe_value("doi", "10.1000/a b{}") == ("10.1000/ab", "spaces, braces or backslashes removed")


def test_markup_from_each_source():
    assert to_latex("Sparse $\\ell_1$ recovery", "tex").latex == r"Sparse $\ell_1$ recovery"
    assert to_latex("H<sub>2</sub>O &amp; <i>E. coli</i>", "html").latex == r"H\textsubscript{2}O \& \textit{E. coli}"
    assert to_latex("Big Data &amp; Society").latex == r"Big Data \& Society"
    # a comparison is not a tag
    assert to_latex("Bounds when a<b and c>d, <b>bold</b><i> </i>", "html").latex == \
        r"Bounds when a\textless{}b and c\textgreater{}d, \textbf{bold}"
    assert to_latex("one\\nare two", "tex").latex == "one are two"


def test_capitals_are_protected_like_better_bibtex():
    assert protect_case("Improved Techniques for Training GANs") == "Improved {Techniques} for {Training} {GANs}"
    assert protect_case("BERT: Pre-training of deep transformers") == "{BERT}: Pre-training of deep transformers"
    assert protect_case(r"a study of {\'E}tienne's $\Omega$ nets") == r"a study of {{\'E}tienne's} {$\Omega$} nets"
    assert protect_case("already {Protected} words") == "already {Protected} words"


@pytest.mark.skipif(not shutil.which("pdflatex"), reason="needs pdflatex")
@pytest.mark.parametrize("fonts", ["", r"\usepackage[T1]{fontenc}"], ids=["OT1", "T1"])
def test_every_character_of_the_common_blocks_typesets(tmp_path, fonts):
    """Latin, Greek, Cyrillic, punctuation, arrows, maths operators, CJK, emoji: each encodes
    to something pdflatex typesets with either font encoding."""
    blocks = [(0xA0, 0x530), (0x1E00, 0x2000), (0x2000, 0x2300), (0x4E00, 0x4E40), (0x1F600, 0x1F610)]
    text = "".join(chr(c) for low, high in blocks for c in range(low, high) if clean(chr(c)))
    latex = encode_text(text).latex
    assert latex.isascii() and latex_problem(latex) is None
    (tmp_path / "all.tex").write_text("\n".join([r"\documentclass{article}", r"\usepackage[utf8]{inputenc}", fonts,
                                                 r"\usepackage{amsmath,amssymb}", r"\begin{document}", latex,
                                                 r"\end{document}"]), encoding="ascii")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all.tex"], cwd=tmp_path,
                          capture_output=True, text=True, errors="replace", timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
