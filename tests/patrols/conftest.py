"""Patrols and standing posts: the events' small world (fresh schema, real services, a
recording notifier, a hand-moved clock) with a patrol shift maker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.services.patrols import shifts
from bot.services.patrols.shifts import ShiftDraft, ShiftView
from tests.conftest import ManualClock
from tests.events.conftest import World, build

# The meeting point of the demo's route: the community's north gate.
GATE = (31.5690, 120.2990)


class PatrolWorld:
    def __init__(self, w: World) -> None:
        self.w = w
        self.app = w.app
        self.clock = w.clock
        self.grids = w.grids

    def draft(self, **changes: Any) -> ShiftDraft:
        """A shift tomorrow evening (19:00–21:00 Shanghai), 3 places, G01, with a point."""
        starts = self.clock.now + timedelta(days=1, hours=1)
        values: dict[str, Any] = {
            "grid_id": self.grids["G01"],
            "name": "夜间巡逻：1-6栋",
            "description": "楼道、消防通道、电动车棚",
            "lat": GATE[0],
            "lon": GATE[1],
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2),
            "capacity": 3,
        }
        values.update(changes)
        return ShiftDraft(**values)

    async def shift(self, staff_id: int, **changes: Any) -> ShiftView:
        async with self.app.sessions() as session:
            shown, _ = await shifts.create_shift(self.app, session, staff_id, self.draft(**changes))
        return shown


@pytest.fixture
async def pw(sqlite_url: str, clock: ManualClock) -> AsyncIterator[PatrolWorld]:
    w = await build(sqlite_url, clock)
    try:
        yield PatrolWorld(w)
    finally:
        await w.engine.dispose()


@pytest.fixture
async def any_db_pw(db_url: str, clock: ManualClock) -> AsyncIterator[PatrolWorld]:
    w = await build(db_url, clock)
    try:
        yield PatrolWorld(w)
    finally:
        await w.engine.dispose()


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Any]:
    """The real bot against the fake Bot API server (as in tests/e2e)."""
    from bot.demo.stage import Stage

    async with Stage(sqlite_url, admins=(9001,), clock=clock) as s:
        yield s
