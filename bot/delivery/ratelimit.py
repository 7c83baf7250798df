"""Rate limits of one bot token: global pace and ceiling, per private chat, per group.

Telegram's limits: about 30 messages a second overall, 1 a second to one private chat, 20 a
minute to one group; past them it answers 429 with ``retry_after`` for the whole token.

* A steady pace (``rate``): a GCRA token bucket with a little tolerance, so sends that wake
  up late can catch up.
* Hard windows: at most ``max_per_second`` sends in any second for the token, and the
  per-chat limits (group chats have negative ids). Telegram counts a message when it
  *arrives*, which is somewhere between our grant and the answer, and the network may
  squeeze sends together on the way. So a send occupies the window from its grant until
  its answer plus the window's length (``acquire`` … ``release``), and a new send is granted
  only if fewer than the limit occupy it. Then no window at the server can hold more than the
  limit, whatever the jitter: the last send granted into it saw every other one.
* ``pause(seconds)`` after a 429 stops every send of the token until it has passed.

``MemoryRateLimiter`` serves one process; ``RedisRateLimiter`` keeps the same state in Redis
(Lua scripts on Redis's own clock) so every bot process of the token shares it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Self

from bot.delivery import DeliveryOptions

# How far the pace may lag before sends catch up in a burst (the windows still hold).
TOLERANCE_SECONDS = 0.1
# A window is full of sends still in flight: look again this soon.
IN_FLIGHT_POLL = 0.01
SWEEP_EVERY = 1000  # grants between clean-ups of idle chats (memory limiter)


@dataclass(frozen=True, slots=True)
class Permit:
    """One granted send; hand it back with ``release`` once the answer (or error) is in."""

    chat_id: int
    token: str = ""


class RateLimiter(ABC):
    """``permit = await acquire(chat_id)`` … send … ``await release(permit)``.

    Or ``async with limiter.slot(chat_id): ...``. On a 429: ``await pause(retry_after)``.
    """

    def __init__(
        self,
        *,
        rate: float = 25.0,
        max_per_second: int = 30,
        per_chat_per_second: int = 1,
        per_group_per_minute: int = 20,
        guard: float = 0.02,
    ) -> None:
        if rate <= 0 or max_per_second < 1 or per_chat_per_second < 1 or per_group_per_minute < 1:
            raise ValueError("rates and limits must be positive")
        self.rate = rate
        self.ceiling = max_per_second
        self.window = 1.0 + guard  # guard: rounding, and clocks read at slightly different points
        self.private_allowed, self.private_window = per_chat_per_second, 1.0 + guard
        self.group_allowed, self.group_window = per_group_per_minute, 60.0 + guard
        self.interval = 1.0 / rate
        self.tolerance = max(TOLERANCE_SECONDS, self.interval)
        # Time this process was told to stand still by 429s (overlapping pauses counted once).
        self.paused_seconds = 0.0
        self._paused_until_seen = 0.0
        # One waiter at a time on the global limits: the rest queue here in order (no herd).
        self._lock = asyncio.Lock()
        self._giving_back: set[asyncio.Future[None]] = set()

    @classmethod
    def from_options(cls, options: DeliveryOptions, **extra: Any) -> Self:
        return cls(
            rate=options.rate,
            max_per_second=options.max_per_second,
            per_chat_per_second=options.per_chat_per_second,
            per_group_per_minute=options.per_group_per_minute,
            guard=options.guard_seconds,
            **extra,
        )

    def chat_limit(self, chat_id: int) -> tuple[int, float]:
        """(sends allowed, window seconds) for one chat."""
        if chat_id < 0:
            return self.group_allowed, self.group_window
        return self.private_allowed, self.private_window

    async def acquire(self, chat_id: int) -> Permit:
        """Return when one message to ``chat_id`` may be sent now."""
        while True:
            turn = await self.acquire_or_wait(chat_id)
            if isinstance(turn, Permit):
                return turn
            await asyncio.sleep(turn)

    async def acquire_or_wait(self, chat_id: int) -> Permit | float:
        """Wait out the token's limits; then a Permit, or the seconds this chat must wait.

        So a caller can send to another chat meanwhile instead of holding everyone up.
        """
        async with self._lock:
            permit, wait, chat_bound = await self._try_once(chat_id)
            while permit is None and not chat_bound:
                await asyncio.sleep(wait)
                permit, wait, chat_bound = await self._try_once(chat_id)
            return permit if permit is not None else wait

    async def _try_once(self, chat_id: int) -> tuple[Permit | None, float, bool]:
        # If the caller is cancelled while a grant is on its way, give the grant back:
        # otherwise it would hold a place in the windows until it ages out.
        attempt = asyncio.ensure_future(self._try(chat_id))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(self._give_back)
            raise

    def _give_back(self, attempt: asyncio.Future[tuple[Permit | None, float, bool]]) -> None:
        if attempt.cancelled() or attempt.exception() is not None:
            return
        permit = attempt.result()[0]
        if permit is not None:
            task = asyncio.ensure_future(self.release(permit))
            self._giving_back.add(task)
            task.add_done_callback(self._giving_back.discard)

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[Permit]:
        permit = await self.acquire(chat_id)
        try:
            yield permit
        finally:
            await self.release(permit)

    async def pause(self, seconds: float) -> None:
        """A 429 for the token: nobody sends for ``seconds``."""
        now = time.monotonic()
        until = now + seconds
        if until > self._paused_until_seen:
            self.paused_seconds += until - max(self._paused_until_seen, now)
            self._paused_until_seen = until
        await self._pause(seconds)

    async def close(self) -> None:
        return None

    @abstractmethod
    async def _try(self, chat_id: int) -> tuple[Permit | None, float, bool]:
        """(permit, _, _) granted, or (None, seconds to wait, whether it is the chat's limit)."""

    @abstractmethod
    async def release(self, permit: Permit) -> None:
        """The send is answered (or failed, or timed out): it has arrived if it ever will."""

    @abstractmethod
    async def _pause(self, seconds: float) -> None: ...


@dataclass(slots=True)
class _Window:
    """Sends in flight, and when the answered ones were answered (oldest first)."""

    in_flight: int = 0
    answered: deque[float] = field(default_factory=deque)

    def wait(self, now: float, allowed: int, length: float) -> float:
        """0 if one more send fits, else how long until one might."""
        answered = self.answered
        while answered and answered[0] <= now - length:
            answered.popleft()
        excess = self.in_flight + len(answered) - allowed + 1
        if excess <= 0:
            return 0.0
        if excess <= len(answered):
            return answered[excess - 1] + length - now
        return IN_FLIGHT_POLL

    @property
    def idle(self) -> bool:
        return not self.in_flight and not self.answered


class MemoryRateLimiter(RateLimiter):
    """The limiter for one process."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._global = _Window()
        self._chats: dict[int, _Window] = {}
        self._tat = 0.0  # GCRA's theoretical arrival time of the next send
        self._paused_until = 0.0
        self._grants = 0

    async def _try(self, chat_id: int) -> tuple[Permit | None, float, bool]:
        now = time.monotonic()
        if now < self._paused_until:
            return None, self._paused_until - now, False
        allowed, length = self.chat_limit(chat_id)
        chat = self._chats.get(chat_id)
        if chat is not None and (wait := chat.wait(now, allowed, length)) > 0:
            return None, wait, True
        tat = max(self._tat, now)
        wait = max(self._global.wait(now, self.ceiling, self.window), tat - now - self.tolerance)
        if wait > 0:
            return None, wait, False
        self._tat = tat + self.interval
        self._global.in_flight += 1
        if chat is None:
            chat = self._chats[chat_id] = _Window()
        chat.in_flight += 1
        self._grants += 1
        if self._grants % SWEEP_EVERY == 0:
            self._sweep(now)
        return Permit(chat_id), 0.0, False

    async def release(self, permit: Permit) -> None:
        now = time.monotonic()
        self._global.in_flight -= 1
        self._global.answered.append(now)
        chat = self._chats.setdefault(permit.chat_id, _Window())
        chat.in_flight = max(0, chat.in_flight - 1)
        chat.answered.append(now)

    async def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        # Resume at the steady pace, not with a catch-up burst into a fresh window.
        self._tat = max(self._tat, self._paused_until + self.tolerance)

    def _sweep(self, now: float) -> None:
        for chat_id in list(self._chats):
            window = self._chats[chat_id]
            window.wait(now, 1, self.chat_limit(chat_id)[1])  # drops what left the window
            if window.idle:
                del self._chats[chat_id]


# Sorted sets hold one member per send: score = when it was answered, or, while in flight,
# a time far enough ahead that it counts until released (or until a crashed process's
# sends age out).
# KEYS: global set, this chat's set, the token's hash (tat, pause).
# ARGV: rate, ceiling, window ms, chat allowed, chat window ms, tolerance ms, member,
#       in-flight horizon ms, poll ms.
# Returns {wait ms as a string, 1 if the chat's own limit}; "0" = granted.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate, ceiling, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local chat_allowed, chat_window = tonumber(ARGV[4]), tonumber(ARGV[5])
local tolerance, horizon, poll = tonumber(ARGV[6]), tonumber(ARGV[8]), tonumber(ARGV[9])
local function wait_for(key, allowed, length)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - length)
  local n = redis.call('ZCARD', key)
  if n < allowed then return 0 end
  local e = redis.call('ZRANGE', key, n - allowed, n - allowed, 'WITHSCORES')
  local score = tonumber(e[2])
  if score > now then return poll end
  return score + length - now
end
local pause = tonumber(redis.call('HGET', KEYS[3], 'pause') or '0')
if now < pause then return {tostring(pause - now), 0} end
local chat_wait = wait_for(KEYS[2], chat_allowed, chat_window)
if chat_wait > 0 then return {tostring(chat_wait), 1} end
local wait = wait_for(KEYS[1], ceiling, window)
local tat = tonumber(redis.call('HGET', KEYS[3], 'tat') or '0')
if tat < now then tat = now end
if tat - now - tolerance > wait then wait = tat - now - tolerance end
if wait > 0 then return {tostring(wait), 0} end
redis.call('ZADD', KEYS[1], now + horizon, ARGV[7])
redis.call('PEXPIRE', KEYS[1], math.ceil(horizon + window * 2))
redis.call('ZADD', KEYS[2], now + horizon, ARGV[7])
redis.call('PEXPIRE', KEYS[2], math.ceil(horizon + chat_window * 2))
redis.call('HSET', KEYS[3], 'tat', tostring(tat + 1000 / rate))
redis.call('PEXPIRE', KEYS[3], 3600000)
return {'0', 0}
"""

# KEYS: global set, chat set. ARGV: member. The send is answered now.
_RELEASE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
return 1
"""

# KEYS: the token's hash. ARGV: pause ms, tolerance ms. Extends the pause, never shortens it,
# and resumes at the steady pace afterwards (no catch-up burst).
_PAUSE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ms = now + tonumber(ARGV[1])
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0')
if until_ms > pause then redis.call('HSET', KEYS[1], 'pause', tostring(until_ms)) end
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local resume = until_ms + tonumber(ARGV[2])
if resume > tat then redis.call('HSET', KEYS[1], 'tat', tostring(resume)) end
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
"""


class RedisRateLimiter(RateLimiter):
    """The same limits shared by every process using the same Redis and ``namespace``.

    ``in_flight_seconds`` bounds how long a send of a crashed process keeps its place in
    the windows (a send answers or times out well before it).
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "default",
        in_flight_seconds: float = 40.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url)
        # One hash tag: all keys of a token live in one cluster slot (scripts need that).
        self._prefix = f"wishbot:{{{namespace}}}:rl"
        self._acquire_script = self._redis.register_script(_ACQUIRE_LUA)
        self._release_script = self._redis.register_script(_RELEASE_LUA)
        self._pause_script = self._redis.register_script(_PAUSE_LUA)
        self._horizon_ms = in_flight_seconds * 1000
        self._ids = itertools.count()
        self._me = uuid.uuid4().hex[:12]

    def _keys(self, chat_id: int) -> list[str]:
        return [f"{self._prefix}:global", f"{self._prefix}:chat:{chat_id}"]

    async def _try(self, chat_id: int) -> tuple[Permit | None, float, bool]:
        allowed, window = self.chat_limit(chat_id)
        member = f"{self._me}:{next(self._ids)}"
        wait_ms, chat_bound = await self._acquire_script(
            keys=[*self._keys(chat_id), f"{self._prefix}:token"],
            args=[
                self.rate,
                self.ceiling,
                self.window * 1000,
                allowed,
                window * 1000,
                self.tolerance * 1000,
                member,
                self._horizon_ms,
                IN_FLIGHT_POLL * 1000,
            ],
        )
        wait = float(wait_ms) / 1000
        if wait <= 0:
            return Permit(chat_id, member), 0.0, False
        return None, wait, bool(int(chat_bound))

    async def release(self, permit: Permit) -> None:
        await self._release_script(keys=self._keys(permit.chat_id), args=[permit.token])

    async def _pause(self, seconds: float) -> None:
        await self._pause_script(
            keys=[f"{self._prefix}:token"], args=[seconds * 1000, self.tolerance * 1000]
        )

    async def close(self) -> None:
        await self._redis.aclose()


def make_limiter(
    options: DeliveryOptions, *, redis_url: str | None = None, namespace: str = "default"
) -> RateLimiter:
    """Redis-backed when a Redis URL is configured (several processes), else in memory.

    ``namespace`` should name the bot token (its numeric id), so two bots don't share limits.
    """
    if redis_url:
        return RedisRateLimiter.from_options(options, url=redis_url, namespace=namespace)
    return MemoryRateLimiter.from_options(options)
