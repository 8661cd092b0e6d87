"""`aisci review FILE` on a PDF, LaTeX and Markdown paper made here, and one-line errors for bad files."""

import json

import matplotlib
import pytest
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from aisci.cli import main
from aisci.review.inputs import PaperInputError, read_paper, tex_to_text

PAGES = [
    ("A Tiny Study of Widgets\n\nAbstract\nWe measure widgets on two benchmarks and report means.\n\n"
     "1 Introduction\nWidgets matter (Smith et al., 2020; Jones and Lee, 2019)."),
    ("2 Experiments\nTable 1: accuracy 0.91 ± 0.02 over 5 random seeds against the baseline.\n\n"
     "3 Conclusion\nWidgets work."),
]

TEX = r"""\documentclass{article}
\title{Widgets Revisited}
\begin{document}
\maketitle
\begin{abstract}We revisit widgets and measure them on several benchmarks with error bars.\end{abstract}
\section{Introduction} % a comment that must vanish
Widgets are studied widely \citep{smith2020,jones2019}.
\section{Method}
\begin{equation} y = \alpha x \label{eq:model}\end{equation}
\section{Experiments}
\begin{table}\caption{Accuracy of widgets.}\begin{tabular}{cc} a & b \\ 1 & 2 \end{tabular}\end{table}
\begin{figure}\includegraphics{plot.png}\caption{Widget curves.}\end{figure}
\section*{Conclusion} Widgets work.
\end{document}
"""

MARKDOWN = """# Widgets in Markdown

## Abstract
We study widgets.

## 1 Introduction
Widgets (Smith et al., 2020).

## 2 Related Work
Prior widgets (Jones, 2019).

## 3 Conclusion
Done.
"""


def _write_pdf(path, pages):
    # TrueType text, which PDF readers can extract; Figure without pyplot leaves no global state
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for text in pages:
            figure = Figure(figsize=(8.5, 11))
            if text:
                figure.text(0.1, 0.9, text, va="top", fontsize=10)
            pdf.savefig(figure)
    return path


def test_review_a_pdf(tmp_path, capsys):
    paper = _write_pdf(tmp_path / "paper.pdf", PAGES)
    read = read_paper(paper)
    assert read.format == "pdf" and read.pages == 2
    assert "1 Introduction" in read.text and "Table 1: accuracy" in read.text
    out = tmp_path / "review.json"
    assert main(["review", str(paper), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Review of paper.pdf (pdf" in printed and "Offline engine (model-free" in printed
    record = json.loads(out.read_text())
    assert record["reviewer"] == "offline" and record["pages"] == 2
    assert 1 <= record["review"]["overall"] <= 10 and record["evidence"]["checklist"]


def test_review_a_tex_file(tmp_path, capsys):
    paper = tmp_path / "paper.tex"
    paper.write_text(TEX)
    text = read_paper(paper).text
    assert text.startswith("# Widgets Revisited")
    assert "# Introduction" in text and "# Method" in text and "# Conclusion" in text
    assert "comment" not in text and "\\section" not in text
    assert "Table 1: Accuracy of widgets." in text and "Figure 1: Widget curves." in text
    assert "(1)" in text and "[cite: smith2020, jones2019]" in text
    assert main(["review", str(paper), "--json"]) == 0
    review = json.loads(capsys.readouterr().out)
    assert review["summary"].startswith("Offline engine") and "[checklist:method] passes" in " ".join(review["strengths"])


def test_review_a_markdown_file(tmp_path, capsys):
    paper = tmp_path / "paper.md"
    paper.write_text(MARKDOWN)
    assert main(["review", str(paper), "--llm", "offline-fitted"]) == 0
    printed = capsys.readouterr().out
    assert "Review of paper.md (markdown" in printed and "p(accept)" in printed
    assert "[checklist:related_work] passes" in printed


def test_tex_without_document_environment_is_still_read():
    assert "# Intro" in tex_to_text(r"\section{Intro} Text \emph{here}.")


def _one_line_error(capsys, argv, message):
    assert main(argv) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    return lines[0]


def test_empty_pdf_is_a_clear_error(tmp_path, capsys):
    blank = _write_pdf(tmp_path / "blank.pdf", [""])
    _one_line_error(capsys, ["review", str(blank)], "no extractable text")
    from pypdf import PdfWriter

    no_pages = tmp_path / "nopages.pdf"
    PdfWriter().write(no_pages)
    _one_line_error(capsys, ["review", str(no_pages)], "has no pages")


def test_binary_and_broken_files_are_clear_errors(tmp_path, capsys):
    binary = tmp_path / "paper.md"
    binary.write_bytes(bytes(range(256)) * 20)
    _one_line_error(capsys, ["review", str(binary)], "binary file")
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_bytes(bytes(range(256)) * 20)
    _one_line_error(capsys, ["review", str(fake_pdf)], "not a PDF file")
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")
    _one_line_error(capsys, ["review", str(truncated)], "not a readable PDF")


@pytest.mark.parametrize("name, content, message", [
    ("empty.md", b"", "the file is empty"),
    ("spaces.txt", b"  \n\n ", "the file is empty"),
    ("paper.docx", b"PK\x03\x04", "unsupported file type"),
])
def test_empty_and_unsupported_files(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    _one_line_error(capsys, ["review", str(path)], message)


def test_missing_file_and_unknown_reviewer(tmp_path, capsys):
    _one_line_error(capsys, ["review", str(tmp_path / "nope.pdf")], "no such file")
    paper = tmp_path / "p.md"
    paper.write_text(MARKDOWN)
    _one_line_error(capsys, ["review", str(paper), "--llm", "gpt-9"], "unknown reviewer")


def test_latin1_text_is_read_not_refused(tmp_path):
    paper = tmp_path / "p.txt"
    paper.write_bytes("Caf\xe9 widgets, r\xe9sum\xe9 of results.\n".encode("latin-1"))
    assert "widgets" in read_paper(paper).text
    with pytest.raises(PaperInputError):
        read_paper(tmp_path)


def test_main_tex_split_over_input_files_like_a_studys(tmp_path):
    """A study's main.tex \\inputs values.tex, its sections and a figures file whose \\caption once
    arrived without its argument (the input files were parsed without our macro table)."""
    (tmp_path / "generated").mkdir()
    (tmp_path / "sections").mkdir()
    (tmp_path / "values.tex").write_text("% from records\n\\newcommand{\\RBaselineLoss}{0.298\\xspace}\n"
                                         "\\newcommand{\\RBestRun}{lr\\_0\\_3}\n")
    (tmp_path / "sections" / "method.tex").write_text(
        "Settings: \\texttt{lr} $= 0.1$. The baseline reaches \\RBaselineLoss and \\RBestRun{} wins; "
        "\\RBaselineLoss.\n")
    (tmp_path / "generated" / "figures.tex").write_text(
        "\\begin{figure}[t]\n\\centering\n\\includegraphics[width=0.8\\linewidth]{figures/a.png}\n"
        "\\caption{final loss of each run.}\n\\label{fig:a}\n\\end{figure}\n")
    main_tex = tmp_path / "main.tex"
    main_tex.write_text("\\documentclass{article}\n\\input{values}\n\\title{A Study\\thanks{Written by aisci.}}\n"
                        "\\begin{document}\n\\maketitle\n\\section{Method}\n\\input{sections/method}\n"
                        "\\input{generated/figures}\n\\input{../outside}\n\\end{document}\n")
    (tmp_path.parent / "outside.tex").write_text("SECRET outside the paper folder")
    text = read_paper(main_tex).text
    assert text.startswith("# A Study\n")  # the \thanks note is not part of the title
    assert "Figure 1: final loss of each run." in text
    assert "lr $= 0.1$" in text and "reaches 0.298 and lr_0_3 wins; 0.298." in text
    assert "SECRET" not in text  # \input never reads outside the paper's folder
