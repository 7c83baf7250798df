"""Normalisation and light segmentation for short, mixed Chinese/English colloquial text.

Residents type on phones, by voice or with a pinyin keyboard: full-width letters and digits,
emoji, no punctuation or too much of it, Chinese and English mixed in one sentence. Everything
in `matching` compares text only after `normalize`, so keywords and wishes meet on equal terms.

Chinese has no spaces, and jieba is deliberately not a dependency: character unigrams and
bigrams are cheap, need no dictionary and work well enough for short wishes.
"""

from __future__ import annotations

import re
import unicodedata

# `\w` keeps letters (CJK included) and digits of every script; underscore is not a word char here.
_NON_WORD = re.compile(r"[\W_]+")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def normalize(text: str) -> str:
    """Return `text` NFKC-folded, lower-cased, with emoji/punctuation as single spaces.

    NFKC turns full-width letters, digits and circled numbers into their ASCII forms.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return _NON_WORD.sub(" ", folded).strip()


def compact(normalized: str) -> str:
    """Drop all spaces from an already normalised text, for substring search of Chinese words.

    Voice input and careless typing put spaces inside words ("水 龙头"); Chinese keywords never
    contain spaces, so removing them only joins what belongs together.
    """
    return normalized.replace(" ", "")


def is_cjk(char: str) -> bool:
    """True for a CJK unified ideograph (basic block, extension A or compatibility)."""
    return bool(_CJK_RUN.fullmatch(char))


def has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


def cjk_runs(normalized: str) -> list[str]:
    """Maximal runs of CJK characters, spaces between them removed first."""
    return _CJK_RUN.findall(compact(normalized))


def latin_tokens(normalized: str) -> list[str]:
    """Words of Latin letters and numbers (`wifi`, `12345`) from a normalised text."""
    return _LATIN_OR_DIGIT.findall(normalized)


def cjk_bigrams(normalized: str) -> list[str]:
    """Overlapping character bigrams inside each CJK run; a one-character run yields itself."""
    grams: list[str] = []
    for run in cjk_runs(normalized):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def cjk_chars(normalized: str) -> list[str]:
    """The CJK characters of a normalised text, in order."""
    return [char for run in cjk_runs(normalized) for char in run]
