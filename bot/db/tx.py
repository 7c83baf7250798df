"""Write transactions that cannot fail with "database is locked" on SQLite.

A service that writes calls ``await begin_write(session)`` first: any read transaction the
session had is committed, and a new one starts with BEGIN IMMEDIATE, which waits (up to
busy_timeout) for other writers instead of failing when it later writes. On PostgreSQL it only
starts a transaction; there, conditional UPDATEs and row locks do the work.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import WRITE_OPTION


async def begin_write(session: AsyncSession) -> None:
    if session.in_transaction():
        await session.commit()
    await session.connection(execution_options={WRITE_OPTION: True})
