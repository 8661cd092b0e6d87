"""Reviewing: the NeurIPS review form, reviewers, grounded checks and the review benchmark.

  form.py            ReviewForm, MetaReview (pydantic)
  reviewer.py        the Reviewer protocol and the registry of reviewers by name
  offline.py         the offline (model-free) checklist reviewer; the checklist table is there
  offline_fitted.py  model-free reviewer whose decision is a logistic rule on text statistics
  textstats.py       the text statistics both offline reviewers read
  inputs.py          paper files (.pdf, .tex, .md, .txt) to text
  meta.py            deterministic meta-review of N reviews
  rules.py           decision rules: Overall >= T, the Decision field, a fitted logistic rule (JSON)
  calibrate.py       fitting that rule and cross-validating it against a fixed threshold
  metrics.py         accuracy, balanced accuracy, F1, ROC AUC, FPR, FNR, bootstrap intervals
  benchdata.py       the labelled benchmark folder and review tables
  bench.py           scoring review tables; running a reviewer over a benchmark with a cache
  synthetic.py       a small synthetic benchmark for tests and trials
"""
