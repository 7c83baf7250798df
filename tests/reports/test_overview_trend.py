"""The overview's trend (filed / done per local day) cuts at local midnights: checked against
the plain per-wish conversion, around midnight and over a daylight-saving change."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.services.reports.outcome_math import WishRecord
from bot.services.reports.outcomes import window
from bot.services.reports.overview import _trend


def _app(tz: str) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(tz=ZoneInfo(tz)))


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Europe/Berlin"])
def test_trend_counts_each_wish_on_its_local_day(tz: str) -> None:
    app = _app(tz)
    now = datetime(2026, 11, 5, 3, 30, tzinfo=UTC)  # Berlin left summer time on 25 Oct
    win = window("30d", now, now)
    rng = random.Random(7)
    records = []
    for i in range(2000):
        created = win.start + timedelta(seconds=rng.uniform(0, 30 * 86400))
        done = created + timedelta(hours=rng.uniform(0, 48)) if i % 3 else None
        records.append(
            WishRecord(
                i, 1, "repair", "done", created, done_at=done if done and done < now else None
            )
        )
    # Wishes a minute either side of a local midnight land on different days.
    midnight = datetime(2026, 11, 1, tzinfo=ZoneInfo(tz))
    records += [
        WishRecord(9001, 1, "repair", "submitted", midnight - timedelta(minutes=1)),
        WishRecord(9002, 1, "repair", "submitted", midnight + timedelta(minutes=1)),
    ]
    local = ZoneInfo(tz)
    filed = Counter(r.created_at.astimezone(local).date() for r in records)
    done = Counter(r.done_at.astimezone(local).date() for r in records if r.done_at)
    trend = _trend(records, win, app)
    assert [d for d, _, _ in trend] == sorted({d for d, _, _ in trend})
    assert {d: f for d, f, _ in trend if f} == dict(filed)
    assert {d: n for d, _, n in trend if n} == dict(done)
    assert sum(f for _, f, _ in trend) == len(records)


def test_an_empty_period_has_a_row_of_zeros_per_day() -> None:
    now = datetime(2026, 11, 5, 3, 30, tzinfo=UTC)
    trend = _trend([], window("7d", now, now), _app("Asia/Shanghai"))
    assert len(trend) == 8 and all(f == 0 and n == 0 for _, f, n in trend)
