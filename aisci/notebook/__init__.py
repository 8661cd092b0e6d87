"""Notebooks: build them with nbformat, run them with papermill in a scrubbed kernel."""
