"""Webhook mode: Telegram POSTs each update here; any number of workers behind nginx.

One request is one update. It is answered 200 only after the update was handled (its
effects committed, its answers sent), so a worker that dies mid-update leaves Telegram
without an answer and Telegram sends it again, to whichever worker nginx picks. Then:

- **once** — a handled update's id is remembered (Redis ``SET`` with a TTL, shared by all
  workers; in the process without Redis) and checked under the person's lock, so a
  redelivery is answered 200 without handling it again;
- **one at a time, in order, per person** — Telegram may deliver two updates of one chat on
  two connections at once. Each waits until it is the lowest update id of its chat in
  progress anywhere (a Redis sorted set per chat, in-process without Redis), then takes the
  chat's lock (``ChatLocks``, Redis-backed across workers) and is handled;
- **a secret** — a request without Telegram's ``X-Telegram-Bot-Api-Secret-Token`` header
  equal to ``webhook.secret`` is refused with 401 and never parsed.

What cannot be made exactly-once is a message the bot sent just before dying: the update is
handled again after the redelivery (its database effects are idempotent: processed_actions).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.tg.chatlock import ChatLocks
from bot.tg.pump import UpdatePump, chat_key

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ORDER_POLL_SECONDS = 0.02
MEMORY_CAP = 100_000  # handled ids kept in the process (no Redis): redeliveries are recent


class HandledUpdates:
    """Update ids already handled, in this process (one worker without Redis)."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._done: dict[int, float] = {}

    async def seen(self, update_id: int) -> bool:
        return update_id in self._done

    async def done(self, update_id: int) -> None:
        now = time.monotonic()
        self._done[update_id] = now + self._ttl
        if len(self._done) > MEMORY_CAP:  # forget the expired, and the oldest past the cap
            kept = [(k, v) for k, v in self._done.items() if v > now]
            self._done = dict(kept[-MEMORY_CAP // 2 :])

    async def close(self) -> None:
        return None


class RedisHandledUpdates(HandledUpdates):
    """Shared by every worker: ``INCR {ns}:update:{id}`` (with a TTL) once handled."""

    def __init__(self, url: str, ttl_seconds: float, namespace: str) -> None:
        super().__init__(ttl_seconds)
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._namespace = namespace

    async def seen(self, update_id: int) -> bool:
        return bool(await self._redis.exists(f"{self._namespace}:update:{update_id}"))

    async def done(self, update_id: int) -> None:
        # A count, not a flag: how many times the update was handled to the end (1, unless
        # two deliveries raced past a worker's death), which the two-worker test reads.
        key = f"{self._namespace}:update:{update_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, max(1, int(self._ttl)))
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


class ChatOrder:
    """Updates of one chat in progress go lowest update id first (in this process)."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds  # the longest an update waits for a lower one
        self._waiting: dict[int | str, set[int]] = {}
        self._changed = asyncio.Event()
        self.out_of_order = 0  # waits that ran out (the lower update never finished)

    @asynccontextmanager
    async def turn(self, key: int | str, update_id: int) -> AsyncIterator[None]:
        self._waiting.setdefault(key, set()).add(update_id)
        try:
            await self._register(key, update_id)
            deadline = time.monotonic() + self.wait_seconds
            while (lowest := await self._lowest(key, update_id)) < update_id:
                if time.monotonic() > deadline:
                    log.warning(
                        "chat %s: update %s waited %ss for %s; handling it anyway",
                        key,
                        update_id,
                        self.wait_seconds,
                        lowest,
                    )
                    self.out_of_order += 1
                    await self._forget_below(key, update_id)
                    break
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), ORDER_POLL_SECONDS)
            yield
        finally:
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.discard(update_id)
                if not waiting:
                    del self._waiting[key]
            with contextlib.suppress(Exception):
                await self._unregister(key, update_id)
            self._changed.set()

    async def _lowest(self, key: int | str, update_id: int) -> int:
        return min(self._waiting.get(key) or {update_id})

    async def _register(self, key: int | str, update_id: int) -> None:
        return None

    async def _unregister(self, key: int | str, update_id: int) -> None:
        return None

    async def _forget_below(self, key: int | str, update_id: int) -> None:
        waiting = self._waiting.get(key, set())
        waiting.difference_update({u for u in waiting if u < update_id})

    async def close(self) -> None:
        return None


class RedisChatOrder(ChatOrder):
    """Across workers: a sorted set per chat of the update ids in progress."""

    def __init__(self, url: str, wait_seconds: float, namespace: str) -> None:
        super().__init__(wait_seconds)
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._namespace = namespace

    def _key(self, key: int | str) -> str:
        return f"{self._namespace}:order:{key}"

    async def _register(self, key: int | str, update_id: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key(key), {str(update_id): update_id})
            pipe.expire(self._key(key), 86400)  # a chat whose worker died does not linger
            await pipe.execute()

    async def _lowest(self, key: int | str, update_id: int) -> int:
        local = await super()._lowest(key, update_id)
        if local < update_id:
            return local
        first = await self._redis.zrange(self._key(key), 0, 0, withscores=True)
        return int(first[0][1]) if first else update_id

    async def _unregister(self, key: int | str, update_id: int) -> None:
        await self._redis.zrem(self._key(key), str(update_id))

    async def _forget_below(self, key: int | str, update_id: int) -> None:
        await super()._forget_below(key, update_id)
        await self._redis.zremrangebyscore(self._key(key), "-inf", f"({update_id}")

    async def close(self) -> None:
        await self._redis.aclose()


class WebhookReceiver:
    """The aiohttp endpoint of one worker: ``POST {path}`` → handled update → 200."""

    def __init__(
        self,
        pump: UpdatePump,
        bot: Bot,
        *,
        path: str,
        secret: str | None,
        handled: HandledUpdates,
        order: ChatOrder,
        locks: ChatLocks,
        drain_seconds: float,
    ) -> None:
        self.pump = pump
        self.bot = bot
        self.path = path
        self.secret = secret
        self.handled = handled
        self.order = order
        self.locks = locks
        self.drain_seconds = drain_seconds
        self.received = 0
        self.duplicates = 0
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self.path, self._on_update)
        return app

    async def start(self, host: str, port: int) -> None:
        # shutdown_timeout: on stop, requests in progress get this long to finish; the rest
        # are dropped unanswered, so Telegram sends those updates again (to another worker).
        runner = web.AppRunner(
            self.app(), access_log=None, shutdown_timeout=max(self.drain_seconds, 0.1)
        )
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("webhook: listening on %s:%s%s", host, self.port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.handled.close()
        await self.order.close()

    async def _on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if self.secret is not None and not hmac.compare_digest(given, self.secret):
            return web.Response(status=401, text="wrong secret token")
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="not an update")
        self.received += 1
        await self.handle(update)
        return web.Response(status=200)

    async def handle(self, update: Update) -> None:
        """Handle once, in the person's order; return when it is safe to answer 200."""
        throttle = self.pump.throttle
        verdict = throttle.verdict(update) if throttle is not None else "ok"
        if verdict == "ignore":
            self.pump.count_throttled(update)
            return
        key = chat_key(update)
        async with self.order.turn(key, update.update_id), self.locks.hold(key):
            if await self.handled.seen(update.update_id):
                self.duplicates += 1
                log.info("update %s came again; handled already", update.update_id)
                return
            await self.pump.handle_now(update, notice_only=verdict == "notice")
            await self.handled.done(update.update_id)
