"""PostgreSQL's pool: a connection is tested before use only after sitting idle, and keeps
its prepared statements.

Before: every checkout was pinged (asyncpg's ping: BEGIN, a query, ROLLBACK), three round
trips on every update. Now a connection in steady use is not pinged, and one that was cut
while idle is still replaced before anyone gets it.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from bot.db.engine import make_engine


async def _terminate(url: str, pid: int) -> None:
    killer = make_engine(url)
    try:
        async with killer.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


async def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def test_only_an_idle_connection_is_pinged(postgres_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pings = 0
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self) -> None:  # type: ignore[no-untyped-def]
        nonlocal pings
        pings += 1
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0, idle_ping_seconds=0.3)
    try:
        first = await _backend_pid(engine)
        for _ in range(5):  # in steady use: the same connection, never pinged
            assert await _backend_pid(engine) == first
        assert pings == 0
        await asyncio.sleep(0.4)  # idle past the threshold: pinged once, then used
        assert await _backend_pid(engine) == first
        assert pings == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("idle_ping_seconds", "replaced"),
    [(0.05, True), (3600, False)],  # tested after idling; not tested (the check switched off)
)
async def test_a_connection_cut_while_idle(
    postgres_url: str, idle_ping_seconds: float, replaced: bool
) -> None:
    """Idle past the threshold, a dead connection is found on checkout and replaced, so the
    update's query works; without the check the same cut fails the first query once."""
    engine = make_engine(
        postgres_url, pool_size=1, max_overflow=0, idle_ping_seconds=idle_ping_seconds
    )
    try:
        first = await _backend_pid(engine)
        await _terminate(postgres_url, first)
        await asyncio.sleep(0.2)
        failed = False
        try:
            second = await _backend_pid(engine)
        except Exception:
            failed = True
        assert failed is not replaced
        if not replaced:
            second = await _backend_pid(engine)  # the pool recovers afterwards
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_keeps_the_bots_statements_prepared(postgres_url: str) -> None:
    """Before: 100 per connection, fewer than the statements the bot runs, so hot ones were
    pushed out and prepared again (an extra round trip each time)."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            cache = raw.dbapi_connection._prepared_statement_cache  # type: ignore[union-attr]
            assert cache.capacity >= 1000
    finally:
        await engine.dispose()
