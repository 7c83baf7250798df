"""Working days by China's official calendar (`chinese_calendar`): holidays are off, make-up
working days (调休) on a weekend are on. Outside the years the library knows, Monday to Friday.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

__all__ = ["first_working_day", "is_working_day"]


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the library has no data for
        return day.weekday() < 5


def first_working_day(year: int, month: int) -> date:
    """The month's first working day (October's comes after the National Day week)."""
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
