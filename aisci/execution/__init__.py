"""Running notebooks: build them with nbformat (build.py), run them with papermill
(execute.py) in a scrubbed kernel (kernel.py) inside the bubblewrap sandbox (sandbox.py).
Not to be confused with the phase notebooks a person steps through (aisci/phase_notebooks/)
or the paper's reading of executed notebooks (aisci/paper/notebooks.py)."""
