"""Keyword evidence for the wish classifier (sources 1-3 of matching.classify): keywords
weighted by length and sharing, context words, frames, typo matches and character votes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from matching.text import compact, has_cjk, is_cjk, latin_tokens, normalize


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


_INFLECTIONS = ("ings", "ing", "ers", "er", "ies", "ied", "es", "ed", "s", "ly", "y")
_SHORT_STEM_SUFFIXES = frozenset({"ing", "ed", "es", "s", "er", "ers"})


# Frequent words of requests that carry no category; never fuzzy-matched or learned from.
EN_STOPWORDS = _word_set(
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
ZH_STOP_CHARS = frozenset(
    "我你他她它们的了吗呢吧啊呀哦嗯么个是在有和就都也还要想请帮忙能可以给一下这那"
)
# Characters too common to carry a typo match on their own ("不好" of "修不好").
ZH_FUNCTION_CHARS = frozenset(
    "不了一下个的好上来去到住掉开起过着得动会能要在有是我你他她这那就都也还把被给让点些么吗呢吧啊"
    "人家太很没又再说看想帮找请大小多少天时里边面后前忙哪儿啥咋怎办弄做们俺咱呀哦嗯啦嘛呐"
)
_SEPARABLE_INFIXES = frozenset("个了过完次顿场")
# Pairs common in any request: not learned from, and no basis for a typo match.
ZH_STOP_BIGRAMS = _word_set(
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


class KeywordMatcher:
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
                content = [i for i in kept if text[i] not in ZH_FUNCTION_CHARS]
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
        if token in EN_STOPWORDS or len(token) < 4 or not token.isalpha():
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


def _gram_votes(owners: dict[str, dict[int, float]]) -> dict[str, tuple[tuple[int, float], ...]]:
    """For each content character and character pair of the Chinese keywords, how its
    keywords split between categories; only grams that lean clearly to one category vote."""
    counts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for word, factors in owners.items():
        if not has_cjk(word):
            continue
        text = compact(word)
        grams = {char for char in text if is_cjk(char)} - ZH_FUNCTION_CHARS
        pairs = {text[i : i + 2] for i in range(len(text) - 1)}
        grams |= {pair for pair in pairs if is_cjk(pair[0]) and is_cjk(pair[1])} - ZH_STOP_BIGRAMS
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
    return pair in ZH_STOP_BIGRAMS or keyword_df.get(pair, 0) >= _COMMON_BIGRAM_DF


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
