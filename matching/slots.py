"""Weekly availability slots: which slots a time window touches, and how soon each slot begins.

A slot is a recurring weekly wall-clock interval ("weekday evenings 18:00-21:00"). Volunteer
availability and wish windows are both expressed as bitmasks over a slot list: bit i = slots[i].
Wall-clock times are read in the timezone of the datetimes passed in, so a community's local
time is respected; durations are measured on absolute time, so DST shifts do not skew them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

__all__ = ["DEFAULT_SLOTS", "Slot", "hours_until_next", "slots_overlapping"]

# A window longer than this is treated as "any time in the next two weeks": beyond one week
# every weekly slot has already recurred, so walking further only costs time.
MAX_WALK = timedelta(days=14)

WEEKDAYS = frozenset(range(5))
SATURDAY = frozenset({5})
SUNDAY = frozenset({6})


@dataclass(frozen=True, slots=True)
class Slot:
    """A recurring weekly interval; ``end <= start`` means it runs past midnight."""

    id: str
    weekdays: frozenset[int]  # 0=Monday .. 6=Sunday; the weekday on which the slot *starts*
    start: time  # naive local wall-clock time
    end: time

    def __post_init__(self) -> None:
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"slot {self.id!r}: weekdays must be within 0..6")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(f"slot {self.id!r}: start/end are naive wall-clock times")


def _day_parts(prefix: str, weekdays: frozenset[int]) -> tuple[Slot, ...]:
    return (
        Slot(f"{prefix}_morning", weekdays, time(8), time(12)),
        Slot(f"{prefix}_afternoon", weekdays, time(13), time(18)),
        Slot(f"{prefix}_evening", weekdays, time(18), time(21)),
    )


DEFAULT_SLOTS: tuple[Slot, ...] = (
    *_day_parts("weekday", WEEKDAYS),
    *_day_parts("sat", SATURDAY),
    *_day_parts("sun", SUNDAY),
)


def _require_aware(name: str, value: datetime) -> tzinfo:
    tz = value.tzinfo
    if tz is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return tz


def _occurrences(
    slot: Slot, first_day: date, last_day: date, tz: tzinfo
) -> Iterator[tuple[float, float]]:
    """(start, end) POSIX timestamps of the slot's occurrences starting on first_day..last_day."""
    day = first_day
    while day <= last_day:
        if day.weekday() in slot.weekdays:
            begins = datetime.combine(day, slot.start, tzinfo=tz)
            ends_on = day if slot.end > slot.start else day + timedelta(days=1)
            ends = datetime.combine(ends_on, slot.end, tzinfo=tz)
            yield begins.timestamp(), ends.timestamp()
        day += timedelta(days=1)


def slots_overlapping(start: datetime, end: datetime, slots: Sequence[Slot]) -> int:
    """Bitmask of the slots with an occurrence overlapping ``[start, end)``.

    The wall clock is read in ``start``'s timezone (``end`` is converted to it). Windows longer
    than 14 days are capped; an empty or reversed window overlaps nothing.
    """
    tz = _require_aware("start", start)
    _require_aware("end", end)
    end = min(end.astimezone(tz), start + MAX_WALK)
    lo, hi = start.timestamp(), end.timestamp()
    if hi <= lo:
        return 0
    # An overnight slot that began the day before can still be running at `start`.
    first_day = start.date() - timedelta(days=1)
    mask = 0
    for i, slot in enumerate(slots):
        for occ_start, occ_end in _occurrences(slot, first_day, end.date(), tz):
            if occ_start < hi and occ_end > lo:
                mask |= 1 << i
                break
    return mask


def hours_until_next(now: datetime, slots: Sequence[Slot]) -> list[float]:
    """Per slot, hours from ``now`` until it next begins; 0.0 while in progress.

    A slot with no weekdays never begins: ``math.inf``.
    """
    tz = _require_aware("now", now)
    now_ts = now.timestamp()
    first_day = now.date() - timedelta(days=1)
    last_day = now.date() + timedelta(days=7)
    hours: list[float] = []
    for slot in slots:
        soonest = math.inf
        for occ_start, occ_end in _occurrences(slot, first_day, last_day, tz):
            if occ_end > now_ts:
                soonest = max(0.0, (occ_start - now_ts) / 3600.0)
                break
        hours.append(soonest)
    return hours
