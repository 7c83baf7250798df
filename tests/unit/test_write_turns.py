"""SQLite writers of one process take turns on an asyncio lock (bot.db.write_turns).

Before: concurrent writers waited in SQLite's busy handler, which sleeps up to 100 ms between
tries, so a burst of writers (50 claim presses) spent most of its wait asleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import write_turns
from bot.db.engine import make_engine, make_session_factory
from bot.db.tx import begin_write


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE n (v INTEGER)"))
    try:
        yield engine
    finally:
        await engine.dispose()


def _lock(engine: AsyncEngine) -> asyncio.Lock:
    return write_turns._turns[engine.sync_engine]


async def test_writers_take_turns_and_each_ending_gives_the_turn_back(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    inside = 0
    most = 0

    async def write(i: int) -> None:
        nonlocal inside, most
        async with sessions() as session:
            await begin_write(session)
            inside += 1
            most = max(most, inside)
            await session.execute(text("INSERT INTO n VALUES (:v)"), {"v": i})
            await asyncio.sleep(0)  # let the others try to get in
            inside -= 1
            if i % 3 == 0:
                await session.commit()
            elif i % 3 == 1:
                await session.rollback()
            # else: closing the session ends the transaction

    await asyncio.gather(*(write(i) for i in range(30)))
    assert most == 1
    assert not _lock(engine).locked()
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM n")) == 10


async def test_a_refused_write_gives_the_turn_back(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    async with sessions() as session:
        await begin_write(session)
        with pytest.raises(Exception, match="no such table"):
            await session.execute(text("INSERT INTO missing VALUES (1)"))
        await session.rollback()
    assert not _lock(engine).locked()
    async with sessions() as session:  # and the next writer gets in at once
        await asyncio.wait_for(begin_write(session), 5)
        await session.commit()


async def test_a_second_turn_in_the_same_session_is_the_same_turn(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    async with sessions() as session:
        await begin_write(session)
        await write_turns.take_turn(session)  # already held: returns at once
        await session.commit()
    assert not _lock(engine).locked()
