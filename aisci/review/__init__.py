"""Reviewing: the NeurIPS review form, reviewers, grounded checks and the review benchmark.
(The checks themselves are aisci.paper.checks; the study's review phase is aisci.phases.review.)

  form.py            ReviewForm, MetaReview (pydantic)
  reviewer.py        the Reviewer protocol and the registry of reviewers by name (and model-spec families)
  llm_reviewer.py    the LLM reviewer: ensemble, reflection rounds, area-chair meta-review (tasks review.*)
  instructions.py    reviewer personas and few-shot example files
  method_code.py     the method section against the code that ran (task review.method_code, offline comparison)
  overlap.py         overlap_fraction(train, test): the probe a template records for the split check
  offline.py         the offline (model-free) checklist reviewer; the checklist table is there
  offline_fitted.py  model-free reviewer whose decision is a logistic rule on text statistics
  textstats.py       the text statistics both offline reviewers read
  inputs.py          paper files (.pdf, .tex, .md, .txt) to text
  meta.py            deterministic meta-review of N reviews; grounded-check penalty; one form for an ensemble
  rules.py           decision rules: Overall >= T, the Decision field, a fitted logistic rule (JSON)
  calibrate.py       fitting that rule and cross-validating it against a fixed threshold
  metrics.py         accuracy, balanced accuracy, F1, ROC AUC, FPR, FNR, bootstrap intervals
  benchdata.py       the labelled benchmark folder and review tables
  bench.py           scoring review tables; running a reviewer over a benchmark with a cache
  synthetic.py       a small synthetic benchmark for tests and trials
"""
