"""The paper: from the study's executed notebooks to a checked LaTeX paper (aisci.phases.writeup
runs the steps in order).

    values       values.tex: one macro per record, naming the notebook and cell
    sections     paper/sections/*.tex, stamped so a person's edit is recognised and kept
    notebooks    executed notebooks as text for the model tasks; cell authors
    bibliography references.bib from the template, the study library and the attribution table
    figures      the analysis figures: kept, captioned, deduplicated, copied
    numbers      the number checker (structural numbers, facts within rounding)
    claims       claims about experiments no notebook ran (claims_vocabulary.json)
    citations    unknown keys, their removal, mis-attributed methods
    verify       all section checks as findings (paper/checks.json)
    style        aisci's article (article.tex) or a venue's style folder
    compile      latexmk / pdflatex + bibtex with a time limit, chktex
    disclosure   the appendix: who wrote what, decisions, tokens and cost, compute
    render       paper.md and paper.html (readable without TeX)
    checks       the review phase's grounded checks of the finished paper
"""
