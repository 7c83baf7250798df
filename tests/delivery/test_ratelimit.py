"""The rate limiter alone: windows, per-chat limits, pauses; in memory and shared via Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.delivery.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.fakeapi.faults import max_in_any_window

GROUP = -100_200


async def _grant_times(limiter: RateLimiter, chats: list[int]) -> list[float]:
    """Acquire for each chat (concurrently), answer at once; the grant times, sorted."""
    times: list[float] = []

    async def one(chat_id: int) -> None:
        async with limiter.slot(chat_id):
            times.append(time.monotonic())

    await asyncio.gather(*(one(c) for c in chats))
    return sorted(times)


async def _blocks(acquire: Awaitable[object], for_seconds: float = 0.3) -> bool:
    """True if the acquire is still waiting after ``for_seconds``."""
    task = asyncio.ensure_future(acquire)
    done, _ = await asyncio.wait({task}, timeout=for_seconds)
    task.cancel()
    return not done


async def test_never_more_than_the_ceiling_in_any_second() -> None:
    limiter = MemoryRateLimiter(rate=1000, max_per_second=10)
    started = time.monotonic()
    times = await _grant_times(limiter, list(range(1, 26)))
    assert max_in_any_window(times, 1.0) <= 10
    assert time.monotonic() - started >= 2.0  # 25 sends at 10 a second


async def test_pace_follows_the_rate() -> None:
    limiter = MemoryRateLimiter(rate=20, max_per_second=30)
    started = time.monotonic()
    await _grant_times(limiter, list(range(1, 22)))
    elapsed = time.monotonic() - started
    # 21 sends at 20/s: about one second (the tolerance lets the first few go at once).
    assert 0.8 <= elapsed <= 1.6


async def test_a_send_in_flight_holds_its_place_until_answered() -> None:
    limiter = MemoryRateLimiter(rate=100, max_per_second=2)
    first = await limiter.acquire(1)
    second = await limiter.acquire(2)
    assert await _blocks(limiter.acquire(3))  # both places taken while unanswered
    await limiter.release(first)
    answered = time.monotonic()
    await limiter.release(second)
    await limiter.acquire(3)
    # Counted from the answer, not the grant: the server may have seen it that late.
    assert time.monotonic() - answered >= 1.0


async def test_one_message_a_second_to_a_private_chat_without_holding_up_others() -> None:
    limiter = MemoryRateLimiter(rate=100, max_per_second=30)
    async with limiter.slot(7):
        pass
    answered = time.monotonic()
    waiting = asyncio.ensure_future(limiter.acquire(7))
    # Meanwhile another chat goes through at once.
    other_started = time.monotonic()
    async with limiter.slot(8):
        pass
    assert time.monotonic() - other_started < 0.2
    await waiting
    assert time.monotonic() - answered >= 1.0


async def test_acquire_or_wait_says_how_long_a_full_chat_must_wait() -> None:
    limiter = MemoryRateLimiter(rate=100, max_per_second=30, per_group_per_minute=3)
    for _ in range(3):
        async with limiter.slot(GROUP):
            pass
    turn = await limiter.acquire_or_wait(GROUP)
    assert isinstance(turn, float) and 59.0 <= turn <= 60.1  # 20/min → here 3/min per group
    assert not isinstance(await limiter.acquire_or_wait(9), float)  # private chats unaffected


async def test_a_429_pause_stops_every_chat_and_is_counted_once() -> None:
    limiter = MemoryRateLimiter(rate=100, max_per_second=30)
    await limiter.pause(0.5)
    await limiter.pause(0.3)  # overlaps the first: no extra time
    started = time.monotonic()
    async with limiter.slot(11):
        pass
    assert time.monotonic() - started >= 0.45
    assert 0.45 <= limiter.paused_seconds <= 0.55


# --- shared through Redis ----------------------------------------------------------------


@pytest.fixture
async def redis_pair(redis_url: str) -> AsyncIterator[Callable[..., RedisRateLimiter]]:
    """Limiters that share one namespace, as two bot processes of one token would."""
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    made: list[RedisRateLimiter] = []

    def make(**limits: float) -> RedisRateLimiter:
        limiter = RedisRateLimiter(redis_url, namespace=namespace, **limits)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield make
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    keys = [k async for k in client.scan_iter(match=f"wishbot:{{{namespace}}}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    for limiter in made:
        await limiter.close()


async def test_two_redis_limiters_share_one_ceiling(
    redis_pair: Callable[..., RedisRateLimiter],
) -> None:
    one = redis_pair(rate=1000, max_per_second=8)
    two = redis_pair(rate=1000, max_per_second=8)
    started = time.monotonic()
    first, second = await asyncio.gather(
        _grant_times(one, list(range(1, 11))), _grant_times(two, list(range(11, 21)))
    )
    together = sorted(first + second)
    assert max_in_any_window(together, 1.0) <= 8
    assert time.monotonic() - started >= 2.0  # 20 sends at 8 a second, whoever sends them


async def test_redis_limiters_share_per_chat_limits_and_pauses(
    redis_pair: Callable[..., RedisRateLimiter],
) -> None:
    one = redis_pair(rate=100, max_per_second=30)
    two = redis_pair(rate=100, max_per_second=30)
    async with one.slot(5):
        pass
    answered = time.monotonic()
    async with two.slot(5):  # the same person, from the other process
        pass
    assert time.monotonic() - answered >= 1.0

    await one.pause(0.5)
    started = time.monotonic()
    async with two.slot(6):
        pass
    assert time.monotonic() - started >= 0.4


async def test_a_redis_send_in_flight_holds_its_place_for_everyone(
    redis_pair: Callable[..., RedisRateLimiter],
) -> None:
    one = redis_pair(rate=100, max_per_second=1)
    two = redis_pair(rate=100, max_per_second=1)
    permit = await one.acquire(1)
    assert await _blocks(two.acquire(2))
    await one.release(permit)
    answered = time.monotonic()
    await two.acquire(2)
    assert time.monotonic() - answered >= 0.95
