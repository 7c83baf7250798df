"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

WRITE_OPTION = "wishbot_write"
# PostgreSQL: a connection back from the pool is tested first only if it sat idle this long.
IDLE_PING_SECONDS = 10.0
PREPARED_STATEMENTS = 1000


def make_engine(
    url: str,
    *,
    echo: bool = False,
    busy_timeout_ms: int = 30_000,
    pool_size: int = 20,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    inline: bool = False,
    idle_ping_seconds: float = IDLE_PING_SECONDS,
) -> AsyncEngine:
    """``inline``: SQLite statements run on the event loop's thread, waits for a lock off it
    (:mod:`bot.db.inline_sqlite`); the bot's default (``database.sqlite_inline``)."""
    # hide_parameters: SQL logging (echo, DEBUG) and error messages never show the values,
    # which are people's words, phone numbers and ids.
    pool: dict[str, Any] = {}
    if ":memory:" not in url and make_url(url).database:
        pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if make_url(url).get_backend_name() != "sqlite":
        # Each connection prepares a statement once and keeps it (100 by default: the bot's
        # few hundred statements pushed each other out and were prepared again and again).
        prepared = {"prepared_statement_cache_size": PREPARED_STATEMENTS}
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, connect_args=prepared, **pool
        )
        _ping_when_idle(engine, idle_ping_seconds)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": busy_timeout_ms / 1000, **_inline_args(inline)},
        **pool,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can BEGIN IMMEDIATE ourselves:
        # a deferred transaction that later upgrades to a writer can fail with
        # "database is locked" whatever busy_timeout says; an immediate one waits its turn.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Inline connections never sleep on the loop: a locked statement waits off it instead.
        cursor.execute(f"PRAGMA busy_timeout={0 if inline else int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (see bot.db.tx.begin_write); readers don't, so
        # a handler reading while another session writes never waits on itself.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Test a pooled connection before use only if it sat idle ``idle_seconds``.

    SQLAlchemy's pool_pre_ping tests every checkout; asyncpg's ping is three round trips
    (BEGIN, a query, ROLLBACK), a tenth of a busy update's cost. A connection in steady use
    is known to work; one left idle (the server restarted, a firewall dropped it) is tested
    and replaced before an update gets it.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            dbapi_conn.ping()
        except Exception as err:  # the pool drops it and checks out another
            raise exc.DisconnectionError() from err


def _inline_args(inline: bool) -> dict[str, Any]:
    if not inline:
        return {}
    from bot.db.inline_sqlite import connect

    return {"async_creator_fn": connect}


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
