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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from matching.text import cjk_runs, compact, has_cjk, is_cjk, latin_tokens, normalize


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Keyword weight by the length of a Chinese keyword: one character is weak evidence ("药"),
# four characters or more are nearly a phrase ("电动车飞线充电").
_CJK_LENGTH_WEIGHT = (0.0, 0.5, 1.0, 1.4, 1.8)
_LATIN_WORD_WEIGHT = 1.0
_LATIN_SHORT_WORD_WEIGHT = 0.7  # "tv", "ac": two letters, so a little ambiguous
_LATIN_PHRASE_WEIGHT = 1.6
_CONTEXT_FACTOR = 0.4  # "~孩子": says who the wish is about more than what it needs
_FUZZY_FACTOR = 0.6  # a typo match is good evidence, not as good as the word itself
_NESTED_OTHER_FACTOR = 0.25  # "卫生" inside a hit of "卫生间" (another category)
_NESTED_SAME_FACTOR = 0.5  # "漏水" inside "水管漏水": same category, partly redundant
_COMMON_BIGRAM_DF = 4  # a character pair in this many keywords is a common morpheme
_LATIN_FUZZY_MIN_LENGTH = 5  # four-letter words have too many one-typo neighbours
# A Chinese keyword found across a space or punctuation ("看看 她好几天" for "看看她") is
# usually two clauses touching, sometimes a word split by voice input ("水 龙头").
_ACROSS_BREAK_FACTOR = 0.5
# A frame "去…拿" spans what it governs; its parts may be this many characters apart.
_FRAME_MAX_GAP = 8

# Character votes, for what no keyword explains: far below one keyword each. A character or
# pair votes if the keywords use it at least twice and at least half of them in one category.
_CHAR_VOTE_WEIGHT = 0.3
_PAIR_VOTE_WEIGHT = 0.3
_VOTE_MIN_COUNT = 2.0
_VOTE_MIN_LEAN = 0.5

# Learned examples: similarities below the floor are noise; the best three per category count.
_EXAMPLE_WEIGHT = 2.0
_EXAMPLE_FLOOR = 0.15
_EXAMPLE_RANK_DECAY = (1.0, 0.5, 0.25)
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

# The learned model. Chosen by 10-fold cross-validation on tests/data/wishes_dev.tsv with 30 %
# of the keywords dropped at random in each fold (the keywords were tuned on that file, so intact
# they look better than they do on fresh text): minimum log-loss of the softmax of
# _KEYWORD_SCALE * keyword evidence + _MODEL_SCALE * model evidence. Trigrams and larger
# smoothing did no better than bigrams with 0.1.
_MODEL_MAX_GRAM = 2
_MODEL_SMOOTHING = 0.1  # Laplace (additive) smoothing of the per-category feature counts
_KEYWORD_SCALE = 3.0  # also the inverse softmax temperature of the keyword evidence
_MODEL_SCALE = 0.2

_INFLECTIONS = ("ings", "ing", "ers", "er", "ies", "ied", "es", "ed", "s", "ly", "y")
_SHORT_STEM_SUFFIXES = frozenset({"ing", "ed", "es", "s", "er", "ers"})
_MAX_ALTERNATIVES = 3

# Frequent words of requests that carry no category; never fuzzy-matched or learned from.
_EN_STOPWORDS = _word_set(
    """a an the and or but if so of to in on at by for from with without into onto about as is
    am are was were be been being do does did done have has had i me my mine we us our you your
    he him his she her it its they them their this that these those there here what which who
    whom whose when where why how can could would should will shall may might must please pls
    plz help helps helping need needs want wants wanted like just also very really some any
    someone somebody anyone anybody one two get got gets go going come came coming make made
    let lets know think thanks thank hi hello dear sir madam mr mrs ms today tomorrow tonight
    week weekend morning afternoon evening night am pm time asap urgent soon now again still not
    no yes ok okay there than then too much many more most little bit lot lots able since
    because while after before over under up down out off all each every other another same
    such own only old new good bad big small"""
)
# Characters not learned from as unigrams.
_ZH_STOP_CHARS = frozenset(
    "我你他她它们的了吗呢吧啊呀哦嗯么个是在有和就都也还要想请帮忙能可以给一下这那"
)
# Characters too common to carry a typo match on their own ("不好" of "修不好").
_ZH_FUNCTION_CHARS = frozenset(
    "不了一下个的好上来去到住掉开起过着得动会能要在有是我你他她这那就都也还把被给让点些么吗呢吧啊"
    "人家太很没又再说看想帮找请大小多少天时里边面后前忙哪儿啥咋怎办弄做们俺咱呀哦嗯啦嘛呐"
)
_SEPARABLE_INFIXES = frozenset("个了过完次顿场")
# Pairs common in any request: not learned from, and no basis for a typo match.
_ZH_STOP_BIGRAMS = _word_set(
    """帮我 帮忙 我家 我们 你们 他们 一下 请问 麻烦 谢谢 可以 能不 不能 有人 我的 什么 怎么
    一个 这个 那个 没有 不会 想要 需要 希望 能否 是否 我想 谁能 能来 来帮 个人 好吗 可不
    不可 行吗 师傅 同志 社区 老师 一些 有没 没人 有个 一点 志愿 愿者 小区 老人 孩子 楼道
    邻居 家里 楼上 楼下 门口 房子 一直 老是 总是 手续"""
)


CONTEXT_MARK = "~"  # keyword prefix: a context word ("~老伴"), weak evidence on its own
# Joins the parts of a frame keyword ("去…拿", "把…送到"): a construction that decides the
# category whatever stands in the gap ("去医院拿药" is an errand although 医院 is health).
FRAME_MARK = "…"


@dataclass(frozen=True, slots=True)
class CategorySpec:
    id: str
    keywords: tuple[str, ...]  # zh and en together; a leading "~" marks a context word


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    confidence: float  # estimated probability that `category` is right, 0..1
    alternatives: tuple[str, ...]  # up to 3 next-best ids, best first, never `category`


@dataclass(frozen=True, slots=True)
class _Keyword:
    text: str
    weights: tuple[tuple[int, float], ...]  # (category index, weight) per owning category


@dataclass(slots=True)
class _Hit:
    keyword: _Keyword
    start: int
    end: int
    factor: float
    frame: bool = False  # a frame discounts what it governs for other categories only


class _KeywordMatcher:
    """Exact and fuzzy search of every category's keywords in one normalised wish."""

    def __init__(self, categories: Sequence[CategorySpec]) -> None:
        owners: dict[str, dict[int, float]] = defaultdict(dict)
        frame_owners: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
        for index, spec in enumerate(categories):
            for raw in spec.keywords:
                factor = _CONTEXT_FACTOR if raw.startswith(CONTEXT_MARK) else 1.0
                if FRAME_MARK in raw:
                    head, _, tail = raw.partition(FRAME_MARK)
                    parts = (compact(normalize(head)), compact(normalize(tail)))
                    if all(parts):
                        previous = frame_owners[parts].get(index, 0.0)
                        frame_owners[parts][index] = max(factor, previous)
                    continue
                word = normalize(raw)
                if word:
                    owners[word][index] = max(factor, owners[word].get(index, 0.0))
        self._frames = [
            (_Keyword(head + FRAME_MARK + tail, _shares(head + tail, factors)), head, tail)
            for (head, tail), factors in frame_owners.items()
        ]

        self._cjk_by_first: dict[str, list[_Keyword]] = defaultdict(list)
        self._cjk_fuzzy_by_gram: dict[str, list[tuple[_Keyword, int]]] = defaultdict(list)
        self._latin_words: dict[str, _Keyword] = {}
        self._latin_phrases: dict[str, list[tuple[_Keyword, list[str]]]] = defaultdict(list)
        self._latin_fuzzy_by_first: dict[str, list[str]] = defaultdict(list)
        self._gram_votes = _gram_votes(owners)
        self._bigram_df: dict[str, int] = defaultdict(int)
        for word in owners:
            for pair in {word[i : i + 2] for i in range(len(word) - 1)}:
                self._bigram_df[pair] += 1
        for word, factors in owners.items():
            keyword = _Keyword(word, _shares(word, factors))
            if has_cjk(word):
                cjk = compact(word)
                self._cjk_by_first[cjk[0]].append(keyword)
                if len(cjk) >= 3:
                    for offset, gram in _fuzzy_grams(cjk):
                        self._cjk_fuzzy_by_gram[gram].append((keyword, offset))
            elif " " in word:
                words = word.split()
                self._latin_phrases[words[0]].append((keyword, words))
            else:
                self._latin_words[word] = keyword
                if len(word) >= _LATIN_FUZZY_MIN_LENGTH and word.isalpha():
                    self._latin_fuzzy_by_first[word[0]].append(word)

    def evidence(self, normalized: str, n_categories: int) -> list[float]:
        """Keyword score per category, plus a weak per-character vote for what no keyword
        explains (a wish in words no list foresaw still leans the right way)."""
        scores = [0.0] * n_categories
        cjk = compact(normalized)
        hits = self._cjk_hits(normalized)
        for hit in hits + self._latin_hits(normalized):
            for index, weight in hit.keyword.weights:
                scores[index] += weight * hit.factor
        covered = {i for hit in hits for i in range(hit.start, hit.end)}
        free = [i for i in range(len(cjk)) if i not in covered]
        grams = {(cjk[i], _CHAR_VOTE_WEIGHT) for i in free}
        grams |= {(cjk[i : i + 2], _PAIR_VOTE_WEIGHT) for i in free if i + 1 in free}
        for gram, weight in grams:
            for index, share in self._gram_votes.get(gram, ()):
                scores[index] += weight * share
        return scores

    def match(self, normalized: str) -> list[_Hit]:
        """All keyword hits, Chinese then English (spans index characters, then tokens)."""
        return self._cjk_hits(normalized) + self._latin_hits(normalized)

    def _cjk_hits(self, normalized: str) -> list[_Hit]:
        cjk = compact(normalized)
        breaks = _break_positions(normalized)
        hits = self._exact_cjk(cjk)
        hits.extend(self._fuzzy_cjk(cjk, hits))
        for hit in hits:
            if any(hit.start < position < hit.end for position in breaks):
                hit.factor *= _ACROSS_BREAK_FACTOR
        hits.extend(self._frame_hits(cjk, breaks))
        _discount_overlaps(hits)
        return hits

    def _frame_hits(self, text: str, breaks: set[int]) -> list[_Hit]:
        """Frames within one clause: "帮我去医院拿药", not "找个兼职 时间灵活"."""
        hits: list[_Hit] = []
        for keyword, head, tail in self._frames:
            start = text.find(head)
            if start < 0:
                continue
            gap_start = start + len(head)
            end = text.find(tail, gap_start, gap_start + _FRAME_MAX_GAP + len(tail))
            if end >= 0 and not any(start < b < end + len(tail) for b in breaks):
                hits.append(_Hit(keyword, start, end + len(tail), 1.0, frame=True))
        return hits

    def _latin_hits(self, normalized: str) -> list[_Hit]:
        hits = self._latin(latin_tokens(normalized))
        _discount_overlaps(hits)
        return hits

    def _exact_cjk(self, text: str) -> list[_Hit]:
        hits: list[_Hit] = []
        seen: set[str] = set()
        for start, char in enumerate(text):
            for keyword in self._cjk_by_first.get(char, ()):
                word = keyword.text
                if word in seen:
                    continue
                if text.startswith(word, start):
                    seen.add(word)
                    hits.append(_Hit(keyword, start, start + len(word), 1.0))
                elif (
                    len(word) == 2
                    and text[start + 2 : start + 3] == word[1]
                    and text[start + 1 : start + 2] in _SEPARABLE_INFIXES
                ):
                    # Separable verbs take a measure word or aspect inside: 理个发, 吵了架.
                    seen.add(word)
                    hits.append(_Hit(keyword, start, start + 3, 1.0))
        return hits

    def _fuzzy_cjk(self, text: str, exact: list[_Hit]) -> list[_Hit]:
        """Keywords of three or more characters with one typo.

        A typo match must keep two content characters (not "理一下" of "修理一下"), what it
        keeps must not already be explained by an exact hit ("手续" is no evidence of
        "怎么弄手续") nor be a common morpheme ("楼道" of "楼道灯"), and it must be
        unambiguous: "的上楼" is one typo from "拿上楼" and "送上楼", so evidence of neither.
        """
        found = {hit.keyword.text for hit in exact}
        covered = {i for hit in exact for i in range(hit.start, hit.end)}
        by_span: dict[tuple[int, int], list[_Keyword]] = defaultdict(list)
        tried: set[tuple[str, int]] = set()
        for position, gram in _fuzzy_grams(text):
            for keyword, offset in self._cjk_fuzzy_by_gram.get(gram, ()):
                start = position - offset
                if keyword.text in found or (keyword.text, start) in tried:
                    continue
                tried.add((keyword.text, start))
                span = _typo_span(keyword.text, text, start)
                if span is None:
                    continue
                kept = [i for i in range(*span) if text[i] in keyword.text]
                content = [i for i in kept if text[i] not in _ZH_FUNCTION_CHARS]
                if len(content) < 2 or all(i in covered for i in content):
                    continue
                pairs = [text[i : i + 2] for i in content if i + 1 in content]
                if pairs and all(_is_common_pair(p, self._bigram_df) for p in pairs):
                    continue  # what survived is a common morpheme: "楼道" of "楼道灯"
                by_span[span].append(keyword)
        hits: list[_Hit] = []
        for (begin, end), keywords in by_span.items():
            if len(keywords) == 1 and keywords[0].text not in found:
                found.add(keywords[0].text)
                hits.append(_Hit(keywords[0], begin, end, _FUZZY_FACTOR))
        return hits

    def _latin(self, tokens: list[str]) -> list[_Hit]:
        """Word and phrase hits; spans count tokens, so phrases can absorb their words."""
        hits: list[_Hit] = []
        seen: set[str] = set()
        for position, token in enumerate(tokens):
            found = self._latin_word(token)
            if found is not None and found[0].text not in seen:
                seen.add(found[0].text)
                hits.append(_Hit(found[0], position, position + 1, found[1]))
            for keyword, words in self._phrases_starting(token):
                end = position + len(words)
                if keyword.text in seen or end > len(tokens):
                    continue
                # Any word may carry an inflection: "picked up", "grab bars".
                following = zip(tokens[position + 1 : end], words[1:], strict=True)
                if all(_same_word(token, word) for token, word in following):
                    seen.add(keyword.text)
                    hits.append(_Hit(keyword, position, end, 1.0))
        return hits

    def _phrases_starting(self, token: str) -> list[tuple[_Keyword, list[str]]]:
        found = list(self._latin_phrases.get(token, ()))
        if len(token) >= 4:
            for stem in _stems(token):
                found.extend(self._latin_phrases.get(stem, ()))
        return found

    def _latin_word(self, token: str) -> tuple[_Keyword, float] | None:
        """The keyword a word stands for, allowing inflections and typos, with its factor."""
        keyword = self._latin_words.get(token)
        if keyword is not None:
            return keyword, 1.0
        if token in _EN_STOPWORDS or len(token) < 4 or not token.isalpha():
            return None
        # The longest known stem: "careers" is a career, not care.
        for stem in sorted(_stems(token), key=len, reverse=True):
            keyword = self._latin_words.get(stem)
            if keyword is not None:
                return keyword, 1.0
        if len(token) < _LATIN_FUZZY_MIN_LENGTH:
            return None
        # Typos rarely hit the first letter, and requiring it keeps "driver" from "river".
        allowed = 1 if len(token) <= 8 else 2
        best = process.extractOne(
            token,
            self._latin_fuzzy_by_first.get(token[0], ()),
            scorer=Levenshtein.distance,
            score_cutoff=allowed,
        )
        if best is None:
            return None
        return self._latin_words[best[0]], _FUZZY_FACTOR


class _ExampleIndex:
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


class _NaiveBayes:
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
        if not known or all(_ZH_FUNCTION_CHARS.issuperset(f) for f in features):
            return np.zeros(self._table.shape[1])
        result: npt.NDArray[np.float64] = self._table[known].sum(axis=0)
        return result


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
        self._keywords = _KeywordMatcher(specs)
        self._examples = _ExampleIndex()
        for text, category in examples:
            self.learn(text, category)
        rows = [
            (normalize(text), self._index[category])
            for text, category in training
            if category in self._index
        ]
        self._model = _NaiveBayes(rows, len(ids)) if rows else None

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


def _gram_votes(owners: dict[str, dict[int, float]]) -> dict[str, tuple[tuple[int, float], ...]]:
    """For each content character and character pair of the Chinese keywords, how its
    keywords split between categories; only grams that lean clearly to one category vote."""
    counts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for word, factors in owners.items():
        if not has_cjk(word):
            continue
        text = compact(word)
        grams = {char for char in text if is_cjk(char)} - _ZH_FUNCTION_CHARS
        pairs = {text[i : i + 2] for i in range(len(text) - 1)}
        grams |= {pair for pair in pairs if is_cjk(pair[0]) and is_cjk(pair[1])} - _ZH_STOP_BIGRAMS
        for gram in grams:
            for index, factor in factors.items():
                counts[gram][index] += factor / len(factors)
    votes: dict[str, tuple[tuple[int, float], ...]] = {}
    for gram, per_category in counts.items():
        total = sum(per_category.values())
        if total >= _VOTE_MIN_COUNT and max(per_category.values()) >= _VOTE_MIN_LEAN * total:
            votes[gram] = tuple((index, value / total) for index, value in per_category.items())
    return votes


def _shares(word: str, factors: dict[int, float]) -> tuple[tuple[int, float], ...]:
    """A keyword's weight per owning category: split evenly, scaled down for context words."""
    share = _base_weight(word) / len(factors)
    return tuple((index, share * factor) for index, factor in factors.items())


def _break_positions(normalized: str) -> set[int]:
    """Offsets in `compact(normalized)` where a space (or punctuation, or emoji) stood."""
    positions: set[int] = set()
    offset = 0
    for char in normalized:
        if char == " ":
            positions.add(offset)
        else:
            offset += 1
    return positions


def _base_weight(word: str) -> float:
    if has_cjk(word):
        length = len(compact(word))
        return _CJK_LENGTH_WEIGHT[min(length, len(_CJK_LENGTH_WEIGHT) - 1)]
    if " " in word:
        return _LATIN_PHRASE_WEIGHT
    return _LATIN_SHORT_WORD_WEIGHT if len(word) <= 2 else _LATIN_WORD_WEIGHT


def _fuzzy_grams(text: str) -> list[tuple[int, str]]:
    """Adjacent pairs and pairs one apart, with their start: one typo spares at least one."""
    grams = [(i, text[i : i + 2]) for i in range(len(text) - 1)]
    grams.extend((i, text[i] + "_" + text[i + 2]) for i in range(len(text) - 2))
    return grams


def _typo_span(word: str, text: str, start: int) -> tuple[int, int] | None:
    """Span of `text` near `start` that is `word` with one substitution (or, for words of four
    characters or more, one missing or extra character); None if there is none."""
    length = len(word)
    candidates = [(start, start + length)]
    if length >= 4:
        candidates += [(start, start + length - 1), (start, start + length + 1)]
        candidates += [(start - 1, start - 1 + length), (start + 1, start + 1 + length)]
    for begin, end in candidates:
        if begin < 0 or end > len(text):
            continue
        window = text[begin:end]
        # The first and last characters are where a wrong window is most likely to go astray.
        if window[0] not in word and window[-1] not in word:
            continue
        if Levenshtein.distance(word, window, score_cutoff=1) <= 1:
            return begin, end
    return None


def _discount_overlaps(hits: list[_Hit]) -> None:
    """Let a keyword found inside a longer keyword's span mostly yield to the longer one, and
    let overlapping keywords of one category ("小孩" and "孩子" in "小孩子") count once."""
    taken: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h.start - h.end):
        mine = {index for index, _ in hit.keyword.weights}
        for longer in taken:
            if hit.end <= longer.start or longer.end <= hit.start:
                continue
            same = bool(mine & {index for index, _ in longer.keyword.weights})
            if same and longer.frame:
                continue
            if longer.start <= hit.start and hit.end <= longer.end:
                hit.factor *= _NESTED_SAME_FACTOR if same else _NESTED_OTHER_FACTOR
                break
            if same:
                hit.factor *= _NESTED_SAME_FACTOR
                break
        taken.append(hit)


def _is_common_pair(pair: str, keyword_df: dict[str, int]) -> bool:
    return pair in _ZH_STOP_BIGRAMS or keyword_df.get(pair, 0) >= _COMMON_BIGRAM_DF


def _same_word(token: str, word: str) -> bool:
    return token == word or (len(token) >= 4 and word in _stems(token))


def _stems(token: str) -> list[str]:
    """Candidate dictionary forms of an English word: pipes→pipe, leaking/leakking→leak."""
    stems: list[str] = []
    for suffix in _INFLECTIONS:
        # "fixing" → fix is fine; "apply" → app is not: short stems only for verb/plural endings.
        shortest = 3 if suffix in _SHORT_STEM_SUFFIXES else 4
        if token.endswith(suffix) and len(token) - len(suffix) >= shortest:
            stem = token[: -len(suffix)]
            stems.append(stem)
            if len(stem) >= 4 and stem[-1] == stem[-2]:
                stems.append(stem[:-1])  # stopped → stopp → stop
            if suffix in ("ies", "ied"):
                stems.append(stem + "y")
            if suffix == "es" and stem.endswith("v"):
                stems.append(stem[:-1] + "f")  # shelves → shelf
            if suffix in ("es", "ed", "er", "ing"):
                stems.append(stem + "e")  # leaves nothing out: pipes → pip, pipe
    return stems


def _example_features(normalized: str) -> set[str]:
    """Character unigrams and bigrams of the Chinese parts, word stems of the English parts."""
    features: set[str] = set()
    cjk = compact(normalized)
    for i, char in enumerate(cjk):
        if not has_cjk(char):
            continue
        if char not in _ZH_STOP_CHARS:
            features.add(char)
        pair = cjk[i : i + 2]
        if len(pair) == 2 and has_cjk(pair[1]) and pair not in _ZH_STOP_BIGRAMS:
            features.add(pair)
    for token in latin_tokens(normalized):
        if token not in _EN_STOPWORDS and not token.isdigit():
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
        if token not in _EN_STOPWORDS and not token.isdigit():
            features.add("~" + _crude_stem(token))
    return features
