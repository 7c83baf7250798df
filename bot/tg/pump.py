"""Our own getUpdates loop: per-person order, bounded concurrency, nothing lost on stop.

aiogram's polling confirms an update to the server (the next getUpdates offset) as soon as it
has *fetched* it, and handles every update as its own task: one person's quick taps race, and
a stop with work in progress loses that work. This pump instead

- keeps one queue per chat (per person in private chats, per presser for a group's
  buttons): updates of one chat are handled strictly in order, one at a time; different
  chats run concurrently, at most
  ``max_concurrent`` at once. An idle chat's queue is dropped, so memory does not grow;
- with Redis, also takes a short per-chat lock shared by every bot process (``ChatLocks``);
- confirms only past the lowest update id not yet finished: an update that was fetched but not
  handled when the process stopped stays on the server and comes again after the restart;
- opens the update's database session itself and publishes it (``bot.db.current``) before
  aiogram's FSM middleware reads the conversation state, so an update uses one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.current import publish
from bot.ops import Metrics
from bot.tg.chatlock import ChatLocks
from bot.tg.fsm_storage import read_person_too
from bot.tg.throttle import Throttle

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


def chat_key(update: Update) -> int | str:
    """Whose turn an update takes: its chat, else its sender, else its own id.

    A button pressed in a group takes its presser's turn, not the group's: fifty volunteers
    pressing Claim on a group post are fifty people, and queueing them behind one another
    made the last wait for all the others (the claim itself is decided by the database).
    """
    event = update.event
    query = update.callback_query
    pressed_on = query.message if query is not None else None
    in_group = pressed_on is not None and pressed_on.chat.type in ("group", "supergroup")
    if query is not None and in_group:
        return int(query.from_user.id)
    chat = getattr(event, "chat", None)
    if chat is None:
        message = getattr(event, "message", None)  # callback queries carry their message
        chat = getattr(message, "chat", None)
    if chat is not None:
        return int(chat.id)
    user = getattr(event, "from_user", None)
    if user is not None:
        return int(user.id)
    return f"update:{update.update_id}"


class _GetRawUpdates(GetUpdates):
    """getUpdates answered as plain dicts: the pump parses only the updates it has not seen."""

    __returning__ = list[dict[str, Any]]


class UpdatePump:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_concurrent: int,
        polling_timeout: int,
        allowed_updates: list[str] | None = None,
        locks: ChatLocks | None = None,
        throttle: Throttle | None = None,
        on_handled: Callable[[Update], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
        shortcut: Callable[[Update, AsyncSession], Awaitable[bool]] | None = None,
    ) -> None:
        self.dp = dp
        self.bot = bot
        self.sessions = sessions
        self.polling_timeout = polling_timeout
        self.allowed_updates = allowed_updates
        self.locks = locks or ChatLocks()
        self.throttle = throttle
        self.on_handled = on_handled
        self.metrics = metrics
        self.shortcut = shortcut  # answers some updates itself (True) before the dispatcher
        self._slots = asyncio.Semaphore(max_concurrent)
        self._queues: dict[int | str, deque[tuple[Update, bool]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._unfinished: set[int] = set()  # fetched, not yet handled
        self._fetched_upto = 0
        self._progress = asyncio.Event()
        self._stopping = asyncio.Event()
        self.handled = 0

    # --- offsets --------------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """The getUpdates offset that confirms exactly the updates finished so far."""
        if self._unfinished:
            return min(self._unfinished)
        return self._fetched_upto + 1 if self._fetched_upto else 0

    @property
    def in_flight(self) -> int:
        return len(self._unfinished)

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Fetch and dispatch until :meth:`request_stop`; workers may still be running after."""
        failures = 0
        while not self._stopping.is_set():
            if len(self._unfinished) >= 100:
                await self._wait_progress(1.0)  # back-pressure: the server's batch is 100
                continue
            try:
                updates = await self._fetch()
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return
                raise
            except (TelegramNetworkError, TelegramServerError, TelegramConflictError) as exc:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("getUpdates failed (%s); again in %ss", exc, delay)
                await self._sleep(delay)
                continue
            if updates is None:  # stopped while waiting
                return
            failures = 0
            fresh = updates  # _fetch keeps only the ones not fetched before
            if self._unfinished and not fresh:
                # All known and still in progress: the server resends from the offset, which
                # only moves once the oldest finishes. Each resend still costs a request and
                # its JSON, so wait until one of them finishes (someone answered may write
                # again at once), at least 10 ms and at most 100 ms, instead of spinning; a
                # new update waits at most that long to be fetched.
                await self._wait_any_finishes(0.01, 0.1)
                continue
            for update in fresh:
                self._fetched_upto = update.update_id
                verdict = self.throttle.verdict(update) if self.throttle is not None else "ok"
                if verdict == "ignore":
                    if self.metrics is not None:
                        self.metrics.update_done(update.event_type, "throttled")
                    continue  # done at once: a flood neither queues nor holds the offset back
                self._unfinished.add(update.update_id)
                self._enqueue(update, notice_only=verdict == "notice")

    async def _fetch(self) -> list[Update] | None:
        """New updates only: what the server sends again (still in progress here) is skipped
        before it is parsed, so a busy pump does not re-validate up to 100 known updates on
        every poll."""
        method = _GetRawUpdates(
            offset=self.offset, timeout=self.polling_timeout, allowed_updates=self.allowed_updates
        )
        request = asyncio.ensure_future(self.bot(method, request_timeout=self.polling_timeout + 10))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({request, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not request.done():
            request.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await request
            return None
        raw: list[dict[str, Any]] = request.result()  # type: ignore[assignment]
        return [
            Update.model_validate(item, context={"bot": self.bot})
            for item in raw
            if int(item["update_id"]) > self._fetched_upto
        ]

    async def _wait_progress(self, at_most: float) -> None:
        self._progress.clear()
        waiter = asyncio.ensure_future(self._progress.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({waiter, stop}, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stop.cancel()

    async def _wait_any_finishes(self, at_least: float, at_most: float) -> None:
        loop = asyncio.get_running_loop()
        handled, deadline = self.handled, loop.time() + at_most
        await self._sleep(at_least)
        while self.handled == handled and not self._stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await self._wait_progress(remaining)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- per-chat queues ------------------------------------------------------------------

    def _enqueue(self, update: Update, *, notice_only: bool = False) -> None:
        key = chat_key(update)
        queue = self._queues.get(key)
        if queue is not None:  # its worker is running and will take it in turn
            queue.append((update, notice_only))
            return
        self._queues[key] = deque([(update, notice_only)])
        worker = asyncio.create_task(self._work(key), name=f"chat-{key}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _work(self, key: int | str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                update, notice_only = queue[0]
                async with self._slots, self.locks.hold(key):
                    if notice_only and self.throttle is not None:
                        await self.throttle.notify(self.bot, update)
                        if self.metrics is not None:
                            self.metrics.update_done(update.event_type, "throttled")
                    else:
                        await self._handle(update)
                queue.popleft()
                self._unfinished.discard(update.update_id)
                self._progress.set()
        finally:
            # Gone idle (or cancelled on stop): drop the queue; what is left stays unconfirmed.
            self._queues.pop(key, None)

    async def handle_now(self, update: Update, *, notice_only: bool = False) -> None:
        """One update, now (webhook mode: the caller keeps the order and the lock)."""
        async with self._slots:
            if notice_only and self.throttle is not None:
                await self.throttle.notify(self.bot, update)
                self.count_throttled(update)
            else:
                await self._handle(update)

    def count_throttled(self, update: Update) -> None:
        if self.metrics is not None:
            self.metrics.update_done(update.event_type, "throttled")

    async def _handle(self, update: Update) -> None:
        started, outcome = time.perf_counter(), "ok"
        try:
            async with self.sessions() as session:
                sender = getattr(update.event, "from_user", None)
                if sender is not None:
                    read_person_too(session, sender.id)  # with the conversation state
                with publish(session):
                    if self.shortcut is not None and await self.shortcut(update, session):
                        response = None
                    else:
                        response = await self.dp.feed_update(self.bot, update)
            if isinstance(response, TelegramMethod):
                await self.dp.silent_call_request(bot=self.bot, result=response)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The errors router answers people; this is what escaped it. The update counts as
            # handled (handling it again would fail again).
            log.exception("update %s failed", update.update_id)
            outcome = "error"
        finally:
            self.handled += 1
        if self.metrics is not None:
            self.metrics.update_done(update.event_type, outcome, time.perf_counter() - started)
        if self.on_handled is not None:
            await self.on_handled(update)

    # --- stopping -------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stopping.set()

    async def stopped(self) -> None:
        """Return once a stop was requested (webhook mode waits on this)."""
        await self._stopping.wait()

    async def drain(self, seconds: float) -> int:
        """Wait up to ``seconds`` for the work in progress; cancel the rest.

        Returns how many fetched updates were left unfinished (not confirmed, so they come
        again after a restart). Then confirms the finished ones to the server.
        """
        self.request_stop()
        workers = set(self._workers)
        if workers:
            log.info("waiting up to %ss for %d update(s) in progress", seconds, self.in_flight)
            _, late = await asyncio.wait(workers, timeout=seconds) if seconds > 0 else ((), workers)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
        left = self.in_flight
        if left:
            log.warning("%d update(s) not finished; they come again after the restart", left)
        await self.confirm()
        return left

    async def confirm(self) -> None:
        offset = self.offset
        if offset <= 0:
            return
        try:
            # limit=1, timeout=0: only moves the server's offset; what comes back is not handled.
            await self.bot.get_updates(offset=offset, limit=1, timeout=0)
        except Exception as exc:  # the server is gone: it resends, which is safe, only slower
            log.warning("could not confirm handled updates: %s", exc)
