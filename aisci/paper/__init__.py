"""The paper: LaTeX template, values macros from records, section assembly, compilation."""
