"""The events tests' small world (fresh schema, real services, recording notifier, manual
clock), with residents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from bot.db.models import Resident
from tests.conftest import ManualClock
from tests.events.conftest import World, build


async def add_resident(world: World, name: str = "张阿姨", grid: str = "G01") -> int:
    uid = await world.user(name)
    async with world.app.sessions() as session:
        session.add(
            Resident(
                user_id=uid, grid_id=world.grids[grid], building="8栋", consent_at=world.clock.now
            )
        )
        await session.commit()
    return uid


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    w = await build(sqlite_url, clock)
    try:
        yield w
    finally:
        await w.engine.dispose()


@pytest.fixture
async def any_db_world(db_url: str, clock: ManualClock) -> AsyncIterator[World]:
    w = await build(db_url, clock)
    try:
        yield w
    finally:
        await w.engine.dispose()


def local(world: World, moment: datetime) -> datetime:
    return moment.astimezone(world.app.settings.tz)


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Any]:
    """The real bot against the fake Bot API server, on the hand-moved clock."""
    from bot.demo.stage import Stage

    async with Stage(sqlite_url, admins=(9001,), clock=clock) as s:
        yield s
