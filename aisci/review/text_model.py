"""The fitted text model behind the `offline-fitted` reviewer: p(accept) of a paper from its words
(TF-IDF of word 1- and 2-grams) and its text statistics (`PaperStatistics.features`, log1p), by
one logistic regression. It is a statistical model of ICLR 2022 decisions, not a reading.

What the model reads is `comparable_text`: the body from the abstract to the references, without
acknowledgements, links, e-mail addresses and the words that name a paper's version. In the
ICLR 2022 benchmark the accepted papers are camera-ready copies and the rejected ones anonymous
submissions, so "Anonymous authors", "double-blind", author names, acknowledgements and code links
tell the decision apart almost perfectly, and say nothing about a draft. The text statistics are
counted on the whole text (the appendix and reference list are part of what a reviewer sees).

The model is plain numbers in JSON (vocabulary, idf, coefficients), rounded so that a refit on the
same data writes the same bytes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from aisci.errors import AisciError
from aisci.review.textstats import FEATURE_NAMES, paper_statistics

TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z]+\b"  # words of two letters or more; numbers say nothing portable
NGRAMS = (1, 2)
DIGITS = 6  # significant digits kept in the saved model: a refit writes the same bytes

_ABSTRACT = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?abstract\b", re.IGNORECASE | re.MULTILINE)
_REFERENCES = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?(?:[A-Z]?\d*\.?\s*)?(?:references|bibliography)\b",
                         re.IGNORECASE | re.MULTILINE)
# from an "Acknowledgements" heading to the next numbered heading (or the end)
_ACKNOWLEDGEMENTS = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?(?:\d+\.?\s*)?acknowledge?ments?\b.*?"
    r"(?=^\s*(?:#+\s*)?(?:\*\*)?(?:[A-Z]|\d+)(?:\.\d+)*\.?\s+[A-Z]|\Z)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL)
_LINKS = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|\bgithub\.com\S*", re.IGNORECASE)
_VERSION_WORDS = re.compile(
    r"\b(?:anonym\w*|double[- ]blind|under review|camera[- ]ready|published as a conference paper"
    r"|(?:anonymous )?reviewers?|supplementary material|iclr|neurips|icml|conference)\b", re.IGNORECASE)


class TextModelError(AisciError):
    """A text model file is missing or malformed, or a fit was asked of unusable data."""


def comparable_text(text: str) -> str:
    """The part of a paper the word features read (see the module docstring for why)."""
    start = _ABSTRACT.search(text[:20000])
    body = text[start.start():] if start else text
    end = _REFERENCES.search(body)
    body = body[:end.start()] if end else body
    body = _ACKNOWLEDGEMENTS.sub(" ", body)
    body = _LINKS.sub(" ", body)
    return _VERSION_WORDS.sub(" ", body)


def statistics_row(text: str) -> list[float]:
    features = paper_statistics(text).features()
    return [features[name] for name in FEATURE_NAMES]


def _round(values) -> list[float]:
    return [float(f"{v:.{DIGITS}g}") for v in np.asarray(values, dtype=float).ravel()]


@dataclass(frozen=True)
class ModelChoice:
    """One point of the grid the cross-validation chooses from."""

    features: str  # "words", "statistics" or "words+statistics"
    C: float  # inverse L2 regularisation
    max_terms: int = 20000  # vocabulary: the terms in most training papers (at least min_df)
    min_df: int = 3
    words_weight: float = 1.0  # the TF-IDF block is scaled by this against the standardised statistics

    @property
    def uses_words(self) -> bool:
        return "words" in self.features

    @property
    def uses_statistics(self) -> bool:
        return "statistics" in self.features


@dataclass(frozen=True)
class TextModel:
    """logit = intercept + words_weight * tfidf(text) . word_coefficients
                         + ((log1p(stats) - center) / scale) . statistics_coefficients;
    accept when logit >= threshold."""

    choice: ModelChoice
    vocabulary: list[str]
    idf: list[float]
    word_coefficients: list[float]
    statistics: list[str]
    center: list[float]
    scale: list[float]
    statistics_coefficients: list[float]
    intercept: float
    threshold: float
    provenance: dict = field(default_factory=dict)

    # --- features --------------------------------------------------------------------------------
    def word_matrix(self, texts: list[str]) -> sp.csr_matrix:
        if not self.vocabulary:
            return sp.csr_matrix((len(texts), 0))
        counts = _vectorizer(vocabulary=self.vocabulary).transform([comparable_text(t) for t in texts])
        return _tfidf(counts, np.asarray(self.idf)) * self.choice.words_weight

    def statistics_matrix(self, rows: list[list[float]]) -> np.ndarray:
        if not self.statistics:
            return np.zeros((len(rows), 0))
        return (np.log1p(np.clip(np.asarray(rows, dtype=float), 0, None)) - self.center) / np.asarray(self.scale)

    # --- scores ----------------------------------------------------------------------------------
    def logits(self, texts: list[str], statistics: list[list[float]] | None = None) -> np.ndarray:
        stats = statistics if statistics is not None else [statistics_row(t) for t in texts]
        words = self.word_matrix(texts) @ np.asarray(self.word_coefficients) if self.vocabulary else 0.0
        numbers = self.statistics_matrix(stats) @ np.asarray(self.statistics_coefficients) if self.statistics else 0.0
        return self.intercept + np.asarray(words) + np.asarray(numbers)

    def probability(self, text: str) -> float:
        return float(1 / (1 + math.exp(-float(self.logits([text])[0]))))

    @property
    def cutoff(self) -> float:
        """The threshold as a probability."""
        return 1 / (1 + math.exp(-self.threshold))

    def contributions(self, text: str) -> tuple[dict[str, float], dict[str, float]]:
        """(term -> its share of the logit, statistic -> its share), for the terms present."""
        words: dict[str, float] = {}
        if self.vocabulary:
            row = self.word_matrix([text]).tocsr()
            coefficients = np.asarray(self.word_coefficients)
            words = {self.vocabulary[j]: float(v * coefficients[j]) for j, v in zip(row.indices, row.data)}
        numbers: dict[str, float] = {}
        if self.statistics:
            standardized = self.statistics_matrix([statistics_row(text)])[0]
            numbers = {name: float(z * c) for name, z, c in
                       zip(self.statistics, standardized, self.statistics_coefficients)}
        return words, numbers

    # --- files -----------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"kind": "aisci-text-model", **asdict(self)}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")) + "\n",
                              encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> TextModel:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TextModelError(f"text model not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TextModelError(f"{path}: not a JSON text model ({exc})") from None
        if not isinstance(raw, dict) or raw.pop("kind", None) != "aisci-text-model":
            raise TextModelError(f"{path}: not an aisci text model (no \"kind\": \"aisci-text-model\")")
        try:
            model = cls(**{**raw, "choice": ModelChoice(**raw["choice"])})
        except (TypeError, KeyError) as exc:
            raise TextModelError(f"{path}: malformed text model ({exc})") from None
        if len(model.vocabulary) != len(model.idf) or len(model.vocabulary) != len(model.word_coefficients) or \
                len(model.statistics) != len(model.statistics_coefficients):
            raise TextModelError(f"{path}: malformed text model (vectors of different lengths)")
        return model


# --- fitting -------------------------------------------------------------------------------------
def _vectorizer(**kwargs):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, ngram_range=NGRAMS, dtype=np.float64,
                           **kwargs)


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear term frequency times idf, each row scaled to unit length."""
    from sklearn.preprocessing import normalize

    weighted = counts.tocsr(copy=True)
    weighted.data = 1 + np.log(weighted.data)
    return normalize(weighted.multiply(idf).tocsr())


@dataclass
class Corpus:
    """The training papers once counted: every word n-gram in at least two papers, and the statistics.
    A fit on any subset of rows selects its vocabulary from those rows alone (a term needs min_df >= 2
    of them), so cross-validation folds see nothing of their held-out papers."""

    counts: sp.csr_matrix
    terms: np.ndarray
    statistics: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_texts(cls, texts: list[str], labels, statistics: list[list[float]] | None = None) -> Corpus:
        vectorizer = _vectorizer(min_df=2)
        try:
            counts = vectorizer.fit_transform([comparable_text(t) for t in texts]).tocsr()
            terms = vectorizer.get_feature_names_out()
        except ValueError:  # no term in two papers (a tiny corpus)
            counts, terms = sp.csr_matrix((len(texts), 0)), np.array([], dtype=object)
        stats = np.asarray(statistics if statistics is not None else [statistics_row(t) for t in texts], dtype=float)
        return cls(counts=counts, terms=terms, statistics=stats, labels=np.asarray(labels, dtype=bool))


def fit_model(corpus: Corpus, rows: np.ndarray, choice: ModelChoice, threshold: float = 0.0,
              provenance: dict | None = None) -> TextModel:
    """Fit on `rows` of the corpus only. The saved numbers are rounded; the model is rebuilt from them."""
    from sklearn.linear_model import LogisticRegression

    y = corpus.labels[rows]
    if y.all() or not y.any():
        raise TextModelError("fitting needs both accepted and rejected papers")
    blocks, vocabulary, idf = [], [], np.zeros(0)
    if choice.uses_words and corpus.terms.size:
        counts = corpus.counts[rows]
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        eligible = np.flatnonzero(df >= choice.min_df)
        # the most common terms, ties by the term itself, so the vocabulary never depends on sort stability
        order = sorted(eligible, key=lambda j: (-df[j], corpus.terms[j]))[:choice.max_terms]
        keep = np.array(sorted(order, key=lambda j: corpus.terms[j]), dtype=int)
        vocabulary = [str(corpus.terms[j]) for j in keep]
        idf = np.asarray(_round(np.log((1 + len(rows)) / (1 + df[keep])) + 1))
        blocks.append(_tfidf(counts[:, keep], idf) * choice.words_weight)
    statistics, center, scale = [], np.zeros(0), np.ones(0)
    if choice.uses_statistics:
        logged = np.log1p(np.clip(corpus.statistics[rows], 0, None))
        center = np.asarray(_round(logged.mean(axis=0)))
        scale = logged.std(axis=0)
        scale[scale == 0] = 1.0
        scale = np.asarray(_round(scale))
        statistics = list(FEATURE_NAMES)
        blocks.append(sp.csr_matrix((logged - center) / scale))
    if not blocks:
        raise TextModelError("the model has no features (no word in enough papers, and no statistics chosen)")
    matrix = sp.hstack(blocks).tocsr()
    # class_weight="balanced": a threshold of 0 aims at balanced accuracy, not at the majority class
    fitted = LogisticRegression(C=choice.C, class_weight="balanced", max_iter=5000).fit(matrix, y)
    coefficients = _round(fitted.coef_[0])
    return TextModel(
        choice=choice, vocabulary=vocabulary, idf=list(idf), word_coefficients=coefficients[:len(vocabulary)],
        statistics=statistics, center=list(center), scale=list(scale),
        statistics_coefficients=coefficients[len(vocabulary):], intercept=_round([fitted.intercept_[0]])[0],
        threshold=float(f"{threshold:.{DIGITS}g}"), provenance=dict(provenance or {}))


def corpus_logits(model: TextModel, corpus: Corpus, rows: np.ndarray) -> np.ndarray:
    """The model's logits for rows of a counted corpus (the same numbers `TextModel.logits` gives
    for the texts, without counting them again)."""
    total = np.full(len(rows), model.intercept)
    if model.vocabulary:
        index = {term: j for j, term in enumerate(corpus.terms)}
        columns = [index.get(term, -1) for term in model.vocabulary]
        present = [i for i, j in enumerate(columns) if j >= 0]  # a term absent from the corpus counts 0
        counts = sp.lil_matrix((len(rows), len(model.vocabulary)))
        if present:
            counts[:, present] = corpus.counts[rows][:, [columns[i] for i in present]]
        words = _tfidf(counts.tocsr(), np.asarray(model.idf)) * model.choice.words_weight
        total = total + words @ np.asarray(model.word_coefficients)
    if model.statistics:
        total = total + model.statistics_matrix(corpus.statistics[rows]) @ np.asarray(model.statistics_coefficients)
    return np.asarray(total).ravel()
