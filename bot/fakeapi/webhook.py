"""Webhook delivery, as Telegram does it: POST each update to the bot's URL, retry until 2xx.

- every pending update is POSTed (JSON) to the URL given by setWebhook, with the secret in
  ``X-Telegram-Bot-Api-Secret-Token`` when one was set;
- up to ``max_connections`` requests at once, started in update_id order. Two updates of the
  same chat may be in flight together (Telegram does not wait for one before the next), so
  keeping one person's order is the bot's job;
- a non-2xx answer, a time-out or a connection error is retried with backoff; after
  ``max_attempts`` tries the update is given up (counted in ``dropped``), as Telegram gives up
  "after a reasonable amount of attempts";
- an update answered 2xx is gone from the server (``delivered`` counts 2xx answers per
  update: a retry after a lost answer can make it more than one).

Plain http URLs are accepted for loopback addresses only, so tests need no certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from bot.fakeapi.state import PendingUpdate, TelegramState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class WebhookStats:
    attempts: Counter[int] = field(default_factory=Counter)  # update_id -> POSTs
    delivered: Counter[int] = field(default_factory=Counter)  # update_id -> 2xx answers
    failures: Counter[str] = field(default_factory=Counter)  # "502", "timeout", "connect"...
    dropped: list[int] = field(default_factory=list)  # given up after max_attempts


class WebhookDelivery:
    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self.url = ""
        self.secret: str | None = None
        self.max_connections = 40
        self.timeout = 30.0  # seconds Telegram waits for an answer
        self.backoff = (0.2, 0.5, 1.0, 2.0, 4.0)  # seconds before the nth retry (last repeats)
        self.max_attempts = 30
        self.stats = WebhookStats()
        self.last_error: tuple[int, str] | None = None  # (unix time, message), getWebhookInfo
        self._not_before: dict[int, float] = {}
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    def configure(self, url: str, secret: str | None, max_connections: int) -> None:
        self.url, self.secret, self.max_connections = url, secret, max_connections
        if url and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run(), name="fake webhook")
        self._state.signal.notify()

    async def stop(self) -> None:
        self.url = ""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        try:
            while self.url and not self._state.stopping:
                wait = self._start_due()
                await self._state.signal.wait(wait)
        finally:
            for task in list(self._inflight.values()):
                task.cancel()
            if self._inflight:
                await asyncio.gather(*self._inflight.values(), return_exceptions=True)
            self._inflight.clear()
            await self._http.close()
            self._http = None

    def _start_due(self) -> float:
        """Start what may go now; returns how long to sleep at most before looking again."""
        state = self._state
        state.updates = [u for u in state.updates if u.kind in state.allowed_updates]
        now, wait = time.monotonic(), 1.0
        for update in state.updates:
            if len(self._inflight) >= self.max_connections:
                break
            if update.update_id in self._inflight:
                continue
            ready = self._not_before.get(update.update_id, 0.0)
            if ready > now:
                wait = min(wait, ready - now)
                continue
            state.fetched_upto = max(state.fetched_upto, update.update_id)
            task = asyncio.get_running_loop().create_task(self._post(update))
            self._inflight[update.update_id] = task
        return wait

    async def _post(self, update: PendingUpdate) -> None:
        uid = update.update_id
        self.stats.attempts[uid] += 1
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers[SECRET_HEADER] = self.secret
        outcome = "ok"
        try:
            assert self._http is not None
            body = json.dumps(update.to_json(), ensure_ascii=False)
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with self._http.post(
                self.url, data=body.encode(), headers=headers, timeout=timeout
            ) as answer:
                await answer.read()
                if not 200 <= answer.status < 300:
                    outcome = str(answer.status)
        except TimeoutError:
            outcome = "timeout"
        except aiohttp.ClientConnectionError:
            outcome = "connect"
        except aiohttp.ClientError as exc:
            outcome = type(exc).__name__
        finally:
            self._inflight.pop(uid, None)
        if outcome == "ok":
            self.stats.delivered[uid] += 1
            self._not_before.pop(uid, None)
            self._state.updates = [u for u in self._state.updates if u.update_id != uid]
        else:
            self._failed(update, outcome)
        self._state.touch()

    def _failed(self, update: PendingUpdate, outcome: str) -> None:
        uid = update.update_id
        self.stats.failures[outcome] += 1
        self.last_error = (int(time.time()), f"Wrong response from the webhook: {outcome}")
        tries = self.stats.attempts[uid]
        if tries >= self.max_attempts:
            log.warning("webhook: update %s given up after %d tries", uid, tries)
            self.stats.dropped.append(uid)
            self._not_before.pop(uid, None)
            self._state.updates = [u for u in self._state.updates if u.update_id != uid]
            return
        delay = self.backoff[min(tries - 1, len(self.backoff) - 1)]
        self._not_before[uid] = time.monotonic() + delay


def loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
