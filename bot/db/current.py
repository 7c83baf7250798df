"""The database session of the update being handled, for code that aiogram calls for us.

The update's session is opened once (by the update pump, or the session middleware when an
update is fed some other way) and published here, so the conversation-state store works in
the same session instead of taking a second connection from the pool: two connections per
update deadlock as soon as half the pool's worth of people act at once. Only the task that
published it sees it: a task spawned meanwhile must not share a session (an AsyncSession is
not safe for concurrent use).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_current: ContextVar[tuple[AsyncSession, asyncio.Task[object] | None] | None] = ContextVar(
    "update_session", default=None
)


def update_session() -> AsyncSession | None:
    """The session of the update this task is handling, if any."""
    value = _current.get()
    if value is None:
        return None
    session, owner = value
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    return session if task is owner else None


@contextmanager
def publish(session: AsyncSession) -> Iterator[None]:
    token = _current.set((session, asyncio.current_task()))
    try:
        yield
    finally:
        _current.reset(token)


@asynccontextmanager
async def reuse_or_open(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The update's session when there is one (left open), else a short one of our own."""
    current = update_session()
    if current is not None:
        yield current
        return
    async with sessions() as session:
        yield session
