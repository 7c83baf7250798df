"""Rate limits of the web side (login attempts, the H5 form), shared through Redis when it is
configured, so several processes behind one proxy allow the limit in all, not per process.

With Redis: one counter per (limit, client) that expires with its window (INCR, and PEXPIRE on
the first hit, in one Lua script on Redis's clock): at most ``limit`` hits per window. Keys hold
an HMAC of the client (an address or a phone), never the value itself. If Redis cannot be
reached, the process falls back to its own in-memory count for that call and logs it: a flaky
Redis must not lock staff out nor let a flood through unchecked.
Without Redis: an in-process sliding window (a restart forgets it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import defaultdict, deque
from typing import Any, Protocol

log = logging.getLogger(__name__)

_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""
SWEEP_EVERY = 1000


class Limiter(Protocol):
    limit: int
    window: float

    async def allow(self, client: str) -> bool: ...

    async def close(self) -> None: ...


class MemoryLimiter:
    """At most ``limit`` hits per client in any ``window`` seconds, in this process."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._calls = 0

    def allow_now(self, client: str) -> bool:
        now = time.monotonic()
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:  # forget clients whose window has passed
            for key in [k for k, v in self._hits.items() if not v or v[-1] < now - self.window]:
                del self._hits[key]
        hits = self._hits[client]
        while hits and hits[0] < now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    async def allow(self, client: str) -> bool:
        return self.allow_now(client)

    async def close(self) -> None:
        return None


class RedisLimiter:
    """The same limit, counted in Redis for every process (fixed windows of ``window`` s)."""

    def __init__(
        self,
        url: str,
        name: str,
        limit: int,
        window: float,
        *,
        key: bytes,
        namespace: str = "wishbot",
    ) -> None:
        from redis.asyncio import Redis

        self.limit, self.window = limit, window
        self._redis: Any = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script: Any = self._redis.register_script(_INCR)
        self._prefix = f"{namespace}:web:rl:{name}:"
        self._key = key
        self._fallback = MemoryLimiter(limit, window)

    def redis_key(self, client: str) -> str:
        digest = hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()[:32]
        return self._prefix + digest

    async def allow(self, client: str) -> bool:
        try:
            count = await self._script(
                keys=[self.redis_key(client)], args=[int(self.window * 1000)]
            )
        except Exception as exc:
            log.warning("web rate limit: Redis unavailable (%s); counting in this process", exc)
            return self._fallback.allow_now(client)
        return int(count) <= self.limit

    async def close(self) -> None:
        await self._redis.aclose()


def make_limiter(
    redis_url: str | None, name: str, limit: int, window: float, *, key: bytes
) -> Limiter:
    """Redis-shared when a Redis URL is configured, in-process otherwise."""
    if redis_url:
        return RedisLimiter(redis_url, name, limit, window, key=key)
    return MemoryLimiter(limit, window)
