"""The delivery engine's records: a claimed job, the outcomes waiting for their group commit,
and the statements that write them (split from bot/delivery/engine.py)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.models.delivery import SENDING, OutboxMessage
from bot.tg.render import Rendered

P = ParamSpec("P")
R = TypeVar("R")
OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(slots=True)
class Job:
    """A claimed, rendered row waiting for its turn."""

    id: int
    batch_key: str
    priority: int
    user_id: int | None
    chat_id: int
    rendered: Rendered
    attempts: int

    def __lt__(self, other: Job) -> bool:  # the local queue: most urgent, then oldest
        return (self.priority, self.id) < (other.priority, other.id)


@dataclass(slots=True)
class Finish:
    row_id: int
    batch_key: str
    status: str
    chat_id: int | None = None
    message_id: int | None = None
    error: str | None = None
    block_user: int | None = None


@dataclass(slots=True)
class Release:
    row_id: int
    not_before: datetime
    attempts: int
    error: str


@dataclass(slots=True)
class Pending:
    attempts: list[tuple[int, asyncio.Future[bool]]] = field(default_factory=list)
    finishes: list[Finish] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    heartbeat: bool = False  # renew the lease of every row we hold

    def __bool__(self) -> bool:
        return bool(self.attempts or self.finishes or self.releases or self.heartbeat)


def whole_transaction(
    fn: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Let a database transaction under way finish before a cancellation takes effect.

    Cancelling in the middle of one (a kill, a stop) could leave a SQLite connection holding
    the write lock until it is garbage-collected, and every other writer waiting on it. So the
    engine stops between transactions: the states a real crash can leave behind.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        task = asyncio.ensure_future(fn(*args, **kwargs))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await task
            raise

    return wrapper


def finish_statement(engine_id: str) -> Any:
    return (
        update(OUTBOX)
        .where(
            OUTBOX.c.id == bindparam("b_id"),
            OUTBOX.c.status == SENDING,
            OUTBOX.c.claimed_by == engine_id,
        )
        .values(
            status=bindparam("b_status"),
            finished_at=bindparam("b_at"),
            sent_chat_id=bindparam("b_chat"),
            message_id=bindparam("b_message"),
            error=bindparam("b_error"),
        )
    )


def finish_params(finish: Finish, now: datetime) -> dict[str, Any]:
    return {
        "b_id": finish.row_id,
        "b_status": finish.status,
        "b_at": now,
        "b_chat": finish.chat_id,
        "b_message": finish.message_id,
        "b_error": finish.error[:200] if finish.error else None,
    }


async def mark_blocked(session: AsyncSession, user_ids: list[int | None]) -> None:
    ids = sorted({uid for uid in user_ids if uid is not None})
    if ids:
        await session.execute(update(User).where(User.id.in_(ids)).values(is_blocked=True))


def merge_pending(first: Pending, second: Pending) -> Pending:
    return Pending(
        first.attempts + second.attempts,
        first.finishes + second.finishes,
        first.releases + second.releases,
        first.heartbeat or second.heartbeat,
    )
