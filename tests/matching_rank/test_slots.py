"""Weekly slots: which slots a window overlaps, and hours until each slot next begins."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.slots import DEFAULT_SLOTS, Slot, hours_until_next, slots_overlapping

SHANGHAI = timezone(timedelta(hours=8))
IDS = [s.id for s in DEFAULT_SLOTS]


def bit(slot_id: str) -> int:
    return 1 << IDS.index(slot_id)


def at(day: int, hour: int, minute: int = 0, tz: timezone = SHANGHAI) -> datetime:
    """2024-05-06 is a Monday: at(0, ...) is Monday, at(6, ...) Sunday, at(7, ...) next Monday."""
    return datetime(2024, 5, 6, hour, minute, tzinfo=tz) + timedelta(days=day)


def test_default_slots_cover_weekdays_saturday_and_sunday_in_three_parts() -> None:
    assert IDS == [
        "weekday_morning",
        "weekday_afternoon",
        "weekday_evening",
        "sat_morning",
        "sat_afternoon",
        "sat_evening",
        "sun_morning",
        "sun_afternoon",
        "sun_evening",
    ]
    evening = DEFAULT_SLOTS[IDS.index("weekday_evening")]
    assert evening.weekdays == frozenset({0, 1, 2, 3, 4})
    assert (evening.start, evening.end) == (time(18), time(21))


def test_window_across_the_week_boundary_overlaps_sunday_evening_and_monday_morning() -> None:
    mask = slots_overlapping(at(6, 20), at(7, 9), DEFAULT_SLOTS)
    assert mask == bit("sun_evening") | bit("weekday_morning")


def test_window_is_half_open_and_gaps_between_slots_overlap_nothing() -> None:
    assert slots_overlapping(at(0, 12), at(0, 13), DEFAULT_SLOTS) == 0
    assert slots_overlapping(at(0, 11, 59), at(0, 12), DEFAULT_SLOTS) == bit("weekday_morning")
    assert slots_overlapping(at(0, 17), at(0, 19), DEFAULT_SLOTS) == bit("weekday_afternoon") | bit(
        "weekday_evening"
    )


def test_saturday_window_does_not_match_weekday_slots() -> None:
    assert slots_overlapping(at(5, 9), at(5, 10), DEFAULT_SLOTS) == bit("sat_morning")


def test_long_windows_cover_everything_and_empty_windows_nothing() -> None:
    everything = (1 << len(DEFAULT_SLOTS)) - 1
    assert slots_overlapping(at(0, 0), at(400, 0), DEFAULT_SLOTS) == everything
    assert slots_overlapping(at(0, 10), at(0, 10), DEFAULT_SLOTS) == 0
    assert slots_overlapping(at(0, 10), at(0, 9), DEFAULT_SLOTS) == 0


def test_wall_clock_is_read_in_the_start_timezone() -> None:
    # 02:00 UTC on Monday is 10:00 in Shanghai: a UTC window reads UTC wall clock...
    utc_start = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    assert slots_overlapping(utc_start, utc_start + timedelta(hours=1), DEFAULT_SLOTS) == 0
    # ...and the same instant given in Shanghai time is the weekday morning.
    local = utc_start.astimezone(SHANGHAI)
    assert slots_overlapping(local, utc_start + timedelta(hours=1), DEFAULT_SLOTS) == bit(
        "weekday_morning"
    )


def test_overnight_slot_running_past_midnight_is_found() -> None:
    night = Slot("fri_night", frozenset({4}), time(22), time(2))
    assert slots_overlapping(at(5, 1), at(5, 1, 30), [night]) == 1  # Saturday 01:00
    assert slots_overlapping(at(5, 2), at(5, 3), [night]) == 0
    assert hours_until_next(at(5, 1), [night]) == [0.0]


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_overlapping(datetime(2024, 5, 6, 9), at(0, 10), DEFAULT_SLOTS)
    with pytest.raises(ValueError, match="timezone-aware"):
        hours_until_next(datetime(2024, 5, 6, 9), DEFAULT_SLOTS)


def test_slot_rejects_bad_weekdays() -> None:
    with pytest.raises(ValueError, match="weekdays"):
        Slot("bad", frozenset({7}), time(8), time(9))


def test_hours_until_next_on_a_monday_morning() -> None:
    hours = dict(zip(IDS, hours_until_next(at(0, 9, 30), DEFAULT_SLOTS), strict=True))
    assert hours["weekday_morning"] == 0.0  # in progress
    assert hours["weekday_afternoon"] == 3.5
    assert hours["weekday_evening"] == 8.5
    assert hours["sat_morning"] == 4 * 24 + 22.5
    assert hours["sun_evening"] == 6 * 24 + 8.5


def test_hours_until_next_wraps_from_sunday_night_to_monday() -> None:
    hours = dict(zip(IDS, hours_until_next(at(6, 22), DEFAULT_SLOTS), strict=True))
    assert hours["weekday_morning"] == 10.0
    assert hours["sun_morning"] == 6 * 24 + 10.0


def test_slot_without_weekdays_never_begins() -> None:
    assert hours_until_next(at(0, 9), [Slot("never", frozenset(), time(8), time(9))]) == [math.inf]


def test_hours_until_next_counts_real_hours_across_a_dst_change() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database on this machine")
    # Clocks jump from 02:00 to 03:00 on Sunday 2024-03-31: 22:00 -> 08:00 is 9 real hours.
    saturday_night = datetime(2024, 3, 30, 22, 0, tzinfo=berlin)
    hours = dict(zip(IDS, hours_until_next(saturday_night, DEFAULT_SLOTS), strict=True))
    assert hours["sun_morning"] == 9.0


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(SHANGHAI)
)


@given(instants)
def test_in_progress_slots_are_exactly_those_overlapping_the_next_moment(now: datetime) -> None:
    hours = hours_until_next(now, DEFAULT_SLOTS)
    mask = slots_overlapping(now, now + timedelta(microseconds=1), DEFAULT_SLOTS)
    assert all(0.0 <= h < 7 * 24 for h in hours)
    assert [h == 0.0 for h in hours] == [bool(mask >> i & 1) for i in range(len(hours))]


@given(instants, st.integers(min_value=1, max_value=72 * 60))
def test_a_window_overlaps_exactly_the_slots_beginning_before_it_ends(
    now: datetime, minutes: int
) -> None:
    hours = hours_until_next(now, DEFAULT_SLOTS)
    mask = slots_overlapping(now, now + timedelta(minutes=minutes), DEFAULT_SLOTS)
    for i, h in enumerate(hours):
        if abs(h * 60 - minutes) > 1e-6:  # a slot starting exactly at the end is a float tie
            assert bool(mask >> i & 1) == (h * 60 < minutes), DEFAULT_SLOTS[i].id
