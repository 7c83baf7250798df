"""SQLite statements on the loop's thread; a wait for another connection's lock off it.

Before: every statement went through aiosqlite's worker thread (four hand-offs, ~0.8 ms CPU
for a one-row SELECT); the bot's engine now runs them inline (bot.db.inline_sqlite).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import make_engine, make_session_factory
from bot.db.inline_sqlite import InlineConnection
from bot.db.tx import begin_write


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[tuple[str, AsyncEngine]]:
    path = tmp_path / "inline.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", inline=True, busy_timeout_ms=10_000)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE n (v INTEGER)"))
    try:
        yield str(path), engine
    finally:
        await engine.dispose()


async def _driver(engine: AsyncEngine) -> InlineConnection:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, InlineConnection)
        return driver


async def test_statements_run_on_the_loops_thread(db: tuple[str, AsyncEngine]) -> None:
    _, engine = db
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        sqlite_conn = raw.driver_connection._connection  # type: ignore[union-attr]
        sqlite_conn.create_function("tid", 0, threading.get_ident)
        ran_on = await conn.scalar(text("SELECT tid()"))
    assert ran_on == threading.get_ident()


async def test_a_locked_database_is_waited_for_off_the_loop(db: tuple[str, AsyncEngine]) -> None:
    path, engine = db
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, say
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO n VALUES (1)")
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with make_session_factory(engine)() as session:
            await begin_write(session)
            await session.execute(text("INSERT INTO n VALUES (2)"))
            await session.commit()

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the lock...
    assert ticks >= 10  # ...while the loop goes on
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    stop.set()
    await ticking
    other.close()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT v FROM n ORDER BY v"))).scalars().all() == [1, 2]
    assert (await _driver(engine)).waits >= 1


async def test_a_wait_past_the_busy_timeout_fails_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "short.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", inline=True, busy_timeout_ms=200)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE n (v INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        async with make_session_factory(engine)() as session:
            with pytest.raises(Exception, match="database is locked"):
                await begin_write(session)
        other.execute("ROLLBACK")
        other.close()
        async with engine.connect() as conn:  # the connection is fine afterwards
            assert await conn.scalar(text("SELECT count(*) FROM n")) == 0
    finally:
        await engine.dispose()


async def test_cancelling_a_wait_leaves_the_connection_usable(
    db: tuple[str, AsyncEngine],
) -> None:
    path, engine = db
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with make_session_factory(engine)() as session:
            await begin_write(session)

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    writing.cancel()
    # The wait ends within a slice, not after the 10 s busy timeout.
    done, _ = await asyncio.wait({writing}, timeout=3)
    assert writing in done and writing.cancelled()
    other.execute("ROLLBACK")
    other.close()
    async with make_session_factory(engine)() as session:
        await begin_write(session)
        await session.execute(text("INSERT INTO n VALUES (3)"))
        await session.commit()
        assert await session.scalar(text("SELECT count(*) FROM n")) == 1
