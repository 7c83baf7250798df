"""Timers: schedule a row, fire it once.

A timer is claimed (pending → firing) before its handler runs, so two processes sharing a
database never both fire it: on PostgreSQL a batch at once with ``FOR UPDATE SKIP LOCKED``, on
SQLite (one writer at a time) row by row with a conditional UPDATE. A timer whose due time
passed while the bot was down fires once, late, and the delay is logged. A handler that fails
is retried with backoff a few times, then marked failed (logged with its id).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.timers import Timer
from bot.db.tx import begin_write
from bot.services.context import AppContext

log = logging.getLogger(__name__)

TimerHandler = Callable[[AppContext, dict[str, Any], datetime], Awaitable[None]]
TIMER_HANDLERS: dict[str, TimerHandler] = {}
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)  # a "firing" row older than this was left by a dead process


def timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def register(fn: TimerHandler) -> TimerHandler:
        TIMER_HANDLERS[kind] = fn
        return fn

    return register


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def schedule(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add a timer (the caller commits). The same key twice keeps the first row."""
    session.add(Timer(kind=kind, key=key, due_at=due_at, payload=payload or {}))


async def upsert(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Schedule, or move a not-yet-fired timer with this key to a new time."""
    existing = await session.scalar(select(Timer).where(Timer.key == key))
    if existing is None:
        schedule(session, kind=kind, key=key, due_at=due_at, payload=payload)
    elif existing.status == "pending":
        existing.due_at, existing.payload = due_at, payload or {}


async def cancel_timers(session: AsyncSession, *, key_prefix: str) -> None:
    """Drop the pending timers whose key starts with the prefix (the caller commits)."""
    await session.execute(
        delete(Timer).where(Timer.key.startswith(key_prefix), Timer.status == "pending")
    )


async def _claim(app: AppContext, timer_id: int, worker: str) -> bool:
    now = app.now()
    async with app.sessions() as session:
        await begin_write(session)
        result = await session.execute(
            update(Timer)
            .where(
                Timer.id == timer_id,
                (Timer.status == "pending")
                | ((Timer.status == "firing") & (Timer.claimed_at < now - LEASE)),
            )
            .values(status="firing", claimed_by=worker, claimed_at=now, attempts=Timer.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _due(now: datetime) -> Any:
    return (Timer.due_at <= now) & (
        (Timer.status == "pending")
        | ((Timer.status == "firing") & (Timer.claimed_at < now - LEASE))
    )


async def _claim_batch(app: AppContext, worker: str, limit: int) -> list[Any]:
    """PostgreSQL: claim up to ``limit`` due rows in one statement, skipping rows another
    worker is claiming right now (``FOR UPDATE SKIP LOCKED``): workers never wait on each
    other and never take the same row."""
    now = app.now()
    async with app.sessions() as session:
        picked = (
            select(Timer.id)
            .where(_due(now))
            .order_by(Timer.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        claimed = await session.execute(
            update(Timer)
            .where(Timer.id == picked.c.id)
            .values(status="firing", claimed_by=worker, claimed_at=now, attempts=Timer.attempts + 1)
            .returning(Timer.id, Timer.kind, Timer.due_at, Timer.payload)
            .execution_options(synchronize_session=False)
        )
        rows = sorted(claimed.all(), key=lambda r: (r.due_at, r.id))
        await session.commit()
    return rows


async def fire_due(app: AppContext, *, worker: str | None = None, limit: int = 100) -> int:
    """Fire every timer due now. Returns how many this worker fired."""
    worker = worker or worker_name()
    now = app.now()
    async with app.sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        rows: list[Any] = []
        if not postgres:  # SQLite: look, then claim row by row with a conditional UPDATE
            rows = list(
                (
                    await session.execute(
                        select(Timer.id, Timer.kind, Timer.due_at, Timer.payload)
                        .where(_due(now))
                        .order_by(Timer.due_at)
                        .limit(limit)
                    )
                ).all()
            )
    if postgres:
        rows = await _claim_batch(app, worker, limit)
    fired = 0
    for timer_id, kind, due_at, payload in rows:
        if not postgres and not await _claim(app, timer_id, worker):
            continue  # another process took it
        late = (now - due_at).total_seconds()
        if late > 120:
            log.info(
                "timer %s (%s) fires late: due %s, %ds ago",
                timer_id,
                kind,
                due_at.isoformat(),
                late,
            )
        handler = TIMER_HANDLERS.get(kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for timer kind {kind!r}")
            await handler(app, dict(payload), due_at)
        except Exception as exc:
            log.exception("timer %s (%s) failed", timer_id, kind)
            await _failed(app, timer_id, repr(exc))
            continue
        async with app.sessions() as session:
            await begin_write(session)
            await session.execute(
                update(Timer).where(Timer.id == timer_id).values(status="done", fired_at=app.now())
            )
            await session.commit()
        fired += 1
    return fired


async def _failed(app: AppContext, timer_id: int, error: str) -> None:
    async with app.sessions() as session:
        await begin_write(session)
        timer = await session.get(Timer, timer_id)
        if timer is None:
            return
        timer.last_error = error[:1000]
        if timer.attempts >= MAX_ATTEMPTS:
            timer.status = "failed"
        else:
            timer.status = "pending"
            timer.due_at = app.now() + timedelta(minutes=2**timer.attempts)
        await session.commit()
