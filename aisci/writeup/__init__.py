"""The writeup phase's work, one job per module (aisci.phases.writeup runs them in order):

    workspace   the state one writeup run shares: what the paper is made from, and the manuscript
    tasks       the model tasks (one per section, in DRAFT_ORDER, and writeup.fix) and their offline forms
    facts       what the paper is made from: values, bibliography, figures, evidence, the facts
                numbers are checked against, and the inputs of each task
    drafting    the sections: a person's kept, the rest each its own call, checked before the next
    fixing      the checks of a section and of the paper, the model's fix rounds, unknown keys removed
    typesetting main.tex, the results table, the title note, compiling (with LaTeX-error fixes)
    publishing  the disclosure, paper.md / paper.html, sections.json, checks.json, paper.ipynb
    pdf_state   which PDF there is (final or draft) and whether it matches the sections (for status)
"""
