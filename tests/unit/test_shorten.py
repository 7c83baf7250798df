"""List lines and buttons cut texts at a word boundary (Latin) and always show "…"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.tg.shorten import shorten

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("My kitchen tap is leaking, could someone come?", 30, "My kitchen tap is leaking…"),
        ("Please help me carry a sofa upstairs", 16, "Please help me…"),
        ("厨房水管漏水了，周六上午有人能来修吗", 10, "厨房水管漏水了，周…"),
        ("厨房水管漏水了", 30, "厨房水管漏水了"),
        ("short", 30, "short"),
        ("line one\nline two", 30, "line one line two"),
        ("Supercalifragilisticexpialidocious word", 16, "Supercalifragil…"),  # one long word
        ("帮我修 kitchen水管 please", 12, "帮我修 kitchen…"),
        ("12345678901234567890", 10, "123456789…"),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected


@given(st.text(max_size=80), st.integers(min_value=2, max_value=40))
def test_never_longer_than_the_limit_and_marks_every_cut(text: str, limit: int) -> None:
    out = shorten(text, limit)
    assert len(out) <= limit
    flat = " ".join(text.split())
    assert out == flat or out.endswith("…")


def test_lists_do_not_slice_texts_by_hand() -> None:
    """Every list or button that shows part of a wish goes through shorten()."""
    sliced = re.compile(r"\.text\[:\s*\w+\]")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "handlers").rglob("*.py")
        if sliced.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
