"""From the chosen pieces to one window: which day, which hours, and the text recognised."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from matching.timewindow.dates import at
from matching.timewindow.lexicon import PART_HOURS, PM_PARTS
from matching.timewindow.tokens import Token


def compose(
    tokens: list[Token], now: datetime
) -> tuple[tuple[datetime | None, datetime | None], list[Token]]:
    day = _first(tokens, "day")
    span = _first(tokens, "span")
    clock = _first(tokens, "clock")
    part_token = _first(tokens, "part")
    part = part_token.part if part_token else (day.part if day else None)
    used = [t for t in (day, span if day is None else None, clock, part_token) if t is not None]

    if day is not None and day.day is not None:
        on = day.day
    elif span is not None and span.span is not None and (clock or part):
        on = span.span[0].date()
    else:
        on = now.date()

    if clock is not None and clock.clock is not None:
        start = at(on, now, *_hour_minute(clock.clock, part, clock.meridiem))
        if clock.until is not None:
            end = _range_end(clock.until, start, clock.meridiem)
        else:
            end = start + timedelta(hours=1)
        return (start, end), used
    if part is not None:
        first, last = PART_HOURS[part]
        return (at(on, now, first), at(on, now, last)), used
    if day is not None:
        return (at(on, now), at(on + timedelta(days=1), now)), used
    if span is not None and span.span is not None:
        return span.span, used
    return (None, None), []


def _first(tokens: list[Token], kind: str) -> Token | None:
    return next((t for t in tokens if t.kind == kind), None)


def _hour_minute(clock: tuple[int, int], part: str | None, meridiem: str | None) -> tuple[int, int]:
    hour, minute = clock
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif meridiem is None and hour <= 12:
        if part in PM_PARTS and hour < 12:
            hour += 12
        elif part == "evening" and hour == 12:
            hour = 24
        elif part == "noon" and hour <= 2:
            hour += 12
        elif part is None and 1 <= hour <= 6:
            hour += 12  # "3点半" with nothing else: residents mean the afternoon
    return hour, minute


def _range_end(until: tuple[int, int], start: datetime, meridiem: str | None) -> datetime:
    """The end of "下午2点到5点", "晚上11点到1点", "9:00-11:30": the first matching time after
    the start, reading a bare 1-12 as either half of the day."""
    hour, minute = until
    hours = [hour]
    if meridiem == "pm" and hour < 12:
        hours = [hour + 12]
    elif meridiem is None and hour <= 12:
        hours = [hour % 12, hour % 12 + 12]
    day = start.date()
    candidates = [
        datetime.combine(day + timedelta(days=d), time(h, minute), tzinfo=start.tzinfo)
        for d in (0, 1)
        for h in hours
    ]
    return min(c for c in candidates if c > start)


_JOINER = re.compile(r"[\s,，、的]*|\s*(?:at|on|in the|,)\s*")


def matched_text(folded: str, used: list[Token]) -> str | None:
    if not used:
        return None
    pieces: list[str] = []
    ordered = sorted(used, key=lambda t: t.start)
    begin, end = ordered[0].start, ordered[0].end
    for token in ordered[1:]:
        if _JOINER.fullmatch(folded[end : token.start]):  # "明天 下午3点", "明天的下午"
            end = max(end, token.end)
        else:
            pieces.append(folded[begin:end].strip())
            begin, end = token.start, token.end
    pieces.append(folded[begin:end].strip())
    return " ".join(pieces)
