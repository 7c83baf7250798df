"""A database with the delivery tables, the fake Bot API server and a bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.db.models
import bot.db.models.delivery  # noqa: F401
from bot.config import Settings
from bot.db.base import Base
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import Grid, User
from bot.db.models.delivery import OutboxMessage
from bot.db.tx import begin_write
from bot.delivery import DeliveryOptions
from bot.delivery.engine import DeliveryEngine
from bot.delivery.ratelimit import MemoryRateLimiter, RateLimiter
from bot.fakeapi import FakeBotAPI
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier

FIRST_TELEGRAM_ID = 50_000


@dataclass
class World:
    app: AppContext
    fake: FakeBotAPI
    bot: Bot
    db: AsyncEngine

    def engine(
        self,
        limiter: RateLimiter | None = None,
        *,
        bot: Bot | None = None,
        engine_id: str | None = None,
        **options: Any,
    ) -> DeliveryEngine:
        """An engine with a short lease (crash tests) and quick polling."""
        opts = DeliveryOptions(**{"lease_seconds": 1.0, "poll_seconds": 0.05, **options})
        limiter = limiter or MemoryRateLimiter.from_options(opts)
        return DeliveryEngine(self.app, bot or self.bot, limiter, options=opts, engine_id=engine_id)

    async def people(
        self, count: int, *, start: int = FIRST_TELEGRAM_ID, known: bool = True
    ) -> list[int]:
        """``count`` users (our ids); ``known`` ones have started the bot in the fake."""
        async with self.app.sessions() as session:
            await begin_write(session)
            users = [
                User(telegram_id=start + n, display_name=f"p{n}", language="zh-CN")
                for n in range(count)
            ]
            session.add_all(users)
            await session.commit()
            ids = [u.id for u in users]
        if known:
            for n in range(count):
                self.fake.user(start + n, f"p{n}")
        return ids

    async def rows(self, batch_key: str | None = None) -> Sequence[OutboxMessage]:
        async with self.app.sessions() as session:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)
            if batch_key is not None:
                stmt = stmt.where(OutboxMessage.batch_key == batch_key)
            return (await session.scalars(stmt)).all()

    async def telegram_ids(self) -> dict[int, int]:
        async with self.app.sessions() as session:
            rows = await session.execute(select(User.id, User.telegram_id))
            return {uid: tid for uid, tid in rows.all() if tid is not None}


async def build_world(url: str, **settings: object) -> tuple[AsyncEngine, AppContext]:
    db = make_engine(url)
    async with db.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = make_session_factory(db)
    app = AppContext(settings=Settings(**settings), sessions=sessions, notifier=RecordingNotifier())  # type: ignore[arg-type]
    async with sessions() as session:
        session.add_all(
            [
                Grid(code="G01", name="第一网格", community="幸福社区", neighbours=[]),
                Grid(code="G02", name="第二网格", community="幸福社区", neighbours=[]),
                Grid(code="G09", name="河西网格", community="河西社区", neighbours=[]),
            ]
        )
        await session.commit()
    return db, app


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    async for w in _world(sqlite_url):
        yield w


@pytest.fixture
async def any_db_world(db_url: str) -> AsyncIterator[World]:
    """The same on SQLite and on PostgreSQL."""
    async for w in _world(db_url):
        yield w


async def _world(url: str) -> AsyncIterator[World]:
    db, app = await build_world(url)
    async with FakeBotAPI() as fake:
        bot = fake.make_bot(timeout=2.0)
        try:
            yield World(app, fake, bot, db)
        finally:
            await bot.session.close()
            await db.dispose()
