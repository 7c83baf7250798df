"""Calendar arithmetic in the wish's timezone: wall-clock times, weeks, months, dates that
may have passed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta


def at(day: date, now: datetime, hour: int = 0, minute: int = 0) -> datetime:
    """Wall-clock time on `day` in now's timezone; hour 24 is the next day's midnight."""
    if hour >= 24:
        day, hour = day + timedelta(days=hour // 24), hour % 24
    return datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_offset_of(prefix: str | None) -> int | None:
    """None: the next such day; else weeks from the current Monday-based week."""
    if prefix is None or prefix == "每":
        return None
    if prefix.startswith("下下"):
        return 2
    if prefix.startswith("下"):
        return 1
    if prefix.startswith("上"):
        return -1
    return 0


def weekday_date(now: datetime, weekday: int, week_offset: int | None) -> date:
    today = now.date()
    if week_offset is None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    return monday_of(today) + timedelta(days=7 * week_offset + weekday)


def first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_on_or_after(today: date, month: int, day: int) -> date | None:
    """This year's month/day, or next year's when it has passed."""
    if not 1 <= month <= 12:
        return None
    candidate = valid_date(today.year, month, day)
    if candidate is not None and candidate >= today:
        return candidate
    return valid_date(today.year + 1, month, day)
