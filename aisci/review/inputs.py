"""Read a paper to review from a .pdf, .tex, .md or .txt file into plain text with headings on
their own lines, the shape `aisci.review.textstats` and the reviewers expect.

PDF text comes from pypdf; LaTeX is converted by pylatexenc with section commands kept as
Markdown headings and figure/table/equation environments numbered the way a PDF would show
them ("Figure 2: caption", "(3)"). A missing, empty, binary or unreadable file is a
PaperInputError with one line saying which and why.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from aisci.errors import AisciError

FORMATS = {".pdf": "pdf", ".tex": "tex", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"


class PaperInputError(AisciError):
    """A paper file is missing, empty, binary, or cannot be read as its extension says."""


@dataclass(frozen=True)
class PaperText:
    path: Path
    format: str
    text: str
    pages: int | None = None

    @property
    def words(self) -> int:
        return len(self.text.split())


def read_paper(path: str | Path) -> PaperText:
    path = Path(path)
    if not path.exists():
        raise PaperInputError(f"{path}: no such file")
    if not path.is_file():
        raise PaperInputError(f"{path}: not a file")
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise PaperInputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                              f"give a {', '.join(sorted(FORMATS))} file")
    data = path.read_bytes()
    if not data.strip():
        raise PaperInputError(f"{path}: the file is empty")
    if file_format == "pdf":
        text, pages = _pdf_text(path, data)
        return PaperText(path, "pdf", text, pages)
    source = _decode_text(path, data)
    text = tex_to_text(source, base_dir=path.parent) if file_format == "tex" else source
    if not text.strip():
        raise PaperInputError(f"{path}: no text left after reading the {file_format} source")
    return PaperText(path, file_format, text)


def read_bench_paper(path: str | Path) -> str:
    """A benchmark's paper text, read leniently: PDF-to-text conversions carry stray control bytes."""
    data = Path(path).read_bytes()
    return data.decode("utf-8", errors="replace").translate({byte: None for byte in _CONTROL_BYTES})


def _decode_text(path: Path, data: bytes) -> str:
    sample = data[:65536]
    control = sum(sample.count(bytes([byte])) for byte in _CONTROL_BYTES)
    if b"\x00" in sample[:1024] or control > 0.05 * len(sample):
        raise PaperInputError(f"{path}: looks like a binary file, not {path.suffix} text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: an old Latin-1 file has a few accented bytes, binary data has them everywhere
        high = sum(1 for byte in sample if byte >= 0x80)
        if high > 0.3 * len(sample):
            raise PaperInputError(f"{path}: looks like a binary file, not {path.suffix} text") from None
        return data.decode("latin-1")


def _pdf_text(path: Path, data: bytes) -> tuple[str, int]:
    if not data.lstrip().startswith(b"%PDF"):
        raise PaperInputError(f"{path}: not a PDF file (no %PDF header)")
    from pypdf import PdfReader

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)  # its warnings about damaged files would break the one-line error
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PaperInputError(f"{path}: the PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except PaperInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files; all mean "unreadable PDF"
        raise PaperInputError(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    finally:
        pypdf_log.setLevel(level)
    if not pages:
        raise PaperInputError(f"{path}: the PDF has no pages")
    text = "\n\n".join(pages)
    if not text.strip():
        raise PaperInputError(f"{path}: the PDF has {len(pages)} page(s) but no extractable text "
                              "(scanned images? run OCR first)")
    return text, len(pages)


# --- LaTeX -------------------------------------------------------------------------------------

_HEADING_LEVELS = {"part": 1, "chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}


class _Numbering:
    """Counters for the environments a PDF would number."""

    def __init__(self):
        self.counts = {"figure": 0, "table": 0, "equation": 0}

    def next(self, kind: str) -> int:
        self.counts[kind] += 1
        return self.counts[kind]


def _argument_text(node, l2tobj) -> str:
    """The text of a macro's last argument; empty when the parser found none (a macro used bare)."""
    arguments = node.nodeargd.argnlist if node.nodeargd is not None else []
    last = arguments[-1] if arguments else None
    return l2tobj.nodelist_to_text([last]).strip() if last is not None else ""


def _latex_context(numbering: _Numbering, title_holder: list[str], defined: dict[str, str]):
    from pylatexenc.latex2text import (
        EnvironmentTextSpec,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    def heading(node, l2tobj):
        level = _HEADING_LEVELS.get(node.macroname, 2)
        return f"\n\n{'#' * level} {_argument_text(node, l2tobj)}\n\n"

    def title(node, l2tobj):
        title_holder.append(_argument_text(node, l2tobj))
        return ""

    def float_env(kind: str):
        def render(node, l2tobj):
            number = numbering.next(kind)
            caption = [n for n in node.nodelist if getattr(n, "macroname", None) == "caption"]
            caption_text = _argument_text(caption[0], l2tobj) if caption else ""
            body = l2tobj.nodelist_to_text([n for n in node.nodelist if n not in caption]).strip()
            label = "Figure" if kind == "figure" else "Table"
            return f"\n\n{label} {number}: {caption_text}\n{body}\n\n"
        return render

    def equation(node, l2tobj):
        number = numbering.next("equation")
        return f"\n\n    {l2tobj.nodelist_to_text(node.nodelist).strip()}    ({number})\n\n"

    def citation(node, l2tobj):
        text = _argument_text(node, l2tobj)
        return "[cite: " + ", ".join(k.strip() for k in text.split(",") if k.strip()) + "]"

    def reference(node, l2tobj):
        return "?"  # the number a PDF prints is unknown before compiling

    db = get_default_latex_context_db()
    # argument-free \newcommand macros (a study's values.tex) print their value, as TeX would
    macros = [MacroTextSpec(name, simplify_repl=lambda node, l2tobj, shown=shown: shown)
              for name, shown in defined.items()]
    macros += [MacroTextSpec(name, simplify_repl=heading) for name in _HEADING_LEVELS]
    macros += [MacroTextSpec("title", simplify_repl=title), MacroTextSpec("maketitle", simplify_repl=""),
               MacroTextSpec("author", discard=True), MacroTextSpec("date", discard=True),
               MacroTextSpec("includegraphics", simplify_repl=""), MacroTextSpec("label", discard=True),
               MacroTextSpec("bibliographystyle", discard=True), MacroTextSpec("thanks", discard=True)]
    # font switches whose argument pylatexenc's defaults drop (\texttt{lr} would vanish)
    macros += [MacroTextSpec(name, simplify_repl=lambda node, l2tobj: _argument_text(node, l2tobj))
               for name in ("texttt", "textsf", "textsl", "textup", "textmd", "textnormal")]
    macros += [MacroTextSpec(name, simplify_repl=citation)
               for name in ("cite", "citep", "citet", "citealp", "citeauthor", "citeyear", "parencite", "textcite")]
    macros += [MacroTextSpec(name, simplify_repl=reference) for name in ("ref", "eqref", "autoref", "cref", "Cref")]
    environments = [EnvironmentTextSpec(name, simplify_repl=float_env("figure")) for name in ("figure", "figure*")]
    environments += [EnvironmentTextSpec(name, simplify_repl=float_env("table")) for name in ("table", "table*")]
    environments += [EnvironmentTextSpec(name, simplify_repl=equation)
                     for name in ("equation", "align", "gather", "multline", "eqnarray")]
    environments += [EnvironmentTextSpec("abstract", simplify_repl="\n\n# Abstract\n\n%(body)s\n\n"),
                     EnvironmentTextSpec("thebibliography", simplify_repl="\n\n# References\n\n%(body)s\n\n")]
    db.add_context_category("aisci-review", prepend=True, macros=macros, environments=environments)
    return db


def _parsing_context():
    """How many arguments the macros we render take (pylatexenc's defaults miss some)."""
    from pylatexenc.latexwalker import get_default_latex_context_db
    from pylatexenc.macrospec import MacroSpec

    db = get_default_latex_context_db()
    cite_like = ("cite", "citep", "citet", "citealp", "citeauthor", "citeyear", "parencite", "textcite")
    macros = [MacroSpec(name, "*[[{") for name in cite_like]
    macros += [MacroSpec(name, "{") for name in ("ref", "eqref", "autoref", "cref", "Cref", "label",
                                                  "bibliographystyle", "bibliography")]
    macros += [MacroSpec("href", "{{"), MacroSpec("url", "{")]  # pylatexenc's defaults know neither
    macros += [MacroSpec("caption", "*[{"), MacroSpec("includegraphics", "*[{"), MacroSpec("title", "[{"),
               MacroSpec("author", "[{"), MacroSpec("date", "{"), MacroSpec("thanks", "{")]
    db.add_context_category("aisci-review-parsing", prepend=True, macros=macros)
    return db


_XSPACE = "\x00xspace\x00"  # where \xspace stood: a space if a word follows, as TeX's xspace package does
_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_INPUT = re.compile(r"\\(?:input|include)\s*\{([^}]+)\}")


def _input_sources(source: str, base_dir: Path | None, depth: int = 0) -> list[str]:
    """The source and the files it \\inputs (inside base_dir only), for the macro definitions they hold."""
    sources = [source]
    if base_dir is None or depth > 4:
        return sources
    root = base_dir.resolve()
    for name in _INPUT.findall(re.sub(r"(?<!\\)%.*", "", source)):
        path = (base_dir / name.strip()).resolve()
        if path.suffix != ".tex":
            path = path.with_name(path.name + ".tex")
        if path.is_file() and path.is_relative_to(root):
            sources += _input_sources(path.read_text(encoding="utf-8", errors="replace"), base_dir, depth + 1)
    return sources


def _defined_macros(source: str, base_dir: Path | None) -> dict[str, str]:
    """name -> text of every argument-free \\newcommand, e.g. a study's values.tex: \\RBaselineFinalLoss -> 0.298."""
    from pylatexenc.latex2text import LatexNodes2Text

    plain = LatexNodes2Text(math_mode="verbatim")
    defined = {}
    for text in _input_sources(source, base_dir):
        for name, value in _NEWCOMMAND.findall(re.sub(r"(?<!\\)%.*", "", text)):
            if "#" not in value:  # a macro with parameters is left to pylatexenc
                xspace = value.rstrip().endswith("\\xspace")
                text = plain.latex_to_text(value.replace("\\xspace", "")).strip()
                defined[name] = text + (_XSPACE if xspace else "")
    return defined


def tex_to_text(source: str, base_dir: Path | None = None) -> str:
    """LaTeX source to text: headings as Markdown, floats and equations numbered, comments dropped,
    \\input files read (within base_dir) with the same rules, simple \\newcommand macros expanded."""
    from pylatexenc.latex2text import LatexNodes2Text
    from pylatexenc.latexwalker import LatexWalker

    body_match = re.search(r"\\begin\{document\}(.*?)(?:\\end\{document\}|\Z)", source, re.DOTALL)
    preamble = source[:body_match.start()] if body_match else ""
    body = body_match.group(1) if body_match else source
    numbering, title_holder = _Numbering(), []
    context = _latex_context(numbering, title_holder, _defined_macros(source, base_dir))
    converter = LatexNodes2Text(latex_context=context, math_mode="verbatim", strict_latex_spaces=False)
    parsing = _parsing_context()
    if base_dir is not None:
        # \input files must be parsed with the same macro arguments as the main file, or a
        # \caption inside an input figure arrives without its argument
        converter.set_tex_input_directory(str(base_dir), strict_input=True, latex_walker_init_args={
            "latex_context": parsing, "tolerant_parsing": True})
    try:
        converter.nodelist_to_text(LatexWalker(preamble, latex_context=parsing,
                                               tolerant_parsing=True).get_latex_nodes()[0])  # picks up \title
        text = converter.nodelist_to_text(LatexWalker(body, latex_context=parsing,
                                                      tolerant_parsing=True).get_latex_nodes()[0])
    except Exception as exc:  # noqa: BLE001 - pylatexenc is tolerant; anything left is a source it cannot parse at all
        raise PaperInputError(f"cannot read the LaTeX source ({type(exc).__name__}: {exc})") from None
    if "\\bibliography{" in body and "# References" not in text:
        text += "\n\n# References\n\n(BibTeX bibliography, not expanded)\n"
    text = re.sub(re.escape(_XSPACE) + r"(?=[\w(\[])", " ", text).replace(_XSPACE, "")
    title = f"# {title_holder[-1]}\n\n" if title_holder else ""
    return title + re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
