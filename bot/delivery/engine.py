"""The delivery engine: sends the outbox at the token's pace; every row ends in a stored state.

One engine per bot process; several processes may share one database. A row's life:

1. **claim** — a conditional UPDATE (pending → sending, with ``claimed_by``/``claimed_at``)
   takes the most urgent due rows (two engines never hold the same row); they are then
   rendered in each recipient's language and queued locally, most urgent first.
2. **attempt** — one dispatcher hands the token's turns (the limiter's permits) to the most
   urgent queued row; ``attempted_at`` is committed, *then* the HTTP call is made. A crash
   after that commit means "maybe delivered": the row is never sent again.
3. **outcome** — delivered (message id), blocked (403; the user is marked blocked), invalid
   (400 chat not found), failed (5xx / connection errors after ``max_retries`` tries with
   backoff, or a refused message), unknown (a time-out: it may have arrived). A 429 pauses
   the whole token for ``retry_after`` and puts the row back, untouched.

Writes are group-committed by one recorder task, so a busy engine commits a few times per
batch, not twice per message. A claim is a lease refreshed while held; rows of a process
that died are taken over once their lease lapses: attempted ones become unknown, the others
pending again. So a crash mid-broadcast resumes where it stopped and messages nobody twice.

Rate limits and backoff are physical time, so the engine keeps its own (real) clock instead
of ``app.now()``, which tests may freeze.

Here: the lifecycle, the dispatcher and the sends. Claiming and crash recovery are in
``claims.py``, the group-committing recorder in ``recorder.py``, the records in ``jobs.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import bot.services.outreach.broadcasts  # noqa: F401  (its batch-done hook sends the final report)
from bot.db.models.delivery import (
    BLOCKED,
    DELIVERED,
    FAILED,
    INVALID,
    OPEN_STATES,
    PENDING,
    SENDING,
    UNKNOWN,
    OutboxMessage,
)
from bot.delivery import DeliveryOptions
from bot.delivery.claims import ClaimsMixin
from bot.delivery.jobs import Job, Pending, whole_transaction
from bot.delivery.outbox import batch_done_hooks
from bot.delivery.ratelimit import Permit, RateLimiter
from bot.delivery.recorder import RecorderMixin
from bot.i18n import Translator
from bot.services.context import AppContext, system_clock
from bot.tg.render import Rendered, renderer

log = logging.getLogger(__name__)

CAPTION_MAX = 1024
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0  # the token pauses at most this per 429; the row waits the full time
HOUSEKEEPING_SECONDS = 0.25  # finished-batch checks
STOP_SECONDS = 10.0
CHAT_NOT_FOUND = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")


@renderer("broadcast.message")
async def _broadcast_message(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    # Staff's own words, as typed: the same in every language.
    return Rendered(str(params["text"]), photo=params.get("photo") or None)


class DeliveryEngine(ClaimsMixin, RecorderMixin):
    """Start with ``await start()`` next to polling; ``await stop()`` on shutdown."""

    def __init__(
        self,
        app: AppContext,
        bot: Bot,
        limiter: RateLimiter,
        *,
        options: DeliveryOptions | None = None,
        engine_id: str | None = None,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        self.app = app
        self.bot = bot
        self.limiter = limiter
        self.options = options or DeliveryOptions.from_settings(app.settings)
        self.id = engine_id or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.stats: Counter[str] = Counter()  # outcomes recorded by this engine
        self._queue: asyncio.PriorityQueue[Job] = asyncio.PriorityQueue()
        self._queued_priorities: Counter[int] = Counter()
        self._held: set[int] = set()  # rows claimed by us and not yet recorded terminal
        # Jobs whose chat is at its own limit wait here, so other chats are not held up.
        self._parked: dict[int, tuple[Job, asyncio.TimerHandle]] = {}
        self._senders = asyncio.Semaphore(max(1, self.options.concurrency))
        self._busy = 0  # jobs between leaving the queue and their outcome
        # Time a message was ready to go (the dispatcher was not waiting for an empty queue):
        # the bench's "sending time"; stretches with nothing due (rows in backoff) don't count.
        self.ready_seconds = 0.0
        self._idle = asyncio.Event()
        self._idle.set()
        self._room = asyncio.Event()
        self._pending = Pending()
        self._flush_wanted = asyncio.Event()
        self._attempt_wanted = asyncio.Event()
        self._dirty_batches: set[str] = set()
        self._checking = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._children: dict[str, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._is_pg = False

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        async with self.app.sessions() as session:
            self._is_pg = session.get_bind().dialect.name == "postgresql"
        await self._recover(own=True)
        self._task = asyncio.create_task(self._supervise(), name=f"delivery {self.id}")

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop claiming, let sends in flight finish (bounded), give back what was not sent."""
        if not self.running:
            return
        await self._cancel(["claimer", "housekeeper", "dispatcher"])
        while not self._queue.empty():
            job = self._take()
            self._release(job, delay=0.0, attempts=job.attempts, error="engine stopped")
        for job, timer in list(self._parked.values()):
            timer.cancel()
            self._release(job, delay=0.0, attempts=job.attempts, error="engine stopped")
        self._parked.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        await self._cancel(["recorder"])
        # Whatever the recorder had not committed yet (flushes are idempotent).
        leftovers, self._pending = self._pending, Pending()
        if leftovers:
            await self._flush(leftovers)
        await self._check_batches()
        await self.kill()

    async def _cancel(self, names: list[str]) -> None:
        tasks = [self._children[name] for name in names if name in self._children]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def kill(self) -> None:
        """Stop at once, as a crash would (tests); what was in flight is left to recovery."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until no row anywhere is pending or being sent (paused ones don't count), and
        the hooks of finished batches have run (a broadcast's report is then sent too)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._queue.empty() and not self._parked and not self._busy and not self._pending:
                await self._check_batches()
                async with self.app.sessions() as session:
                    left = await session.scalar(
                        select(OutboxMessage.id)
                        .where(OutboxMessage.status.in_((PENDING, SENDING)))
                        .limit(1)
                    )
                if left is None and not self._dirty_batches:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox not drained after {timeout} s")
            await asyncio.sleep(0.05)

    async def _supervise(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self._children = {
                    "recorder": group.create_task(self._recorder()),
                    "claimer": group.create_task(self._claimer()),
                    "housekeeper": group.create_task(self._housekeeper()),
                    "dispatcher": group.create_task(self._dispatcher()),
                }
        finally:
            for _, timer in self._parked.values():
                timer.cancel()

    # --- sending --------------------------------------------------------------------------

    def _take(self) -> Job:
        return self._taken(self._queue.get_nowait())

    def _taken(self, job: Job) -> Job:
        self._queued_priorities[job.priority] -= 1
        if self._queued_priorities[job.priority] <= 0:
            del self._queued_priorities[job.priority]
        if self._queue.qsize() <= self.options.batch_size // 2:
            self._room.set()
        return job

    async def _dispatcher(self) -> None:
        """Hands out the token's turns, most urgent job first, to at most ``concurrency`` sends.

        One dispatcher (not a pool of workers each holding a job while it waits) keeps the
        priority order right up to the moment of sending.
        """
        ready_since = time.monotonic()
        while True:
            await self._senders.acquire()
            try:
                if self._queue.empty():
                    self.ready_seconds += time.monotonic() - ready_since
                    job = await self._queue.get()
                    ready_since = time.monotonic()
                else:
                    job = self._queue.get_nowait()
                self._taken(job)
            except BaseException:
                self._senders.release()
                raise
            self._busy_add(1)
            try:
                turn = await self.limiter.acquire_or_wait(job.chat_id)
            except BaseException as exc:  # not attempted, so it may be sent later
                stopping = isinstance(exc, asyncio.CancelledError)
                error = "engine stopped" if stopping else f"rate limiter: {exc!r}"
                self._release(
                    job, delay=0.0 if stopping else 1.0, attempts=job.attempts, error=error
                )
                self._busy_add(-1)
                self._senders.release()
                if stopping or not isinstance(exc, Exception):
                    raise
                log.exception("the rate limiter failed (Redis down?); row %s goes back", job.id)
                await asyncio.sleep(1.0)
                continue
            if isinstance(turn, Permit):
                assert self._group is not None
                self._group.create_task(self._deliver(job, turn))
            else:
                self._park(job, turn)
                self._busy_add(-1)
                self._senders.release()

    def _park(self, job: Job, seconds: float) -> None:
        timer = asyncio.get_running_loop().call_later(seconds, self._unpark, job.id)
        self._parked[job.id] = (job, timer)

    def _unpark(self, job_id: int) -> None:
        parked = self._parked.pop(job_id, None)
        if parked is not None:
            self._queued_priorities[parked[0].priority] += 1
            self._queue.put_nowait(parked[0])

    def _busy_add(self, delta: int) -> None:
        if delta > 0 and not self._busy:
            self._idle.clear()
        self._busy += delta
        if not self._busy:
            self._idle.set()

    async def _deliver(self, job: Job, permit: Permit) -> None:
        try:
            if not await self._attempt(job.id):
                self._held.discard(job.id)  # paused, cancelled or taken over meanwhile
                return
            try:
                message = await self._send(job)
            except (TelegramAPIError, ClientDecodeError) as exc:
                await self._failed(job, exc)
            else:
                self._finish(job, DELIVERED, chat_id=message.chat.id, message_id=message.message_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("delivering outbox row %s failed unexpectedly", job.id)
            self._finish(job, UNKNOWN, error=f"engine: {exc!r}")
        finally:
            try:
                await self.limiter.release(permit)
            except Exception:  # the permit ages out of the windows by itself
                log.exception("could not hand back a rate-limit permit (row %s)", job.id)
            self._busy_add(-1)
            self._senders.release()

    async def _failed(self, job: Job, exc: TelegramAPIError | ClientDecodeError) -> None:
        """Record what an error means for this recipient."""
        if isinstance(exc, TelegramRetryAfter):
            log.warning("429: the token waits %s s (row %s)", exc.retry_after, job.id)
            await self.limiter.pause(min(float(exc.retry_after), MAX_RETRY_AFTER))
            self._release(job, delay=exc.retry_after, attempts=job.attempts, error="429")
        elif isinstance(exc, TelegramForbiddenError):
            self._finish(job, BLOCKED, error=exc.message, block_user=job.user_id)
        elif isinstance(exc, TelegramMigrateToChat):
            self._finish(job, INVALID, error=f"group moved to {exc.migrate_to_chat_id}")
        elif isinstance(exc, TelegramBadRequest):
            lowered = exc.message.lower()
            status = INVALID if any(s in lowered for s in CHAT_NOT_FOUND) else FAILED
            self._finish(job, status, error=exc.message)
        elif isinstance(exc, TelegramServerError):
            self._retry_or_fail(job, exc.message)
        elif isinstance(exc, TelegramEntityTooLarge):
            self._finish(job, FAILED, error=exc.message)
        elif isinstance(exc, TelegramNetworkError):
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                self._retry_or_fail(job, exc.message)  # never connected: nothing was sent
            else:  # a time-out or a broken answer: it may have arrived
                self._finish(job, UNKNOWN, error=exc.message)
        elif isinstance(exc, ClientDecodeError):
            self._finish(job, UNKNOWN, error=str(exc))
        else:
            self._finish(job, FAILED, error=exc.message)

    async def _send(self, job: Job) -> Message:
        rendered = job.rendered
        if rendered.photo:
            return await self.bot.send_photo(
                job.chat_id,
                rendered.photo,
                caption=rendered.text[:CAPTION_MAX],
                reply_markup=rendered.markup,
            )
        return await self.bot.send_message(job.chat_id, rendered.text, reply_markup=rendered.markup)

    def _retry_or_fail(self, job: Job, error: str) -> None:
        attempts = job.attempts + 1
        if attempts >= self.options.max_retries:
            self._finish(job, FAILED, error=f"{error} (after {attempts} tries)")
            return
        delay = min(MAX_BACKOFF, 0.5 * 2**job.attempts) * random.uniform(0.8, 1.2)
        self._release(job, delay=delay, attempts=attempts, error=error)

    # --- housekeeping: leases, crashed peers, finished batches ----------------------------

    async def _housekeeper(self) -> None:
        lease = self.options.lease_seconds
        next_heartbeat = next_recovery = time.monotonic()
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                now = time.monotonic()
                if now >= next_heartbeat:
                    # Through the recorder: it is this engine's only writer of its rows, so
                    # two of our own transactions never wait on each other (no deadlock).
                    if self._held:  # nothing held, nothing to renew: no write
                        self._pending.heartbeat = True
                        self._flush_wanted.set()
                    next_heartbeat = now + lease / 3
                if now >= next_recovery:
                    await self._recover()
                    next_recovery = now + lease / 2
                await self._check_batches()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery housekeeping failed; will retry")

    @whole_transaction
    async def _check_batches(self) -> None:
        """Run the batch-done hooks of batches whose every row is now terminal."""
        async with self._checking:  # one at a time: drain() waits for a check under way
            if self._dirty_batches:
                await self._run_batch_hooks()

    async def _run_batch_hooks(self) -> None:
        keys, self._dirty_batches = self._dirty_batches, set()
        async with self.app.sessions() as session:
            still_open = set(
                await session.scalars(
                    select(OutboxMessage.batch_key)
                    .where(
                        OutboxMessage.batch_key.in_(keys),
                        OutboxMessage.status.in_(OPEN_STATES),
                    )
                    .distinct()
                )
            )
            await session.commit()
        for key in sorted(keys - still_open):
            for hook in batch_done_hooks(key):
                try:
                    await hook(self.app, key)
                except Exception:
                    log.exception("batch-done hook failed for %s", key)
