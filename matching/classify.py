"""Wish category classification: keyword evidence plus what staff corrections taught us.

A wish gets a score per category from four sources, all indexed at construction:

1. Keywords. Each category's keywords (Chinese and English together) are searched in the
   normalised wish. Longer keywords weigh more; a keyword listed by several categories is
   split between them; one marked as context ("~老伴": who the wish is about, not what it
   needs) weighs less; a hit nested inside a longer hit ("卫生" in "卫生间") mostly yields
   to it. Separable verbs match with an infix (理个发 for 理发).
2. Typos. Chinese keywords of three or more characters also match with one wrong, missing or
   extra character (pinyin and voice-input slips: 水笼头 for 水龙头), when what survives is
   distinctive; English words match after stripping inflections or with one or two typos
   ("leakking", "compter").
3. Characters. What no keyword explains still votes weakly through the characters and
   character pairs that the keyword lists use for one category more than others (露水 leans
   to repair through 水).
4. Staff corrections. Learned (text, category) pairs vote by character n-gram similarity
   (nearest examples); an identical text takes the corrected category outright.
5. A learned model, when labelled `training` wishes are given (the bot ships
   bot/defaults/wishes_train.tsv): multinomial naive Bayes over character uni- and bigrams and
   English words, trained at construction. Keyword lists are tuned on the wishes their authors
   saw and miss fresh paraphrases; the model generalises from every labelled line. It is blended
   log-linearly with sources 1-4 (see `_KEYWORD_SCALE`, `_MODEL_SCALE`).

Without training, `confidence` is a logistic function of the margin between the two best scores,
fitted so that it reads as the chance of being right (see `_confidence`); with training it is
the softmax probability of the blended scores. Below about 0.45 the resident should be asked
to choose among `category` and `alternatives`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from matching.keywords import CategorySpec as CategorySpec  # part of this module's interface
from matching.keywords import KeywordMatcher
from matching.learned import ExampleIndex, NaiveBayes
from matching.text import normalize

# Learned examples: similarities below the floor are noise; the best three per category count.
_EXAMPLE_WEIGHT = 2.0


# Next to the model, staff corrections must also outvote its confident answers (it learned a
# convention this community does not share): 3 corrections about buying tickets on a phone
# move "帮我手机上买张电影票" to errand, while "教我在手机上买火车票" stays digital.
_EXAMPLE_WEIGHT_WITH_MODEL = 3.0
_EXACT_CORRECTION_SCORE = 10.0  # staff already classified this very text

# The fallback wins only over (almost) no evidence at all.
_FALLBACK_BIAS = 0.1
# Confidence = logistic(margin between the two best scores, and whether the fallback won).
# Fitted on the development set classified with 20-40 % of the keywords removed at random,
# which mimics wishes worded unlike the lists (accuracy ~89 %, like fresh text).
_CONFIDENCE_MARGIN_CAP = 3.0
_CONFIDENCE_PER_MARGIN = 2.3
_CONFIDENCE_FALLBACK = -0.6
_CONFIDENCE_TIE = -0.13  # a (near) tie is right only about 40 % of the time
_TIE_MARGIN = 0.05
_CONFIDENCE_INTERCEPT = -0.12


# The blend of keyword evidence and the learned model, chosen with it (see matching.learned).
_KEYWORD_SCALE = 3.0  # also the inverse softmax temperature of the keyword evidence
_MODEL_SCALE = 0.2


_MAX_ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    confidence: float  # estimated probability that `category` is right, 0..1
    alternatives: tuple[str, ...]  # up to 3 next-best ids, best first, never `category`


class Classifier:
    """Classifies a wish's text into one of the configured categories.

    `examples` are staff corrections stored by the bot; `learn` adds one more at run time.
    Unknown category ids in either raise ValueError (filter them against `category_ids`).
    `training` are labelled (text, category) wishes for the learned model (see
    `load_training`); rows of categories this taxonomy lacks are skipped, so a community may
    drop default categories and keep the shipped file.
    """

    def __init__(
        self,
        categories: Sequence[CategorySpec],
        examples: Iterable[tuple[str, str]] = (),
        fallback: str = "other",
        training: Iterable[tuple[str, str]] = (),
    ) -> None:
        ids = [spec.id for spec in categories]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate category ids in {ids}")
        specs = list(categories)
        if fallback not in ids:
            specs.append(CategorySpec(fallback, ()))
            ids.append(fallback)
        self._ids = tuple(ids)
        self._index = {category: i for i, category in enumerate(ids)}
        self._fallback = self._index[fallback]
        self._keywords = KeywordMatcher(specs)
        self._examples = ExampleIndex()
        for text, category in examples:
            self.learn(text, category)
        rows = [
            (normalize(text), self._index[category])
            for text, category in training
            if category in self._index
        ]
        self._model = NaiveBayes(rows, len(ids)) if rows else None

    @property
    def category_ids(self) -> tuple[str, ...]:
        return self._ids

    def learn(self, text: str, category: str) -> None:
        """Add one staff correction as evidence for future wishes; O(length of text)."""
        index = self._index.get(category)
        if index is None:
            raise ValueError(f"unknown category {category!r}")
        self._examples.add(normalize(text), index)

    def classify(self, text: str) -> Classification:
        scores = self.scores(text)
        scale = 1.0 if self._model is None else _KEYWORD_SCALE
        scores[self._fallback] += _FALLBACK_BIAS * scale
        # Stable sort: equal scores keep taxonomy order, so ties resolve the same way each time.
        order = sorted(range(len(self._ids)), key=lambda i: -scores[i])
        best = order[0]
        alternatives = tuple(self._ids[i] for i in order[1 : 1 + _MAX_ALTERNATIVES])
        if self._model is None:
            confidence = _confidence(scores[best] - scores[order[1]], best == self._fallback)
        else:
            top = scores[best]
            confidence = round(1.0 / sum(math.exp(s - top) for s in scores), 4)
        return Classification(self._ids[best], confidence, alternatives)

    def scores(self, text: str) -> list[float]:
        """Evidence per category before calibration: keywords plus learned examples, and with
        training the log-linear blend of those with the model (softmax logits)."""
        normalized = normalize(text)
        if self._model is None:
            return self._evidence(normalized, _EXAMPLE_WEIGHT)
        scores = self._evidence(normalized, _EXAMPLE_WEIGHT_WITH_MODEL)
        model = self._model.scores(normalized)
        return [
            _KEYWORD_SCALE * value + _MODEL_SCALE * float(learned)
            for value, learned in zip(scores, model, strict=True)
        ]

    def _evidence(self, normalized: str, example_weight: float) -> list[float]:
        scores = self._keywords.evidence(normalized, len(self._ids))
        if len(self._examples):
            learned = self._examples.scores(normalized, len(self._ids))
            for index, value in enumerate(learned):
                scores[index] += example_weight * value
            corrected = self._examples.exact(normalized)
            if corrected is not None:
                scores[corrected] += _EXACT_CORRECTION_SCORE
        return scores


def load_training(path: Path | str) -> list[tuple[str, str]]:
    """(text, category) pairs from a `category<TAB>text` file; blank and `#` lines skipped."""
    rows: list[tuple[str, str]] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, separator, text = line.partition("\t")
        if not separator:
            raise ValueError(f"{path}: no tab in line {line!r}")
        rows.append((text.strip(), category.strip()))
    return rows


def _confidence(margin: float, is_fallback: bool) -> float:
    """Estimated probability that the top category is right."""
    z = _CONFIDENCE_PER_MARGIN * min(margin, _CONFIDENCE_MARGIN_CAP) + _CONFIDENCE_INTERCEPT
    if is_fallback:
        z += _CONFIDENCE_FALLBACK
    if margin < _TIE_MARGIN:
        z += _CONFIDENCE_TIE
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def bench_classify(classifier: Classifier, texts: Sequence[str]) -> dict[str, float]:
    """Time `classify` on each text once; returns {"n", "p50_ms", "p95_ms"}."""
    durations: list[float] = []
    for text in texts:
        started = time.perf_counter()
        classifier.classify(text)
        durations.append((time.perf_counter() - started) * 1000.0)
    if not durations:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0}
    durations.sort()
    p95 = durations[min(len(durations) - 1, math.ceil(0.95 * len(durations)) - 1)]
    return {"n": len(durations), "p50_ms": median(durations), "p95_ms": p95}
