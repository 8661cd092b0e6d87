"""The number checker: a number that is no macro, no structural number and no fact of the
study within its rounding is flagged."""

from __future__ import annotations

import pytest

from aisci.paper.numbers import Fact, find_numbers, matching_fact, unmatched_numbers

FACTS = [Fact(0.2979980137833926, "record baseline_final_loss"), Fact(-0.2910960670759317, "record delta"),
         Fact(0.934, "record val_acc"), Fact(3, "number of runs"), Fact(0.001, "parameter lr"), Fact(900, "timeout")]


def flagged(tex: str) -> list[str]:
    return [use.text for use in unmatched_numbers(tex, FACTS)]


def test_an_injected_wrong_number_is_flagged():
    tex = "The baseline reaches \\RAnalysisBaselineFinalLoss and the best run reaches 0.95 accuracy."
    assert flagged(tex) == ["0.95"]


@pytest.mark.parametrize("tex", [
    "The baseline reaches 0.298.", "It reaches 0.30 (rounded).", "a drop of 0.291", "a change of $-0.291$",
    "accuracy of 93.4\\%", "we ran 3 runs", "with learning rate $10^{-3}$", "with learning rate 1e-3",
    "with learning rate $1 \\times 10^{-3}$", "a limit of 900 seconds",
])
def test_numbers_that_round_from_a_fact_pass(tex):
    assert flagged(tex) == []


@pytest.mark.parametrize("tex", ["It reaches 0.27.", "accuracy of 93.5\\%", "we ran 4 runs", "10x faster",
                                 "a limit of 1,200 seconds", "loss $0.5$"])
def test_numbers_that_do_not_round_from_a_fact_are_flagged(tex):
    assert len(flagged(tex)) == 1


@pytest.mark.parametrize("tex, reason", [
    ("as shown in 2019 by", "year"),
    ("see Section~3 and Table 2", "section, figure or table number"),
    ("Figures 4 and 5 show", "section, figure or table number"),
    ("we (1) fit and (2) test", "enumeration"),
    ("the 3rd run", "ordinal"),
    ("$x^2 + y_3$", "exponent or subscript"),
    ("$\\frac{7}{2}$", "equation constant"),
    ("width 0.7\\linewidth", "length"),
    ("zero 0 and one 1", "zero or one"),
])
def test_structural_numbers_pass_with_their_reason(tex, reason):
    uses = find_numbers(tex)
    assert uses and all(use.structural for use in uses)
    assert reason in {use.structural for use in uses}
    assert flagged(tex) == []


@pytest.mark.parametrize("tex", ["CIFAR-10", "GPT-4", "top-1 accuracy", "a 2D grid", "L2 loss", "fp16",
                                 "\\cite{smith2019}", "\\ref{fig:run2}", "\\label{sec:a3}", "\\RBestLoss",
                                 "% a comment with 12.5 in it", "\\includegraphics[width=0.8\\linewidth]{fig3.png}",
                                 "lr\\_0\\_3"])
def test_digits_in_names_keys_and_comments_are_not_numbers(tex):
    assert [u for u in find_numbers(tex) if u.structural is None] == []


def test_rounding_is_strict_and_percent_reads_both_ways():
    [use] = find_numbers("0.2980")
    assert matching_fact(use, FACTS).source == "record baseline_final_loss"
    [use] = find_numbers("0.2979")  # a truncation, not a rounding, of 0.29799...
    assert matching_fact(use, FACTS) is None
    [use] = find_numbers("93\\%")
    assert matching_fact(use, FACTS).source == "record val_acc"


def test_a_templates_description_is_read_with_the_papers_number_grammar():
    from aisci.paper.numbers import numbers_in_text
    assert numbers_in_text("a spiral (10,000 training points, 4,000 held out), lr 1.5e-3") == [10000.0, 4000.0, 0.0015]
