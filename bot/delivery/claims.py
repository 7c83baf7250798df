"""Claiming outbox rows for the delivery engine, and taking over a crashed engine's rows.

On PostgreSQL the claim is ``FOR UPDATE SKIP LOCKED`` in a materialised CTE (engines never wait
on each other, never take the same row); on SQLite a conditional UPDATE under ``BEGIN
IMMEDIATE``. Split from bot/delivery/engine.py; ``DeliveryEngine`` mixes it in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.models.delivery import (
    BLOCKED,
    CANCELLED,
    FAILED,
    INVALID,
    PENDING,
    SENDING,
    UNKNOWN,
    OutboxMessage,
)
from bot.db.tx import begin_write
from bot.delivery import DeliveryOptions
from bot.delivery.jobs import OUTBOX, Finish, Job, Pending, whole_transaction
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.notices import Notice
from bot.tg.render import render

log = logging.getLogger("bot.delivery.engine")


class ClaimsMixin:
    # Set by DeliveryEngine.__init__.
    app: AppContext
    options: DeliveryOptions
    id: str
    clock: Callable[[], datetime]
    _queue: asyncio.PriorityQueue[Job]
    _queued_priorities: Counter[int]
    _held: set[int]
    _room: asyncio.Event
    _pending: Pending
    _flush_wanted: asyncio.Event
    _dirty_batches: set[str]
    _is_pg: bool

    # --- claiming -------------------------------------------------------------------------

    async def _claimer(self) -> None:
        batch = max(1, self.options.batch_size)
        while True:
            try:
                claimed = await self._claim_round(batch)
            except Exception:
                log.exception("claiming outbox rows failed; retrying")
                claimed = 0
            if claimed and self._queue.qsize() <= batch // 2:
                continue
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), self.options.poll_seconds)

    async def _claim_round(self, batch: int) -> int:
        if self._queue.qsize() <= batch // 2:
            return await self._claim(batch - self._queue.qsize())
        # Full of bulk: still let more urgent rows jump the queue.
        worst = max(self._queued_priorities, default=0)
        if worst > 0:
            return await self._claim(max(1, batch // 5), below=worst)
        return 0

    @whole_transaction
    async def _claim(self, limit: int, below: int | None = None) -> int:
        async with self.app.sessions() as session:
            now = self.clock()
            due = select(OutboxMessage.id).where(
                OutboxMessage.status == PENDING,
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
            )
            if below is not None:
                due = due.where(OutboxMessage.priority < below)
            # Look before taking the write lock: an idle bot polls with a read (through the
            # claim index), and writes only when there is something to claim.
            if await session.scalar(due.limit(1)) is None:
                return 0
            await begin_write(session)
            due = due.order_by(OutboxMessage.priority, OutboxMessage.id).limit(limit)
            claim = update(OUTBOX)
            if self._is_pg:
                # A materialised CTE runs the locking LIMIT query exactly once; inside IN (...)
                # PostgreSQL may re-run it and claim more rows than asked for.
                picked = (
                    due.with_for_update(skip_locked=True)
                    .cte("picked")
                    .prefix_with("MATERIALIZED", dialect="postgresql")
                )
                claim = claim.where(OUTBOX.c.id == picked.c.id)
            else:  # SQLite: one writer at a time (BEGIN IMMEDIATE), the subquery runs once
                claim = claim.where(OUTBOX.c.id.in_(due.scalar_subquery()))
            claim = (
                claim.where(OUTBOX.c.status == PENDING)
                .values(status=SENDING, claimed_by=self.id, claimed_at=now)
                .returning(
                    OUTBOX.c.id,
                    OUTBOX.c.batch_key,
                    OUTBOX.c.user_id,
                    OUTBOX.c.chat_id,
                    OUTBOX.c.kind,
                    OUTBOX.c.params,
                    OUTBOX.c.priority,
                    OUTBOX.c.attempts,
                )
            )
            rows = sorted((await session.execute(claim)).all(), key=lambda r: (r.priority, r.id))
            await session.commit()  # the write lock is held for the UPDATE only
        if not rows:
            return 0
        self._held.update(row.id for row in rows)
        async with self.app.sessions() as session:  # a read: writers are not held up
            jobs, done = await self._render(session, rows)
        for finish in done:
            self._pending.finishes.append(finish)
            self._flush_wanted.set()
        for job in jobs:
            self._queued_priorities[job.priority] += 1
            self._queue.put_nowait(job)
        return len(rows)

    async def _render(
        self, session: AsyncSession, rows: list[Any]
    ) -> tuple[list[Job], list[Finish]]:
        """Rows become jobs, or finish here (erased, blocked, nothing left to say)."""
        user_ids = {r.user_id for r in rows if r.user_id is not None}
        people = {
            u.id: u
            for u in await session.execute(
                select(User.id, User.telegram_id, User.language, User.is_blocked).where(
                    User.id.in_(user_ids)
                )
            )
        }
        default_lang = self.app.settings.community.default_language
        jobs: list[Job] = []
        done: list[Finish] = []
        for row in rows:
            lang, chat_id = default_lang, row.chat_id
            if row.user_id is not None:
                person = people.get(row.user_id)
                if person is None or person.telegram_id is None:
                    done.append(Finish(row.id, row.batch_key, INVALID, error="no such person"))
                    continue
                if person.is_blocked:
                    done.append(Finish(row.id, row.batch_key, BLOCKED, error="blocked earlier"))
                    continue
                lang, chat_id = person.language, person.telegram_id
            try:
                rendered = await render(
                    session, self.app, Translator(lang), Notice(row.kind, dict(row.params or {}))
                )
            except Exception as exc:
                log.exception("cannot render outbox row %s (%s)", row.id, row.kind)
                await session.rollback()  # a failed query must not spoil the next renders
                done.append(Finish(row.id, row.batch_key, FAILED, error=f"render: {exc!r}"[:200]))
                continue
            if rendered is None:  # e.g. an offer for a wish already taken
                done.append(Finish(row.id, row.batch_key, CANCELLED, error="nothing to send"))
                continue
            jobs.append(
                Job(
                    row.id,
                    row.batch_key,
                    row.priority,
                    row.user_id,
                    chat_id,
                    rendered,
                    row.attempts,
                )
            )
        return jobs, done

    @whole_transaction
    async def _recover(self, *, own: bool = False) -> None:
        """Take over rows whose engine stopped renewing its lease (it crashed).

        ``own``: also rows claimed under our own id, which at start-up can only be left from
        this instance's previous life (when the engine is given a stable ``engine_id``).
        """
        async with self.app.sessions() as session:
            now = self.clock()
            lapsed = OutboxMessage.claimed_at < now - timedelta(seconds=self.options.lease_seconds)
            lapsed_any = or_(lapsed, OutboxMessage.claimed_by == self.id) if own else lapsed
            probe = select(OutboxMessage.id).where(OutboxMessage.status == SENDING, lapsed_any)
            if await session.scalar(probe.limit(1)) is None:
                return  # nobody's lease ran out: no write transaction
            await begin_write(session)
            expired = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == SENDING,
                    or_(lapsed, OutboxMessage.claimed_by == self.id) if own else lapsed,
                )
                .order_by(OutboxMessage.id)
            )
            if self._is_pg:  # never wait on a row someone is writing: next pass takes it
                expired = expired.with_for_update(skip_locked=True)
            ids = list(await session.scalars(expired))
            lost: list[Any] = []
            returned: list[Any] = []
            if ids:
                taken = and_(OUTBOX.c.id.in_(ids), OUTBOX.c.status == SENDING)
                unknown = await session.execute(
                    update(OUTBOX)
                    .where(taken, OUTBOX.c.attempted_at.is_not(None))
                    .values(status=UNKNOWN, finished_at=now, error="sender stopped mid-send")
                    .returning(OUTBOX.c.id, OUTBOX.c.batch_key)
                )
                lost = list(unknown.all())
                back = await session.execute(
                    update(OUTBOX)
                    .where(taken, OUTBOX.c.attempted_at.is_(None))
                    .values(status=PENDING, claimed_by=None, claimed_at=None)
                    .returning(OUTBOX.c.id)
                )
                returned = list(back.all())
            await session.commit()
        if lost or returned:
            log.warning(
                "took over rows of a stopped sender: %d maybe sent (unknown), %d to send again",
                len(lost),
                len(returned),
            )
        self._dirty_batches.update(row.batch_key for row in lost)
