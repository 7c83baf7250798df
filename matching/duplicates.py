"""Neighbours reporting the same thing: "楼道灯坏了" from 8栋 twice, in different words.

Pure: plain strings and dataclasses in, a match out. The service layer picks the candidates
(open wishes of other residents in the same grid, same category, recent) and says whether
each comes from the same building; this module decides whether two texts describe one thing.

Two neighbours rarely write the same sentence, so whole-text edit distance (what catches a
resident sending their own wish twice) misses them. What they share are the *content*
characters and words: 楼道, 灯, 下水道, 堵. Filler (了, 的, 我家, 好几天, 有人能来) is dropped
first; then the score is the larger of two views:

- the overlap coefficient of content character bigrams (|A ∩ B| / min(|A|, |B|)), so a short
  report inside a long one still matches;
- the same over content characters, damped, because "灯不亮" and "灯坏了" share only 灯.

Buildings and other numbers must agree when both texts give one (3号楼 is not 5号楼).
rapidfuzz's partial_ratio adds the case where one text is nearly a substring of the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from matching.text import compact, normalize

# Words that say nothing about *what* is wrong: fillers, people, time, politeness, "broken".
_FILLER_WORDS = (
    "好几天",
    "好多天",
    "这几天",
    "几天了",
    "一直",
    "已经",
    "有人",
    "能不能",
    "能来",
    "来修",
    "修一下",
    "帮忙",
    "帮我",
    "看看",
    "一下",
    "麻烦",
    "谢谢",
    "请问",
    "我们",
    "我家",
    "咱们",
    "俺家",
    "大家",
    "晚上",
    "早上",
    "白天",
    "今天",
    "昨天",
    "现在",
    "还是",
    "怎么",
    "什么",
    "没人",
    "管管",
    "处理",
    "反映",
    "问题",
    "坏了",
    "坏掉",
    "不行",
    "不好",
    "想找人",
    "找人",
    "楼下",
    "楼上",
    "楼里",
    "上午",
    "下午",
    "中午",
    "星期",
    "礼拜",
    "周末",
)
_FILLER_CHARS = frozenset(
    "了的吗呢啊吧呀哦嘛么"  # particles
    "我你他她它们有人能来请帮这那是在也就都还又很太好个想"
)
_WEEKDAY = re.compile(r"(周|星期|礼拜)[一二三四五六日天]")
# "8栋", "3号楼", "2单元", "501室": where, not what. Buildings are compared on their own.
_ADDRESS = re.compile(r"(\d+)(号楼|栋|幢|单元|楼|层|室|号)")
_BUILDING = re.compile(r"(\d+)(号楼|栋|幢)")
_NUMBER = re.compile(r"\d+")
_CHAR_WEIGHT = 0.85  # a shared character is weaker evidence than a shared bigram


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier open wish a neighbour filed."""

    wish_id: int
    text: str
    category: str
    same_building: bool


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    wish_id: int
    score: float
    same_building: bool


def content(text: str) -> str:
    """The characters that say what is wrong, filler removed (normalised, no spaces)."""
    s = _ADDRESS.sub(" ", _WEEKDAY.sub(" ", compact(normalize(text))))
    for word in _FILLER_WORDS:
        s = s.replace(word, " ")
    return "".join(c for c in s if c not in _FILLER_CHARS and not c.isspace())


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s} if s else set()


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def similarity(a: str, b: str) -> float:
    """How surely two wishes describe the same thing, 0..1 (symmetric)."""
    ba = set(_BUILDING.findall(compact(normalize(a))))
    bb = set(_BUILDING.findall(compact(normalize(b))))
    if ba and bb and not {n for n, _ in ba} & {n for n, _ in bb}:
        return 0.0  # 3号楼 is not 5号楼
    ca, cb = content(a), content(b)
    if not ca or not cb:
        return 0.0
    na, nb = set(_NUMBER.findall(ca)), set(_NUMBER.findall(cb))
    if na and nb and not na & nb:
        return 0.0
    ca, cb = _NUMBER.sub("", ca), _NUMBER.sub("", cb)
    if not ca or not cb:
        return 0.0
    bigram = _overlap(_bigrams(ca), _bigrams(cb))
    chars = _overlap(set(ca), set(cb)) * _CHAR_WEIGHT
    # Both views need the shorter text to carry some substance: 2 characters at least.
    if min(len(ca), len(cb)) < 2:
        return 0.0
    partial = fuzz.partial_ratio(ca, cb) / 100 if min(len(ca), len(cb)) >= 4 else 0.0
    return round(max(bigram, chars * (0.5 + 0.5 * bigram), partial), 3)


def neighbour_duplicate(
    text: str,
    category: str,
    candidates: Sequence[Candidate],
    *,
    threshold: float,
) -> DuplicateMatch | None:
    """The earlier wish most likely describing the same thing, same category only.

    Ties (and near-ties within 0.05) go to the same building, then to the earlier wish.
    """
    best: DuplicateMatch | None = None
    for cand in candidates:
        if cand.category != category:
            continue
        score = similarity(text, cand.text)
        if score < threshold:
            continue
        match = DuplicateMatch(cand.wish_id, score, cand.same_building)
        if best is None or _better(match, best):
            best = match
    return best


def _better(new: DuplicateMatch, old: DuplicateMatch) -> bool:
    if abs(new.score - old.score) > 0.05:
        return new.score > old.score
    if new.same_building != old.same_building:
        return new.same_building
    return new.wish_id < old.wish_id


def same_building(a: str | None, b: str | None) -> bool:
    """Whether two residents' addresses ("8栋1单元", "8号楼 302") name the same building."""
    if not a or not b:
        return False
    ca, cb = compact(normalize(a)), compact(normalize(b))
    ma, mb = _BUILDING.search(ca), _BUILDING.search(cb)
    if ma and mb:
        return ma.group(1) == mb.group(1)
    return ca == cb
