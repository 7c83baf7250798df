"""A small world for the events services: a fresh database with every table, the real
services, a recording notifier and a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

# Every table on Base.metadata (the events, points and delivery models included).
import bot.db.models
import bot.db.models.delivery
import bot.db.models.events
import bot.db.models.points  # noqa: F401
from bot.config import Settings
from bot.db.base import Base
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import Grid, Staff, User, Volunteer
from bot.db.models.delivery import OutboxMessage
from bot.db.models.events import EventSignup
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from bot.services.outreach import events
from bot.services.outreach.events import EventDraft, EventView, Segment
from tests.conftest import ManualClock

GRIDS = (
    ("G01", "第一网格", "幸福社区"),
    ("G02", "第二网格", "幸福社区"),
    ("G09", "河西网格", "河西社区"),
)


async def create_schema(url: str) -> AsyncEngine:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


@dataclass
class World:
    app: AppContext
    notifier: RecordingNotifier
    clock: ManualClock
    engine: AsyncEngine
    grids: dict[str, int]

    def __post_init__(self) -> None:
        self._ids = count(70_000)

    async def user(self, name: str = "某人") -> int:
        async with self.app.sessions() as session:
            user = User(telegram_id=next(self._ids), display_name=name, language="zh-CN")
            session.add(user)
            await session.commit()
            return user.id

    async def volunteer(
        self,
        name: str = "李明",
        grid: str = "G01",
        *,
        skills: Sequence[str] = (),
        status: str = "approved",
    ) -> int:
        uid = await self.user(name)
        async with self.app.sessions() as session:
            session.add(
                Volunteer(
                    user_id=uid,
                    name=name,
                    grid_id=self.grids[grid],
                    unit="单位",
                    branch="支部",
                    occupation="职员",
                    status=status,
                    skills=list(skills),
                )
            )
            await session.commit()
        return uid

    async def volunteers(self, n: int, grid: str = "G01") -> list[int]:
        return [await self.volunteer(f"志愿者{i}", grid) for i in range(n)]

    async def staff(self, name: str = "王主任", grid: str | None = None) -> int:
        uid = await self.user(name)
        async with self.app.sessions() as session:
            session.add(
                Staff(
                    user_id=uid,
                    scope="grid" if grid else "community",
                    grid_id=self.grids[grid] if grid else None,
                )
            )
            await session.commit()
        return uid

    def draft(self, **changes: Any) -> EventDraft:
        """An event two days ahead, 09:00–11:30 Shanghai time, 3 places, 5 points."""
        starts = self.clock.now + timedelta(days=2)
        values: dict[str, Any] = {
            "title": "社区环境清洁",
            "description": "捡拾垃圾，清理楼道。",
            "place": "社区广场",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2, minutes=30),
            "slots": 3,
            "skills": (),
            "points": 5,
            "signup_deadline": starts - timedelta(hours=1),
            "segment": Segment("grid", grid_id=self.grids["G01"]),
        }
        values.update(changes)
        return EventDraft(**values)

    async def event(self, staff_id: int | None = None, **changes: Any) -> EventView:
        staff_id = staff_id or await self.staff()
        async with self.app.sessions() as session:
            event, _ = await events.create_event(self.app, session, staff_id, self.draft(**changes))
        return event

    async def statuses(self, event_id: int) -> dict[int, str]:
        async with self.app.sessions() as session:
            rows = await session.execute(
                select(EventSignup.user_id, EventSignup.status).where(
                    EventSignup.event_id == event_id
                )
            )
            return dict(rows.all())

    async def outbox(self, batch_key: str) -> list[OutboxMessage]:
        async with self.app.sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.batch_key == batch_key)
                .order_by(OutboxMessage.id)
            )
            return list(rows)

    def at(self, moment: datetime) -> None:
        self.clock.now = moment


async def build(url: str, clock: ManualClock) -> World:
    engine = await create_schema(url)
    sessions = make_session_factory(engine)
    notifier = RecordingNotifier()
    app = AppContext(settings=Settings(), sessions=sessions, notifier=notifier, clock=clock)
    async with sessions() as session:
        rows = [Grid(code=c, name=n, community=m, neighbours=[]) for c, n, m in GRIDS]
        session.add_all(rows)
        await session.commit()
        grids = {g.code: g.id for g in rows}
    return World(app, notifier, clock, engine, grids)


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    w = await build(sqlite_url, clock)
    try:
        yield w
    finally:
        await w.engine.dispose()


@pytest.fixture
async def any_db_world(db_url: str, clock: ManualClock) -> AsyncIterator[World]:
    """The same world on SQLite and on PostgreSQL."""
    w = await build(db_url, clock)
    try:
        yield w
    finally:
        await w.engine.dispose()


# --- end to end: the real bot against the fake Bot API server ---------------------------------


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Any]:
    from bot.demo.stage import Stage

    async with Stage(sqlite_url, admins=(9001,), clock=clock) as s:
        yield s
