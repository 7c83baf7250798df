"""One update per chat at a time: in-process locks, and Redis locks across processes.

The update pump already hands one chat's updates to one worker in order; these locks make
that hold wherever else a chat's update may be handled at the same moment: another pump in
the same process (tests run two), or — with Redis — another bot process.
A lock is dropped as soon as nobody holds or waits for it, so memory stays flat however many
people have written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import LockError

log = logging.getLogger(__name__)


class ChatLocks:
    def __init__(self) -> None:
        self._locks: dict[int | str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        """Locks currently held or waited for (0 when everybody is idle)."""
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: int | str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self._shared(key):
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @asynccontextmanager
    async def _shared(self, key: int | str) -> AsyncIterator[None]:
        yield

    async def close(self) -> None:
        return None


class RedisChatLocks(ChatLocks):
    """Also a short Redis lock per chat, so several bot processes keep one person's order."""

    def __init__(self, url: str, *, lock_seconds: float, namespace: str = "wishbot") -> None:
        super().__init__()
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._seconds = lock_seconds
        self._namespace = namespace

    @asynccontextmanager
    async def _shared(self, key: int | str) -> AsyncIterator[None]:
        lock = self._redis.lock(
            f"{self._namespace}:chat:{key}",
            timeout=self._seconds,  # a process that dies holding it frees it after this
            blocking_timeout=self._seconds,
            sleep=0.02,
            raise_on_release_error=False,
        )
        acquired = await lock.acquire()
        if not acquired:  # the holder died or is stuck past the lock's life: go on anyway
            log.warning("chat %s: lock still held after %ss; handling anyway", key, self._seconds)
        try:
            yield
        finally:
            if acquired:
                try:
                    await lock.release()
                except LockError:  # held past lock_seconds: it expired, maybe taken since
                    log.warning("chat %s: lock expired before the update finished", key)

    async def close(self) -> None:
        await self._redis.aclose()
