"""`aisci review-bench DATA_DIR`: measure reviewers against a labelled set of papers.

  aisci review-bench DATA                          score every CSV in DATA/llm_reviews at Overall >= 6
  aisci review-bench DATA --reviews r.csv --rule decision --rule overall>=5 --bootstrap 1000
  aisci review-bench DATA --run offline [--limit N] [--out DIR]     review the papers (cached), score them
  aisci review-bench DATA --run openai:MODEL@URL --num-reviews 5 --num-reflections 5   a model reviewer; its calls
                                                   are kept in DIR/calls.sqlite (--store), so a rerun replays
  aisci review-bench DATA --reviews r.csv --calibrate               logistic rule on sub-scores, CV only
  aisci review-bench DATA --reviews r.csv --fit-on train_ids.txt --evaluate-on test_ids.txt --rule-out rule.json
  aisci review-bench DATA --features text --calibrate --fit-on train_ids.txt --evaluate-on test_ids.txt
  aisci review-bench DATA --fit [--out DIR]        refit the shipped text model and hybrid rule on train_ids.txt,
                                                   evaluate once on test_ids.txt; says whether the files are
                                                   identical to the shipped ones
"""

from __future__ import annotations

from aisci.commands.review import add_model_reviewer_options
from aisci.review.reviewer import reviewer_names

# aisci.review.bench.MISSING_POLICIES, named here so that building the parser loads no pandas
# (tests/test_cli_fast.py checks that the two agree)
MISSING_POLICIES = ("reject", "drop")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "review-bench", help="measure a reviewer against a labelled set of papers (accuracy, F1, AUC, ...)",
        description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("data_dir", metavar="DATA_DIR", help="folder with ratings_subset.tsv, papers/, llm_reviews/")
    parser.add_argument("--reviews", metavar="CSV_OR_FOLDER", help="review table(s) to score (default DATA_DIR/llm_reviews)")
    parser.add_argument("--rule", action="append", default=[], metavar="RULE",
                        help="decision rule: overall>=6 (default), decision, calibrated:rule.json; repeatable")
    parser.add_argument("--threshold", type=float, action="append", default=[], metavar="T",
                        help="shorthand for --rule overall>=T; repeatable")
    parser.add_argument("--missing", choices=MISSING_POLICIES, default="reject",
                        help="a paper without a usable review counts as Reject (default) or is dropped")
    parser.add_argument("--ids", metavar="IDS_FILE", help="score (or run) only the papers listed, e.g. test_ids.txt")
    parser.add_argument("--bootstrap", type=int, default=0, metavar="N", help="N bootstrap resamples for 95%% intervals")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    parser.add_argument("--run", metavar="REVIEWER", help=f"review the papers with an aisci reviewer ({', '.join(reviewer_names())})")
    parser.add_argument("--limit", type=int, metavar="N", help="with --run: only the first N papers")
    parser.add_argument("--out", metavar="DIR", help="with --run: cache folder (default ./review-bench-<reviewer>)")
    parser.add_argument("--calibrate", action="store_true",
                        help="cross-validate a logistic rule against the fixed threshold on the same folds")
    parser.add_argument("--features", choices=("subscores", "text"), default="subscores",
                        help="what the logistic rule reads: the review's sub-scores, or the paper's text statistics")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--cv-seeds", type=int, default=5, metavar="K", help="repeat the CV with seeds 0..K-1 (default 5)")
    parser.add_argument("--C", type=float, default=1.0, dest="C", help="inverse L2 regularisation of the logistic rule")
    parser.add_argument("--fit-on", metavar="IDS_FILE", help="fit the logistic rule on these papers only (and CV within them)")
    parser.add_argument("--evaluate-on", metavar="IDS_FILE", help="evaluate the fitted rule once on these papers")
    parser.add_argument("--rule-out", metavar="RULE_JSON", help="where --fit-on saves the rule (default calibrated_rule.json)")
    parser.add_argument("--fit", action="store_true",
                        help="refit the shipped text model (and the hybrid rule on --reviews, default the GPT-4o "
                             "ensemble CSV) on --fit-on (default train_ids.txt); evaluate once on --evaluate-on "
                             "(default test_ids.txt); files go to --out (default ./review-bench-fit)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    add_model_reviewer_options(parser, threshold=False)
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.review.bench_command import run_bench  # pandas, scipy: only for this command

    return run_bench(args)
