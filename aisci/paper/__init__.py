"""The paper: from the study's executed notebooks to a checked LaTeX paper (aisci.phases.writeup
runs the steps in order, through aisci.writeup).

    values       values.tex: one macro per record, naming the notebook and cell
    sections     paper/sections/*.tex, stamped so a person's edit is recognised and kept
    notebooks    executed notebooks as text for the model tasks; cell authors
    bibliography references.bib from the template, the study library and the attribution table
    figures      the analysis figures: kept, captioned, deduplicated, copied
    numbers      the number checker (structural numbers, facts within rounding)
    meaning      what a number's sentence is about, and what each fact of the study measures
    claims       claims about experiments no notebook ran (claims_vocabulary.json), run and seed counts
    code_facts   what the executed code did (ast): optimizer, loss, schedule, layers, batch size
    method_check the method text against code_facts, without a model
    setup_check  the model, data sizes, split and techniques (method_vocabulary.json) against code_facts
    citations    unknown keys, their removal, mis-attributed methods
    verify       all section checks as findings (paper/checks.json)
    style        aisci's article (article.tex) or a venue's style folder
    compile      latexmk / pdflatex + bibtex with a time limit, chktex
    disclosure   the appendix: who wrote what, decisions, tokens and cost, compute
    render       paper.md and paper.html (readable without TeX)
    checks       the review phase's grounded checks of the finished paper
"""
