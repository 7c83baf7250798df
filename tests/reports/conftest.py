"""A small world for the reports services: a fresh schema, the real services, a recording
notifier and a hand-moved clock. Wishes, their history and ledger entries are written
directly, so each test states exactly the facts it computes from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.db.models.points
import bot.db.models.roster  # noqa: F401  (with bot.db.models: registers every table)
from bot.config import Settings
from bot.db.base import Base
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import Grid, Resident, Staff, User, Volunteer, Wish, WishEvent
from bot.db.models.points import LedgerEntry
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from tests.conftest import ManualClock

DATA = Path(__file__).parent / "data"
GRIDS = (
    ("G01", "第一网格", "幸福社区"),
    ("G02", "第二网格", "幸福社区"),
    ("H01", "河西一网格", "河西社区"),
)


def at(year: int, month: int, day: int, hour: int = 2) -> datetime:
    """A moment in UTC (Shanghai is UTC+8: hour 2 UTC is 10:00 there, the same day)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class World:
    app: AppContext
    notifier: RecordingNotifier
    clock: ManualClock
    engine: AsyncEngine
    grids: dict[str, int]
    _ids: count[int] = field(default_factory=lambda: count(5000))

    async def user(self, name: str = "某人") -> int:
        async with self.app.sessions() as session:
            user = User(telegram_id=next(self._ids), display_name=name, language="zh-CN")
            session.add(user)
            await session.commit()
            return user.id

    async def volunteer(
        self,
        name: str,
        grid: str = "G01",
        *,
        unit: str = "区供电公司",
        branch: str = "供电公司第三党支部",
        status: str = "approved",
        phone: str | None = None,
    ) -> int:
        uid = await self.user(name)
        async with self.app.sessions() as session:
            session.add(
                Volunteer(
                    user_id=uid,
                    name=name,
                    grid_id=self.grids[grid],
                    unit=unit,
                    branch=branch,
                    occupation="职员",
                    status=status,
                )
            )
            if phone is not None:  # a volunteer who is also a resident has a phone on file
                consent = at(2026, 1, 1)
                session.add(
                    Resident(user_id=uid, grid_id=self.grids[grid], phone=phone, consent_at=consent)
                )
            await session.commit()
        return uid

    async def staff(self, name: str = "王主任") -> int:
        uid = await self.user(name)
        async with self.app.sessions() as session:
            session.add(Staff(user_id=uid, scope="community"))
            await session.commit()
        return uid

    async def service(
        self,
        volunteer_id: int,
        *,
        opened: datetime,
        claim_after: timedelta = timedelta(hours=1),
        done_after: timedelta = timedelta(days=1),
        status: str = "verified",
        rating: int | None = None,
        closed: bool = False,
        opened_as: str = "approved",
    ) -> int:
        """A wish opened to volunteers at ``opened``, claimed, done; closed_at set if closed."""
        resident = await self.user("居民")
        claimed_at = opened + claim_after
        done_at = claimed_at + done_after
        async with self.app.sessions() as session:
            wish = Wish(
                resident_id=resident,
                grid_id=self.grids["G01"],
                text="厨房水管漏水了",
                category="repair",
                difficulty="normal",
                status=status,
                volunteer_id=volunteer_id,
                claimed_at=claimed_at,
                done_at=done_at,
                rating=rating,
                closed_at=done_at + timedelta(hours=1) if closed else None,
                created_at=opened - timedelta(hours=5),
            )
            session.add(wish)
            await session.flush()
            for to_status, when in (
                ("submitted", opened - timedelta(hours=5)),
                (opened_as, opened),
                ("offered", opened + timedelta(minutes=10)),
                ("claimed", claimed_at),
            ):
                session.add(WishEvent(wish_id=wish.id, to_status=to_status, at=when))
            await session.commit()
            return wish.id

    async def entry(
        self,
        user_id: int,
        amount: int,
        *,
        kind: str = "award",
        source_type: str = "wish",
        when: datetime,
    ) -> None:
        async with self.app.sessions() as session:
            session.add(
                LedgerEntry(
                    user_id=user_id,
                    amount=amount,
                    kind=kind,
                    reason="测试",
                    source_type=source_type,
                    source_id=str(next(self._ids)),
                    created_at=when,
                )
            )
            await session.commit()


def settings_for(db_url: str) -> Settings:
    return Settings(
        database={"url": db_url},
        community={"grids": [{"code": c, "name": n, "community": m} for c, n, m in GRIDS]},
    )


async def make_world(db_url: str, clock: ManualClock) -> World:
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    notifier = RecordingNotifier()
    app = AppContext(
        settings=settings_for(db_url),
        sessions=make_session_factory(engine),
        notifier=notifier,
        clock=clock,
    )
    grids: dict[str, int] = {}
    async with app.sessions() as session:
        for code, name, community in GRIDS:
            grid = Grid(code=code, name=name, community=community)
            session.add(grid)
            await session.flush()
            grids[code] = grid.id
        await session.commit()
    return World(app, notifier, clock, engine, grids)


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    w = await make_world(sqlite_url, clock)
    try:
        yield w
    finally:
        await w.engine.dispose()


@pytest.fixture
async def both(db_url: str, clock: ManualClock) -> AsyncIterator[World]:
    """The same world on SQLite and on PostgreSQL."""
    w = await make_world(db_url, clock)
    try:
        yield w
    finally:
        await w.engine.dispose()
