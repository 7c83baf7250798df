"""Reading the event times staff type: "12月5日 9:00-11:30", "明天 下午2点-4点半", "Dec 5 9-11".

Deliberately simple: a date (or 今天/明天/后天) and a time or a time range. Anything else is
refused so the form can ask again; a wrong guess on an event date would be worse.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, tzinfo

from bot.services.errors import UserError

_RELATIVE = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "today": 0, "tomorrow": 1}
_DATES = (
    re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?<![\d:])(?P<m>\d{1,2})[/.](?P<d>\d{1,2})(?![\d:])"),
    re.compile(
        r"\b(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*(?P<d>\d{1,2})"
    ),
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_PERIOD = r"(?:上午|早上|中午|下午|晚上|am|pm)?"


def _clock_pattern(n: int) -> str:
    clock = rf"(?P<h{n}>\d{{1,2}})(?::(?P<m{n}>\d{{2}}))?\s*(?P<s{n}>am|pm)?"
    return rf"(?P<p{n}>{_PERIOD})\s*{clock}"


_RANGE = re.compile(_clock_pattern(1) + r"\s*(?:-|~|到|至|—|–)\s*" + _clock_pattern(2) + r"(?!\d)")
_SINGLE = re.compile(_clock_pattern(1) + r"(?!\d)")
_AFTERNOON = ("下午", "晚上", "pm")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(\d{1,2})\s*点\s*半", r"\1:30", text)
    text = re.sub(r"(\d{1,2})\s*点\s*(\d{1,2})\s*分?", lambda m: f"{m[1]}:{int(m[2]):02d}", text)
    return re.sub(r"(\d{1,2})\s*点", r"\1:00", text)


def _find_date(text: str, today: date) -> tuple[date, str]:
    """The date named in the text (this year's, or next year's once it has passed)."""
    for word, days in _RELATIVE.items():
        if word in text:
            return today + timedelta(days=days), text.replace(word, " ", 1)
    for pattern in _DATES:
        found = pattern.search(text)
        if found is None:
            continue
        groups = found.groupdict()
        given_year = groups.get("y")
        year = int(given_year) if given_year else today.year
        month = _MONTHS.index(groups["mon"]) + 1 if groups.get("mon") else int(groups["m"])
        try:
            day = date(year, month, int(found["d"]))
            if not given_year and day < today:
                day = date(year + 1, day.month, day.day)
        except ValueError as exc:
            raise UserError("events.form.bad_time") from exc
        return day, text[: found.start()] + " " + text[found.end() :]
    raise UserError("events.form.bad_time")


def _clock(period: str, hour: str, minute: str | None, fallback_period: str = "") -> time:
    h, m = int(hour), int(minute or 0)
    if (period or fallback_period) in _AFTERNOON and h < 12:
        h += 12
    if h > 23 or m > 59:
        raise UserError("events.form.bad_time")
    return time(h, m)


def parse_span(text: str, now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """A start and an end, in the future, as aware datetimes; UserError when unreadable."""
    today = now.astimezone(tz).date()
    day, rest = _find_date(_normalise(text), today)
    found = _RANGE.search(rest)
    if found is None:
        raise UserError("events.form.bad_time")
    start = _clock(found["p1"] or found["s1"], found["h1"], found["m1"])
    end = _clock(found["p2"] or found["s2"], found["h2"], found["m2"], fallback_period=found["p1"])
    starts_at = datetime.combine(day, start, tz)
    ends_at = datetime.combine(day, end, tz)
    if ends_at <= starts_at:
        raise UserError("events.form.end_before_start")
    if starts_at <= now:
        raise UserError("events.form.in_the_past")
    return starts_at, ends_at


def parse_moment(text: str, now: datetime, tz: tzinfo) -> datetime:
    """One date and time ("12月4日 18:00"), as an aware datetime; UserError when unreadable."""
    today = now.astimezone(tz).date()
    day, rest = _find_date(_normalise(text), today)
    found = _SINGLE.search(rest)
    if found is None:
        raise UserError("events.form.bad_time")
    clock = _clock(found["p1"] or found["s1"], found["h1"], found["m1"])
    return datetime.combine(day, clock, tz)
