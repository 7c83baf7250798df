"""The delivery engine's recorder: attempts, outcomes and lease renewals, group-committed by
one task, so a busy engine commits a few times per batch, not twice per message. Split from
bot/delivery/engine.py; ``DeliveryEngine`` mixes it in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update

from bot.db.models.delivery import PENDING, SENDING
from bot.db.tx import begin_write
from bot.delivery.jobs import (
    OUTBOX,
    Finish,
    Job,
    Pending,
    Release,
    finish_params,
    finish_statement,
    mark_blocked,
    merge_pending,
    whole_transaction,
)
from bot.services.context import AppContext

log = logging.getLogger("bot.delivery.engine")
OUTCOME_DELAY = 0.05  # outcomes wait this long for company before they are committed


class RecorderMixin:
    # Set by DeliveryEngine.__init__.
    app: AppContext
    id: str
    clock: Callable[[], datetime]
    stats: Counter[str]
    _held: set[int]
    _pending: Pending
    _flush_wanted: asyncio.Event
    _attempt_wanted: asyncio.Event
    _dirty_batches: set[str]

    # --- recording (group commit) ---------------------------------------------------------

    async def _attempt(self, row_id: int) -> bool:
        """Commit ``attempted_at``; False if the row is no longer ours to send."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.attempts.append((row_id, future))
        self._flush_wanted.set()
        self._attempt_wanted.set()
        return await future

    def _finish(self, job: Job, status: str, **details: Any) -> None:
        self._pending.finishes.append(Finish(job.id, job.batch_key, status, **details))
        self._flush_wanted.set()

    def _release(self, job: Job, *, delay: float, attempts: int, error: str) -> None:
        not_before = self.clock() + timedelta(seconds=delay)
        self._pending.releases.append(Release(job.id, not_before, attempts, error[:200]))
        self._flush_wanted.set()

    async def _recorder(self) -> None:
        while True:
            await self._flush_wanted.wait()
            if not self._pending.attempts:
                # Outcomes can wait a moment and share a commit; an attempt cannot (a send
                # is waiting for it), so one arriving ends the wait.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(OUTCOME_DELAY):
                        await self._attempt_wanted.wait()
            self._flush_wanted.clear()
            self._attempt_wanted.clear()
            batch, self._pending = self._pending, Pending()
            if not batch:
                continue
            try:
                await self._flush(batch)
            except asyncio.CancelledError:
                self._pending = merge_pending(batch, self._pending)  # stop() commits it
                raise
            except Exception:
                log.exception("recording outbox outcomes failed; will retry")
                self._pending = merge_pending(batch, self._pending)
                await asyncio.sleep(0.5)
                self._flush_wanted.set()

    @whole_transaction
    async def _flush(self, batch: Pending) -> None:
        ours: set[int] = set()
        async with self.app.sessions() as session:
            await begin_write(session)
            now = self.clock()
            if batch.attempts:
                marked = await session.execute(
                    update(OUTBOX)
                    .where(
                        OUTBOX.c.id.in_(sorted(row_id for row_id, _ in batch.attempts)),
                        OUTBOX.c.status == SENDING,
                        OUTBOX.c.claimed_by == self.id,
                    )
                    .values(attempted_at=now)
                    .returning(OUTBOX.c.id)
                )
                ours = set(marked.scalars())
            if batch.heartbeat and self._held:
                await session.execute(
                    update(OUTBOX)
                    .where(
                        OUTBOX.c.id.in_(sorted(self._held)),
                        OUTBOX.c.status == SENDING,
                        OUTBOX.c.claimed_by == self.id,
                    )
                    .values(claimed_at=now)
                )
            if batch.finishes:
                finishes = sorted(batch.finishes, key=lambda f: f.row_id)  # one lock order
                await session.execute(
                    finish_statement(self.id), [finish_params(f, now) for f in finishes]
                )
                await mark_blocked(session, [f.block_user for f in batch.finishes if f.block_user])
            if batch.releases:
                await session.execute(
                    update(OUTBOX)
                    .where(
                        OUTBOX.c.id == bindparam("b_id"),
                        OUTBOX.c.status == SENDING,
                        OUTBOX.c.claimed_by == self.id,
                    )
                    .values(
                        status=PENDING,
                        claimed_by=None,
                        claimed_at=None,
                        attempted_at=None,
                        not_before=bindparam("b_not_before"),
                        attempts=bindparam("b_attempts"),
                        error=bindparam("b_error"),
                    ),
                    [
                        {
                            "b_id": r.row_id,
                            "b_not_before": r.not_before,
                            "b_attempts": r.attempts,
                            "b_error": r.error,
                        }
                        for r in sorted(batch.releases, key=lambda r: r.row_id)
                    ],
                )
            await session.commit()
        for finish in batch.finishes:
            self._held.discard(finish.row_id)
            self.stats[finish.status] += 1
            self._dirty_batches.add(finish.batch_key)
        for release in batch.releases:
            self._held.discard(release.row_id)
            self.stats["retried"] += 1
        for row_id, future in batch.attempts:
            if not future.done():
                future.set_result(row_id in ours)
