"""SQLite writers of one process take turns on an asyncio lock before BEGIN IMMEDIATE.

SQLite lets one writer in at a time; the others wait in its busy handler, which polls by
sleeping 1, 2, 5, 10 … up to 100 ms between tries. With many writers at once (fifty
volunteers new to the bot pressing Claim, a round being offered while residents write) most
of their wait was that sleep, not the lock. Writers of this process instead queue here and
are woken the moment the one before them ends its transaction; SQLite's own lock still
orders them against other processes.

The turn is held from ``begin_write`` until the session's transaction ends (commit,
rollback or close). Waiting is bounded by the busy timeout: past it (a task that already
holds a turn asking for a second one, which SQLite would refuse as well) the writer goes on
without a turn and SQLite decides, as before. PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_TURN = "wishbot_write_turn"
_turns: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()
_WAIT_SECONDS = 30.0


async def take_turn(session: AsyncSession) -> None:
    """Wait for this engine's write turn (SQLite files only); it ends with the transaction."""
    if _TURN in session.info:
        return
    bind = session.sync_session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite" or not bind.url.database:
        return
    if ":memory:" in bind.url.database:
        return
    lock = _turns.get(bind)
    if lock is None:
        lock = _turns[bind] = asyncio.Lock()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(lock.acquire(), _WAIT_SECONDS)
        session.info[_TURN] = lock


def end_turn(session: Session) -> None:
    """Give the turn back (done for you when the transaction ends)."""
    lock: Any = session.info.pop(_TURN, None)
    if lock is not None and lock.locked():
        lock.release()


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        end_turn(session)
