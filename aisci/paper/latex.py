"""Small LaTeX helpers: escaping text, lists, the results table and figure blocks."""

from __future__ import annotations

import re

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in str(text))


def prose(text: str) -> str:
    """Text from a notebook's markdown or a manifest, its light Markdown as LaTeX: `code` as
    \\texttt, $math$ kept (Jupyter renders it the same way), [text](url) as \\href, **bold** as
    \\textbf, "quotes" as ``quotes''; everything else escaped."""
    out = []
    for part in re.split(r"(`[^`\n]+`)", str(text)):
        if len(part) > 1 and part[0] == part[-1] == "`":
            out.append(r"\texttt{" + escape(part[1:-1]) + "}")
            continue
        part = re.sub(r'"([^"\n]*)"', "\x04\\1\x05", part)  # quotes may hold $math$: marked before the split
        for piece in re.split(r"((?<![\\$])\$[^$\n]+\$)", part):
            out.append(piece if len(piece) > 1 and piece[0] == piece[-1] == "$" else _plain_markdown(piece))
    return "".join(out).replace("\x04", "``").replace("\x05", "''")


def _plain_markdown(text: str) -> str:
    links: list[str] = []

    def link(match: re.Match) -> str:
        url = match.group(2).replace("\\", "/").replace("%", r"\%").replace("#", r"\#")
        links.append(r"\href{" + url + "}{" + escape(match.group(1)) + "}")
        return f"\x02{len(links) - 1}\x03"

    text = re.sub(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)", link, text)
    text = re.sub(r"\*\*([^*\n]+)\*\*", lambda m: "\x00" + m.group(1) + "\x01", text)
    text = escape(text).replace("\x00", r"\textbf{").replace("\x01", "}")
    return re.sub("\x02(\\d+)\x03", lambda m: links[int(m.group(1))], text)


def itemize(items: list[str]) -> str:
    if not items:
        return ""
    return "\\begin{itemize}\n" + "\n".join(f"  \\item {i}" for i in items) + "\n\\end{itemize}"


def results_table(rows: list[dict], metrics: list[str], macro_for) -> str:
    """rows: {'idea', 'node'}; macro_for(node_id, metric) -> macro name or None."""
    header = " & ".join(["Run"] + [escape(m.replace("_", " ")) for m in metrics]) + r" \\"
    body = []
    for row in rows:
        cells = [escape(row["idea"])]
        for metric in metrics:
            macro = macro_for(row["node"], metric)
            cells.append(f"\\{macro}" if macro else "--")
        body.append(" & ".join(cells) + r" \\")
    spec = "l" + "r" * len(metrics)
    return "\n".join([
        # scaled down to the text width when there are more metrics than fit, never scaled up
        r"\begin{table}[t]", r"\centering", r"\small",
        r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
        f"\\begin{{tabular}}{{{spec}}}", r"\toprule", header,
        r"\midrule", *body, r"\bottomrule", r"\end{tabular}}",
        r"\caption{Every run and its recorded metrics (values typeset from the notebooks' records).}",
        r"\label{tab:results}", r"\end{table}", ""])


def figure_block(path: str, label: str, caption: str) -> str:
    return "\n".join([r"\begin{figure}[tbp]", r"\centering", f"\\includegraphics[width=0.72\\linewidth]{{{path}}}",
                      f"\\caption{{{escape(caption)}}}", f"\\label{{fig:{label}}}", r"\end{figure}", ""])


def to_markdown(tex: str, values: dict[str, str], labels: dict[str, str] | None = None,
                citations: dict[str, str] | None = None) -> str:
    """A readable rendering of a section for notebooks and the no-TeX fallback: value macros
    filled in, references numbered (`labels`: label -> "Figure 2"), citations as
    [Author, year] (`citations`: key -> text)."""
    labels, citations = labels or {}, citations or {}
    text = re.sub(r"(?<!\\)%[^\n]*\n?", "", tex)
    text = re.sub(r"\\(R[A-Za-z]+)\b(?:\{\})?", lambda m: values.get(m.group(1), m.group(0)), text)
    text = re.sub(r"\\[a-zA-Z]*cite[a-zA-Z]*\*?(?:\[[^\]]*\])*\{([^}]*)\}",
                  lambda m: "[" + "; ".join(citations.get(k.strip(), k.strip()) for k in m.group(1).split(",")) + "]",
                  text)
    text = re.sub(r"(?:Section|Figure|Table|Equation|Appendix)~?\\(?:ref|autoref|cref)\{([^}]*)\}",
                  lambda m: labels.get(m.group(1), m.group(0).split("\\")[0].rstrip("~") + " " + m.group(1)), text)
    text = re.sub(r"~?\\(?:ref|autoref|cref|eqref)\{([^}]*)\}",
                  lambda m: " " + labels.get(m.group(1), m.group(1).split(":")[-1].replace("_", " ")), text)
    unescape_url = lambda url: re.sub(r"\\([%#_&~$])", r"\1", url.strip())
    text = re.sub(r"\\href\{([^}]*)\}\{([^}]*)\}", lambda m: f"[{m.group(2)}]({unescape_url(m.group(1))})", text)
    text = re.sub(r"\\url\{([^}]*)\}", lambda m: f"<{unescape_url(m.group(1))}>", text)
    text = re.sub(r"\\texttt\{([^}]*)\}", r"`\1`", text)
    text = re.sub(r"\\textbf\{([^}]*)\}", r"**\1**", text)
    text = re.sub(r"\\(?:emph|textit)\{([^}]*)\}", r"*\1*", text)
    text = text.replace(r"\textasciicircum{}", "^").replace(r"\textasciitilde{}", "~")
    text = re.sub(r"\\label\{[^}]*\}", "", text)
    text = re.sub(r"\\begin\{(?:itemize|enumerate)\}|\\end\{(?:itemize|enumerate)\}", "", text)
    text = re.sub(r"\s*\\item\s+", "\n- ", text)
    text = text.replace("``", "\u201c").replace("''", "\u201d").replace("---", "\u2014").replace("--", "\u2013")
    text = text.replace(r"\_", "_").replace(r"\%", "%").replace(r"\&", "&").replace(r"\#", "#").replace(r"\$", "$")
    text = re.sub(r"(?<!\\)~", " ", text)
    return text.strip()


def table_to_markdown(table_tex: str, values: dict[str, str]) -> str:
    """The generated results table as a Markdown table, macros filled in."""
    rows = [line.strip().removesuffix("\\\\").strip().split(" & ") for line in table_tex.splitlines() if " & " in line]
    if not rows:
        return ""
    cells = [[to_markdown(c.strip(), values) for c in row] for row in rows]
    caption = re.search(r"\\caption\{([^}]*)\}", table_tex)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines) + (f"\n\nTable 1: {caption.group(1)}\n" if caption else "\n")
