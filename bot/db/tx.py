"""Write transactions that cannot fail with "database is locked" on SQLite.

A service that writes calls ``await begin_write(session)`` first: any read transaction the
session had is committed, and a new one starts with BEGIN IMMEDIATE, which waits (up to
busy_timeout) for other writers instead of failing when it later writes. On PostgreSQL it only
starts a transaction; there, conditional UPDATEs and row locks do the work.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import idem
from bot.db.engine import WRITE_OPTION
from bot.db.write_turns import end_turn, take_turn

P = ParamSpec("P")
R = TypeVar("R")


async def begin_write(session: AsyncSession) -> None:
    if session.in_transaction():
        await session.commit()
    await take_turn(session)  # SQLite: queue in-process instead of its busy handler's sleeps
    try:
        await session.connection(execution_options={WRITE_OPTION: True})
    except BaseException:
        end_turn(session.sync_session)
        raise
    # An armed idempotency key is the transaction's first row (see bot.db.idem).
    await idem.insert_armed(session)


async def end_read(session: AsyncSession) -> None:
    """End a read transaction so the next read sees what others committed since: SQLite
    reads from the snapshot its transaction began with. PostgreSQL (READ COMMITTED) sees it
    at every statement already, and its COMMIT and next BEGIN are two round trips saved."""
    if not session.in_transaction():
        return
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        return
    await session.commit()


def transactional(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A service that raises leaves no transaction open: it is rolled back at once.

    Otherwise a refused request would keep SQLite's write lock until the update ends, and the
    next writer in the same update (the conversation state, say) would wait on it.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except BaseException:
            for value in (*args, *kwargs.values()):
                if isinstance(value, AsyncSession) and value.in_transaction():
                    await value.rollback()
            raise

    return wrapper
