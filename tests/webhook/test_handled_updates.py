"""Handled update ids: remembered in the process (bounded) or counted in Redis across workers."""

from __future__ import annotations

import uuid

import pytest

from bot.tg import webhook
from bot.tg.webhook import HandledUpdates, RedisHandledUpdates


async def test_in_process_ids_are_remembered_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook, "MEMORY_CAP", 10)
    handled = HandledUpdates(ttl_seconds=3600)
    assert not await handled.seen(1)
    for uid in range(1, 12):
        await handled.done(uid)
    assert await handled.seen(11) and await handled.seen(7)  # the recent ones stay
    assert not await handled.seen(1)  # the oldest went past the cap


@pytest.mark.redis
async def test_redis_counts_handlings_shared_by_two_workers(redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    first = RedisHandledUpdates(redis_url, 60, namespace)
    second = RedisHandledUpdates(redis_url, 60, namespace)
    try:
        await first.done(500)
        assert await second.seen(500) and not await second.seen(501)
        from redis.asyncio import Redis

        redis = Redis.from_url(redis_url)
        try:
            assert await redis.get(f"{namespace}:update:500") == b"1"
            assert 0 < await redis.ttl(f"{namespace}:update:500") <= 60
        finally:
            await redis.delete(f"{namespace}:update:500")
            await redis.aclose()
    finally:
        await first.close()
        await second.close()
