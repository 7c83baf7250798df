"""A small world for the points services: a fresh database, the real services, a recording
notifier and a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.db.models.points  # noqa: F401  (registers the points tables)
from bot.config import Settings
from bot.db.base import Base
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import Grid, Staff, User, Volunteer, Wish
from bot.db.models.points import LedgerEntry
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from bot.services.points import shop
from tests.conftest import ManualClock

_UNIQUE = count(10_000)
GRIDS = (
    ("G01", "第一网格", "幸福社区"),
    ("G02", "第二网格", "幸福社区"),
    ("G09", "河西网格", "河西社区"),
)


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


@dataclass
class World:
    app: AppContext
    notifier: RecordingNotifier
    clock: ManualClock
    engine: AsyncEngine
    grids: dict[str, int]

    def __post_init__(self) -> None:
        self._ids = _UNIQUE  # shared: several worlds may live in one database

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
        public: bool = True,
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
                    public_board=public,
                )
            )
            await session.commit()
        return uid

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

    async def wish(
        self,
        volunteer_id: int | None,
        *,
        category: str = "repair",
        difficulty: str = "normal",
        urgent: bool = False,
        rating: int | None = 5,
        status: str = "verified",
    ) -> int:
        resident = await self.user("居民")
        async with self.app.sessions() as session:
            wish = Wish(
                resident_id=resident,
                grid_id=self.grids["G01"],
                text="厨房水管漏水了",
                category=category,
                difficulty=difficulty,
                urgent=urgent,
                status=status,
                volunteer_id=volunteer_id,
                rating=rating,
                closed_at=self.clock.now,
            )
            session.add(wish)
            await session.commit()
            return wish.id

    async def grant(self, user_id: int, amount: int) -> None:
        """Give points directly (a test-only source), without caps."""
        from bot.services.points import ledger

        async with self.app.sessions() as session:
            await ledger.insert_entry(
                self.app,
                session,
                user_id=user_id,
                amount=amount,
                kind="adjust",
                reason="测试",
                source_type="test",
                source_id=str(next(self._ids)),
            )
            await session.commit()

    async def reward(
        self, name: str = "毛巾", price: int = 30, stock: int = 5, limit: int = 0
    ) -> int:
        staff_id = await self.staff("仓管")
        async with self.app.sessions() as session:
            view = await shop.add_reward(
                self.app,
                session,
                staff_id,
                shop.RewardForm(name, price, stock, limit, "社区服务站"),
            )
            return view.id

    async def entries(self, user_id: int | None = None) -> list[LedgerEntry]:
        async with self.app.sessions() as session:
            stmt = select(LedgerEntry).order_by(LedgerEntry.id)
            if user_id is not None:
                stmt = stmt.where(LedgerEntry.user_id == user_id)
            return list((await session.scalars(stmt)).all())

    async def balance(self, user_id: int) -> int:
        from bot.services.points import ledger

        async with self.app.sessions() as session:
            return await ledger.balance(session, user_id)


def settings_for(db_url: str, **points: Any) -> Settings:
    return Settings(
        database={"url": db_url},
        community={"grids": [{"code": c, "name": n, "community": m} for c, n, m in GRIDS]},
        points=points,
    )


async def make_world(
    db_url: str, clock: ManualClock, *, create: bool = True, **points: Any
) -> World:
    """A world on ``db_url``; ``create=False`` reuses a database made by an earlier call."""
    engine = make_engine(db_url)
    if create:
        await create_schema(engine)
    notifier = RecordingNotifier()
    app = AppContext(
        settings=settings_for(db_url, **points),
        sessions=make_session_factory(engine),
        notifier=notifier,
        clock=clock,
    )
    grids: dict[str, int] = {}
    async with app.sessions() as session:
        if not create:
            rows = await session.execute(select(Grid.code, Grid.id))
            return World(app, notifier, clock, engine, dict(rows.all()))
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


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """A moment given in UTC (Shanghai is UTC+8)."""
    return datetime(year, month, day, hour, tzinfo=UTC)
