"""The overview's window sums (counted by the database) equal the outcome figures computed in
Python from every record, on a random district, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from bot.services.reports.outcome_math import median, outcomes
from bot.services.reports.outcomes import Window, idle_volunteers, load_records, window
from bot.services.reports.overview import _day_edges, _trend, local_midnight
from bot.services.reports.window_sums import window_sums
from bot.web.bench import _seed


@pytest.mark.parametrize("key", ["30d", "7d", "today"])
async def test_window_sums_equal_the_figures_from_every_record(db_url: str, key: str) -> None:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    now = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    app = AppContext(
        Settings(database={"url": db_url}),  # type: ignore[arg-type]
        make_session_factory(engine),
        RecordingNotifier(),
        clock=lambda: now,
    )
    try:
        n_grids = await _seed(app, 4000, 300, seed=7)
        win = window(key, now, local_midnight(app, now))
        for grids in (None, [1, 3], [n_grids]):
            async with app.sessions() as s:
                records = await load_records(s, win.start, win.end, grids)
                idle = await idle_volunteers(s, win.start, win.end, grids)
                days, edges = _day_edges(win, app)
                sums = await window_sums(s, win.start, win.end, grids, edges, idle)
            assert records, "the window holds wishes"
            assert sums.figures == outcomes(records, idle=idle)
            assert sums.by_status == dict(Counter(r.status for r in records))
            assert sums.by_category == dict(Counter(r.category for r in records))
            _same_grids(sums.per_grid, records)
            trend = _trend(records, win, app)
            assert list(zip(days, sums.filed_per_day, sums.done_per_day, strict=True)) == trend
    finally:
        await engine.dispose()


def _same_grids(per_grid: dict, records: list) -> None:  # type: ignore[type-arg]
    by_grid: dict[int, list] = {}  # type: ignore[type-arg]
    for r in records:
        by_grid.setdefault(r.grid_id, []).append(r)
    assert set(per_grid) == set(by_grid)
    for grid_id, mine in by_grid.items():
        sums = per_grid[grid_id]
        claims = [
            (r.claimed_at - r.approved_at).total_seconds() / 3600
            for r in mine
            if r.claimed_at is not None and r.approved_at is not None
        ]
        ratings = [r.rating for r in mine if r.rating is not None]
        assert sums.filed == len(mine)
        assert median(sums.claim_hours) == median(claims)
        assert (sums.rating_sum, sums.ratings) == (sum(ratings), len(ratings))


async def test_an_empty_window_sums_to_nothing(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    now = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    app = AppContext(
        Settings(database={"url": db_url}),  # type: ignore[arg-type]
        make_session_factory(engine),
        RecordingNotifier(),
        clock=lambda: now,
    )
    try:
        win = Window("7d", now - timedelta(days=7), now)
        days, edges = _day_edges(win, app)
        async with app.sessions() as s:
            sums = await window_sums(s, win.start, win.end, None, edges, idle=2)
        assert sums.figures == outcomes([], idle=2)
        assert (sums.by_status, sums.by_category, sums.per_grid) == ({}, {}, {})
        assert sums.filed_per_day == sums.done_per_day == [0] * len(days)
    finally:
        await engine.dispose()
