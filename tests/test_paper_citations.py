"""Citation checks: keys must be in references.bib, an invented one is removed cleanly, and a
method credited to the wrong work is flagged with the canonical reference suggested."""

from __future__ import annotations

from aisci.literature import parse_bib
from aisci.paper.citations import cited_keys, misattributions, remove_keys, unknown_keys

BIB = {r.key: r for r in parse_bib("""
@book{goodfellow2016deep, title = {Deep Learning}, author = {Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron},
  publisher = {MIT Press}, year = {2016}}
@article{hochreiter1997long, title = {Long Short-Term Memory}, author = {Hochreiter, Sepp and Schmidhuber, J{\\"u}rgen},
  journal = {Neural Computation}, year = {1997}, doi = {10.1162/neco.1997.9.8.1735}}
""").references}


def test_an_invented_key_is_rejected_with_the_closest_real_one():
    [unknown] = unknown_keys("As in~\\citep[p.~3]{hochreiter1997lstm,goodfellow2016deep}.", set(BIB))
    assert unknown.key == "hochreiter1997lstm" and unknown.suggestion == "hochreiter1997long"
    assert cited_keys("\\citet{a} and \\cite{b, a} % \\cite{c}") == ["a", "b"]


def test_removing_a_key_leaves_clean_text():
    text = "Known~\\cite{a,bad} and unknown~\\citep{bad}. Alone (\\cite{bad}) here."
    assert remove_keys(text, {"bad"}) == "Known~\\cite{a} and unknown. Alone here."


def test_lstm_credited_to_goodfellow_is_flagged_with_hochreiter_suggested():
    for sentence in ("We use an LSTM (Goodfellow et al., 2016) for the sequence.",
                     "We use an LSTM~\\cite{goodfellow2016deep} for the sequence."):
        [issue] = misattributions(sentence, BIB)
        assert issue.method.id == "lstm"
        assert issue.suggestion.key == "hochreiter1997long"
        assert "Hochreiter & Schmidhuber (1997)" in issue.message
        assert issue.suggestion.bibtex.lstrip().startswith("@article{hochreiter1997long")


def test_the_right_credit_passes():
    assert misattributions("We use an LSTM~\\cite{hochreiter1997long}.", BIB) == []
    assert misattributions("We use an LSTM (Hochreiter & Schmidhuber, 1997).", BIB) == []
    assert misattributions("% an LSTM (Goodfellow et al., 2016) in a comment\nPlain text.", BIB) == []
