"""The first working day of a month, by the official calendar (holidays and 调休)."""

from __future__ import annotations

from datetime import date

import pytest

from matching.workdays import first_working_day, is_working_day


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 12, date(2026, 12, 1)),  # a Tuesday
        (2026, 11, date(2026, 11, 2)),  # the 1st is a Sunday
        (2026, 10, date(2026, 10, 8)),  # after the National Day week
        (2025, 10, date(2025, 10, 9)),
        (2026, 1, date(2026, 1, 4)),  # a Sunday made a working day (调休)
        (2025, 2, date(2025, 2, 5)),  # after the Spring Festival
    ],
)
def test_first_working_day(year: int, month: int, expected: date) -> None:
    assert first_working_day(year, month) == expected


def test_years_the_calendar_does_not_know_fall_back_to_weekdays() -> None:
    assert first_working_day(2040, 1) == date(2040, 1, 2)  # Jan 1 2040 is a Sunday
    assert not is_working_day(date(2040, 1, 7)) and is_working_day(date(2040, 1, 9))
