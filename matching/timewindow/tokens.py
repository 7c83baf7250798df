"""A recognised piece of time text (a day, a span, a part of day, a clock time), the pattern
registries that produce them, and the choice of non-overlapping pieces."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from matching.timewindow.dates import at, monday_of


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "day" | "span" | "part" | "clock"
    start: int
    end: int
    day: date | None = None
    span: tuple[datetime, datetime] | None = None
    part: str | None = None  # for "part", or implied by a day ("今晚")
    clock: tuple[int, int] | None = None  # hour, minute as written
    meridiem: str | None = None  # "am" | "pm" | None
    until: tuple[int, int] | None = None  # end of a "3点到5点" range


Handler = Callable[[re.Match[str], datetime], "Token | None"]
Pattern = tuple[re.Pattern[str], Handler]


def registrar(patterns: list[Pattern]) -> Callable[[str], Callable[[Handler], Handler]]:
    """A decorator factory: `@pattern(regex)` appends (regex, handler) to `patterns`."""

    def pattern(regex: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            patterns.append((re.compile(regex), handler))
            return handler

        return register

    return pattern


def find_tokens(folded: str, now: datetime, patterns: Sequence[Pattern]) -> list[Token]:
    """Every match of every pattern, in the order of `patterns` (equal-length overlaps are
    resolved by that order)."""
    found: list[Token] = []
    for regex, handler in patterns:
        for match in regex.finditer(folded):
            token = handler(match, now)
            if token is not None:
                found.append(token)
    return found


def select(tokens: list[Token]) -> list[Token]:
    """Non-overlapping tokens, longer matches first, then in reading order."""
    chosen: list[Token] = []
    for token in sorted(tokens, key=lambda t: (t.start - t.end, t.start)):
        if all(token.end <= other.start or other.end <= token.start for other in chosen):
            chosen.append(token)
    return sorted(chosen, key=lambda t: t.start)


def day_token(match: re.Match[str], day: date, part: str | None = None) -> Token:
    return Token("day", match.start(), match.end(), day=day, part=part)


def span_token(match: re.Match[str], start: datetime, end: datetime) -> Token:
    return Token("span", match.start(), match.end(), span=(start, end))


def weekend_token(match: re.Match[str], now: datetime, week_offset: int) -> Token:
    saturday = monday_of(now.date()) + timedelta(days=7 * week_offset + 5)
    start, end = at(saturday, now), at(saturday + timedelta(days=2), now)
    if start < now < end:  # a weekend in progress: what is left of it (a past one stays whole)
        start = now
    return span_token(match, start, end)
