"""The learned parts of the wish classifier (sources 4-5 of matching.classify): staff
corrections as nearest examples, and naive Bayes over character n-grams and English words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from matching.keywords import EN_STOPWORDS, ZH_FUNCTION_CHARS, ZH_STOP_BIGRAMS, ZH_STOP_CHARS
from matching.text import cjk_runs, compact, has_cjk, latin_tokens

_EXAMPLE_FLOOR = 0.15
_EXAMPLE_RANK_DECAY = (1.0, 0.5, 0.25)


# The learned model. Chosen by 10-fold cross-validation on tests/data/wishes_dev.tsv with 30 %
# of the keywords dropped at random in each fold (the keywords were tuned on that file, so intact
# they look better than they do on fresh text): minimum log-loss of the softmax of
# _KEYWORD_SCALE * keyword evidence + _MODEL_SCALE * model evidence. Trigrams and larger
# smoothing did no better than bigrams with 0.1.
_MODEL_MAX_GRAM = 2
_MODEL_SMOOTHING = 0.1  # Laplace (additive) smoothing of the per-category feature counts


class ExampleIndex:
    """Learned (text, category) pairs, searched by character n-gram cosine similarity.

    Postings are plain lists (appending is the cheap part of `learn`) mirrored lazily into
    numpy arrays, so scoring a wish against thousands of examples stays well under 1 ms.
    """

    def __init__(self) -> None:
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._posting_arrays: dict[str, npt.NDArray[np.int32]] = {}
        self._categories: list[int] = []
        self._sizes: list[int] = []
        self._exact: dict[str, int] = {}  # compact text → category of its latest correction
        self._size_array: npt.NDArray[np.float64] = np.zeros(0)

    def __len__(self) -> int:
        return len(self._exact)

    def exact(self, normalized: str) -> int | None:
        return self._exact.get(compact(normalized))

    def add(self, normalized: str, category: int) -> None:
        key = compact(normalized)
        if not key:
            return  # nothing to learn from an emoji or punctuation alone
        self._exact[key] = category
        features = _example_features(normalized)
        if not features:
            return
        example = len(self._categories)
        self._categories.append(category)
        self._sizes.append(len(features))
        for feature in features:
            self._postings[feature].append(example)
            self._posting_arrays.pop(feature, None)

    def scores(self, normalized: str, n_categories: int) -> list[float]:
        result = [0.0] * n_categories
        features = _example_features(normalized)
        postings = [self._posting_array(f) for f in features if f in self._postings]
        if not postings:
            return result
        self._refresh_arrays()
        overlap = np.bincount(np.concatenate(postings), minlength=len(self._categories))
        similarity = overlap / np.sqrt(len(features) * self._size_array)
        near = np.flatnonzero(similarity >= _EXAMPLE_FLOOR)
        best: list[list[float]] = [[] for _ in range(n_categories)]
        for example in near.tolist():
            best[self._categories[example]].append(float(similarity[example]))
        for index, sims in enumerate(best):
            if sims:
                sims.sort(reverse=True)
                result[index] = sum(s * d for s, d in zip(sims, _EXAMPLE_RANK_DECAY, strict=False))
        return result

    def _posting_array(self, feature: str) -> npt.NDArray[np.int32]:
        array = self._posting_arrays.get(feature)
        if array is None:
            array = np.array(self._postings[feature], dtype=np.int32)
            self._posting_arrays[feature] = array
        return array

    def _refresh_arrays(self) -> None:
        if len(self._size_array) != len(self._sizes):
            self._size_array = np.array(self._sizes, dtype=np.float64)


class NaiveBayes:
    """Multinomial naive Bayes over the features a wish contains, trained once.

    A feature counts once per wish (presence beats frequency in texts this short). Scores are
    summed log-likelihoods centred over the categories that have training rows, so a feature
    every category uses alike says nothing, and a category without rows (one a community added)
    scores 0: the keywords decide for it.
    """

    def __init__(self, rows: Sequence[tuple[str, int]], n_categories: int) -> None:
        self._vocabulary: dict[str, int] = {}
        owners: list[int] = []
        features: list[int] = []
        for normalized, category in rows:
            for feature in _model_features(normalized):
                features.append(self._vocabulary.setdefault(feature, len(self._vocabulary)))
                owners.append(category)
        counts = np.zeros((len(self._vocabulary), n_categories))
        np.add.at(counts, (np.array(features, dtype=np.intp), np.array(owners, dtype=np.intp)), 1.0)
        trained = np.zeros(n_categories, dtype=bool)
        trained[[category for _, category in rows]] = True
        smoothing = _MODEL_SMOOTHING
        totals = counts.sum(axis=0) + smoothing * len(self._vocabulary)
        log_likelihood = np.log(counts[:, trained] + smoothing) - np.log(totals[trained])
        self._table = np.zeros_like(counts)
        self._table[:, trained] = log_likelihood - log_likelihood.mean(axis=1, keepdims=True)

    def scores(self, normalized: str) -> npt.NDArray[np.float64]:
        features = _model_features(normalized)
        known = [self._vocabulary[f] for f in features if f in self._vocabulary]
        # Function characters help inside a request ("帮我去…") but alone ("你好", "在吗")
        # they are a greeting: no opinion, so the fallback wins.
        if not known or all(ZH_FUNCTION_CHARS.issuperset(f) for f in features):
            return np.zeros(self._table.shape[1])
        result: npt.NDArray[np.float64] = self._table[known].sum(axis=0)
        return result


def _example_features(normalized: str) -> set[str]:
    """Character unigrams and bigrams of the Chinese parts, word stems of the English parts."""
    features: set[str] = set()
    cjk = compact(normalized)
    for i, char in enumerate(cjk):
        if not has_cjk(char):
            continue
        if char not in ZH_STOP_CHARS:
            features.add(char)
        pair = cjk[i : i + 2]
        if len(pair) == 2 and has_cjk(pair[1]) and pair not in ZH_STOP_BIGRAMS:
            features.add(pair)
    for token in latin_tokens(normalized):
        if token not in EN_STOPWORDS and not token.isdigit():
            features.add("~" + _crude_stem(token))
    return features


def _crude_stem(token: str) -> str:
    """One form for pipe/pipes/piped/piping and leak/leaks/leakking: enough for similarity."""
    for suffix in ("ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            break
    if token.endswith("e") and len(token) > 3:
        token = token[:-1]
    if len(token) >= 4 and token[-1] == token[-2]:
        token = token[:-1]
    return token


def _model_features(normalized: str) -> set[str]:
    """Character n-grams inside each Chinese run, and stemmed English content words."""
    features: set[str] = set()
    for run in cjk_runs(normalized):
        for size in range(1, _MODEL_MAX_GRAM + 1):
            features.update(run[i : i + size] for i in range(len(run) - size + 1))
    for token in latin_tokens(normalized):
        if token not in EN_STOPWORDS and not token.isdigit():
            features.add("~" + _crude_stem(token))
    return features
