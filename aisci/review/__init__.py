"""Reviewing: the NeurIPS review form, reviewers, grounded checks and the review benchmark."""
