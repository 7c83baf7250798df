"""Cut a text for a list line or a button: never mid-word for Latin text, always with "…"."""

from __future__ import annotations

__all__ = ["shorten"]

ELLIPSIS = "…"
_TRAILING = " \t,.;:!?-–—，。、；：！？"


def _in_word(ch: str) -> bool:
    """A letter or digit of a script that separates words with spaces (not CJK, kana...)."""
    return ch.isalnum() and ord(ch) < 0x2E80


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters on one line, ending in "…" when something was cut.

    Runs of whitespace (newlines included) become one space. A cut that would split a Latin
    word goes back to the word's start, unless the word fills more than half of the room; CJK
    text, which has no spaces, is cut at the limit.
    """
    if limit < 2:
        raise ValueError("limit must leave room for a character and the ellipsis")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if _in_word(cut[-1]) and _in_word(flat[limit - 1]):
        space = cut.rfind(" ")
        if space >= len(cut) // 2:
            cut = cut[:space]
    return cut.rstrip(_TRAILING) + ELLIPSIS
