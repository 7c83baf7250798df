"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

WRITE_OPTION = "wishbot_write"


def make_engine(
    url: str,
    *,
    echo: bool = False,
    busy_timeout_ms: int = 30_000,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    inline: bool = False,
) -> AsyncEngine:
    """``inline``: SQLite statements run on the event loop's thread, waits for a lock off it
    (:mod:`bot.db.inline_sqlite`); the bot's default (``database.sqlite_inline``)."""
    # hide_parameters: SQL logging (echo, DEBUG) and error messages never show the values,
    # which are people's words, phone numbers and ids.
    pool: dict[str, Any] = {}
    if ":memory:" not in url and make_url(url).database:
        pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if make_url(url).get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True, **pool)
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


def _inline_args(inline: bool) -> dict[str, Any]:
    if not inline:
        return {}
    from bot.db.inline_sqlite import connect

    return {"async_creator_fn": connect}


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
