"""English time expressions and clock times written with a colon or am/pm ("9:30",
"tomorrow at 8", "next Wednesday", "Dec 5th")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from matching.timewindow.dates import (
    at,
    date_on_or_after,
    first_of_next_month,
    monday_of,
    weekday_date,
)
from matching.timewindow.lexicon import MONTHS_EN, WEEKDAYS_EN
from matching.timewindow.tokens import (
    Pattern,
    Token,
    day_token,
    registrar,
    span_token,
    weekend_token,
)

PATTERNS: list[Pattern] = []
_pattern = registrar(PATTERNS)


@_pattern(
    r"(?<![\d.])(?P<h>[01]?\d|2[0-3])[:](?P<m>[0-5]\d)(?!\d)\s*(?P<ap>a\.?m\.?|p\.?m\.?)?"
    r"(?:\s*(?:-|~|to|到|至)\s*(?P<h2>[01]?\d|2[0-3])[:](?P<m2>[0-5]\d))?"
)
def _clock_colon(match: re.Match[str], now: datetime) -> Token:
    begin = (int(match.group("h")), int(match.group("m")))
    until = (int(match.group("h2")), int(match.group("m2"))) if match.group("h2") else None
    meridiem = _meridiem(match.group("ap"))
    return Token("clock", match.start(), match.end(), clock=begin, meridiem=meridiem, until=until)


@_pattern(r"\b(?P<h>1[0-2]|0?[1-9])\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])")
def _clock_ampm(match: re.Match[str], now: datetime) -> Token:
    meridiem = _meridiem(match.group("ap"))
    hour = int(match.group("h"))
    return Token("clock", match.start(), match.end(), clock=(hour, 0), meridiem=meridiem)


@_pattern(r"\b(?:at|around|by)\s+(?P<h>1[0-2]|0?[1-9])(?:\s*o'?clock)?\b(?![:.]\d)")
def _clock_at(match: re.Match[str], now: datetime) -> Token:
    return Token("clock", match.start(), match.end(), clock=(int(match.group("h")), 0))


@_pattern(r"\b(?P<h>1[0-2]|0?[1-9])\s*o'?clock\b")
def _clock_oclock(match: re.Match[str], now: datetime) -> Token:
    return Token("clock", match.start(), match.end(), clock=(int(match.group("h")), 0))


@_pattern(r"\b(?:today|tonight|tomorrow|tmrw?|the day after tomorrow)\b")
def _relative_day_en(match: re.Match[str], now: datetime) -> Token:
    word = match.group()
    today = now.date()
    if word == "tonight":
        return day_token(match, today, "evening")
    if word == "today":
        return day_token(match, today)
    offset = 2 if word.startswith("the day after") else 1
    return day_token(match, today + timedelta(days=offset))


@_pattern(rf"\b(?:(?P<pre>this|next|coming|this coming)\s+)?(?P<wd>{'|'.join(WEEKDAYS_EN)})s?\b")
def _weekday_en(match: re.Match[str], now: datetime) -> Token:
    weekday = WEEKDAYS_EN.index(match.group("wd"))
    offset = 1 if match.group("pre") == "next" else None
    return day_token(match, weekday_date(now, weekday, offset))


@_pattern(r"\b(?:(?P<pre>this|next|the)\s+)?weekend\b")
def _weekend_en(match: re.Match[str], now: datetime) -> Token:
    return weekend_token(match, now, 1 if match.group("pre") == "next" else 0)


@_pattern(r"\b(?:by|before|until|till)\s+(?:the\s+)?end\s+of\s+(?:the|this)\s+month\b")
def _by_month_end_en(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(first_of_next_month(now.date()), now))


@_pattern(r"\b(?:at\s+)?(?:the\s+)?end\s+of\s+(?:the|this)\s+month\b")
def _month_end_en(match: re.Match[str], now: datetime) -> Token:
    return day_token(match, first_of_next_month(now.date()) - timedelta(days=1))


@_pattern(r"\b(?:this|within\s+the|within\s+this)\s+week\b")
def _this_week_en(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(monday_of(now.date()) + timedelta(days=7), now))


@_pattern(r"\bnext\s+week\b")
def _next_week_en(match: re.Match[str], now: datetime) -> Token:
    monday = monday_of(now.date()) + timedelta(days=7)
    return span_token(match, at(monday, now), at(monday + timedelta(days=7), now))


@_pattern(r"\bnext\s+month\b")
def _next_month_en(match: re.Match[str], now: datetime) -> Token:
    first = first_of_next_month(now.date())
    return span_token(match, at(first, now), at(first_of_next_month(first), now))


@_pattern(r"\b(?:in|within|over)\s+the\s+next\s+(?:few|couple\s+of|2|3)\s+days\b|\bthese\s+days\b")
def _next_days_en(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(now.date() + timedelta(days=3), now))


@_pattern(
    rf"\b(?P<mon>{'|'.join(MONTHS_EN)})[a-z]*\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>{'|'.join(MONTHS_EN)})[a-z]*\b"
)
def _month_day_en(match: re.Match[str], now: datetime) -> Token | None:
    month_word = match.group("mon") or match.group("mon2")
    day = int(match.group("d") or match.group("d2"))
    found = date_on_or_after(now.date(), MONTHS_EN.index(month_word[:3]) + 1, day)
    return None if found is None else day_token(match, found)


def _meridiem(raw: str | None) -> str | None:
    if not raw:
        return None
    return "am" if raw.startswith("a") else "pm"
