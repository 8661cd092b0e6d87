"""Whether a BibTeX value is LaTeX that pdflatex typesets with the paper's preamble
(inputenc utf8, amsmath, amssymb, url, hyperref; OT1 or T1 fonts).

An allow-list, failing closed: braces and math must balance, and every command must be one
known to work in the mode (text or math) it appears in. A value that fails is written as
plain text instead (see `bibvalue`), so a reference never stops the paper from compiling.
"""

from __future__ import annotations

import re

from aisci.literature.encoding import glyph_macros

_URL_ARGUMENT = re.compile(r"(\\(?:url|href)\s*)\{[^{}]*\}")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\\$|\$\$?|[{}]|[^\\${}]+", re.DOTALL)
# commands whose braced argument is text, also inside math
_TEXT_ARGUMENT = frozenset("text mbox textrm textit textbf textsf texttt textsc textsl textup textmd textnormal "
                           "emph textsuperscript textsubscript".split())
_TEXT_COMMANDS = _TEXT_ARGUMENT | frozenset(
    "url href LaTeX TeX relax ldots dots textellipsis em it bf sc rm tt sf sl up md normalfont ensuremath i j "
    "space nobreakspace textemdash textendash textquoteleft textquoteright textquotedblleft textquotedblright "
    "textbackslash textbraceleft textbraceright textless textgreater textbar textasciicircum textasciitilde "
    "textunderscore S P dag ddag copyright pounds slash ae AE oe OE aa AA o O l L ss SS".split())
_MATH_COMMANDS = _TEXT_ARGUMENT | frozenset(
    "frac dfrac tfrac binom tbinom sqrt mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak boldsymbol "
    "operatorname log ln lg exp sin cos tan sinh cosh tanh arcsin arccos arctan min max arg lim liminf limsup sup "
    "inf det dim ker Pr deg gcd hom mod bmod pmod hat tilde bar vec dot ddot breve check acute grave overline "
    "underline widehat widetilde overrightarrow overleftarrow overset underset stackrel left right big Big bigg "
    "Bigg bigl bigr Bigl Bigr biggl biggr middle ldots cdots vdots ddots dots prime infty emptyset varnothing mid "
    "vert Vert lvert rvert lVert rVert langle rangle lbrace rbrace lfloor rfloor lceil rceil quad qquad cdot "
    "times div pm mp leq geq le ge neq ne approx sim simeq cong equiv propto ll gg to gets mapsto rightarrow "
    "leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow iff implies in notin ni subset subseteq supset "
    "supseteq cup cap setminus forall exists nexists neg lnot land lor wedge vee oplus otimes odot circ bullet "
    "star ast partial nabla sum prod int iint oint coprod bigcup bigcap top bot perp parallel angle triangle "
    "square Box diamond ell hbar imath jmath wp Re Im aleph limits nolimits displaystyle textstyle scriptstyle "
    "not colon lbrack rbrack mathop mathbin mathrel ensuremath "
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi pi "
    "varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Upsilon Phi Psi Omega".split())
_TEXT_SYMBOLS = frozenset("'`^\"~=.&%$#_{} ,;!-/:@")  # \' \& \, ...
_MATH_SYMBOLS = frozenset("&%$#_{} ,;!:|")


def latex_problem(value: str) -> str | None:
    """Why `value` might not typeset, or None when it is safe."""
    text_ok, math_ok = glyph_macros()
    groups: list[bool] = []  # the math mode each open group returns to
    math = False
    next_group: bool | None = None  # the mode a command's argument opens in
    # a URL is read verbatim by \url and \href: "_" and "%" in it are no problem
    value = _URL_ARGUMENT.sub(lambda m: m.group(1) + "{}", value)
    for token in _TOKEN.findall(value):
        opens_in, next_group = next_group, None
        if token == "{":
            groups.append(math)
            math = math if opens_in is None else opens_in
        elif token == "}":
            if not groups:
                return "a closing brace with no opening one"
            math = groups.pop()
        elif token == "$$":
            return "display math ($$)"
        elif token == "$":
            math = not math
        elif token.startswith("\\"):
            name = token[1:]
            if len(name) == 1 and not name.isalpha():
                if name not in (_MATH_SYMBOLS if math else _TEXT_SYMBOLS):
                    return f"\\{name} {'in math' if math else 'in text'}"
                continue
            allowed = (name in _MATH_COMMANDS or name in math_ok) if math else (name in _TEXT_COMMANDS
                                                                                 or name in text_ok)
            if not allowed:
                return f"\\{name} is not a command known to typeset {'in math' if math else 'in text'}"
            if name == "ensuremath":
                next_group = True
            elif name in _TEXT_ARGUMENT:
                next_group = False
        elif not math and re.search(r"[_^#&%]", token):
            return f"{re.search(r'[_^#&%]', token).group(0)!r} outside math"
    if groups:
        return "an opening brace with no closing one"
    if math:
        return "math ($) that is not closed"
    return None


def known_command(name: str) -> bool:
    text_ok, math_ok = glyph_macros()
    return any(name in names for names in (_TEXT_COMMANDS, _MATH_COMMANDS, text_ok, math_ok))
