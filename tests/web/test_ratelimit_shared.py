"""The web's rate limits (login attempts, the H5 form) shared through Redis: two processes
behind one proxy allow the limit in all, not each; without Redis (or with Redis down) each
process still counts on its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.services.context import AppContext
from bot.web.app import LIMITER, make_web_app
from bot.web.pages.h5 import H5_IP, H5_PHONE, IP_LIMIT
from bot.web.ratelimit import MemoryLimiter, RedisLimiter
from tests.web.conftest import Web


def _with_redis(web: Web, url: str) -> AppContext:
    settings = web.app.settings.model_copy(
        update={"redis": web.app.settings.redis.model_copy(update={"url": url})}
    )
    return AppContext(settings, web.app.sessions, web.notifier, clock=web.clock)


async def _clients(app: AppContext, n: int) -> AsyncIterator[list[TestClient]]:  # type: ignore[type-arg]
    clients = [TestClient(TestServer(make_web_app(app))) for _ in range(n)]
    for c in clients:
        await c.start_server()
    try:
        yield clients
    finally:
        for c in clients:
            await c.close()


async def test_memory_limiter_allows_the_limit_per_client_in_its_window() -> None:
    limiter = MemoryLimiter(2, window=60.0)
    assert [await limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert await limiter.allow("b")


async def test_without_redis_each_process_counts_its_own(web: Web) -> None:
    async for clients in _clients(web.app, 1):
        assert isinstance(clients[0].app[LIMITER], MemoryLimiter)
        assert isinstance(clients[0].app[H5_IP], MemoryLimiter)


@pytest.mark.redis
async def test_login_attempts_are_counted_across_processes_through_redis(
    web: Web, redis_url: str
) -> None:
    app = _with_redis(web, redis_url)
    limit = app.settings.web.login_attempts_per_minute
    address = {"X-Real-IP": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().hex[:6]}"}
    async for first, second in _clients(app, 2):
        assert isinstance(first.app[LIMITER], RedisLimiter)
        for i in range(limit):  # spread over both processes
            client = (first, second)[i % 2]
            response = await client.post("/login/nothing.abc", headers=address)
            assert "过多" not in await response.text(), i
        good = await web.link(web.admin)
        refused = await first.post(good, headers=address, allow_redirects=False)
        assert refused.status == 200 and "过多" in await refused.text()
        other = {"X-Real-IP": f"10.1.{uuid.uuid4().hex[:6]}"}  # another address is not held
        assert (await second.post(good, headers=other, allow_redirects=False)).status == 302
        # Redis holds an HMAC of the address, never the address itself.
        keys = [k.decode() for k in await first.app[LIMITER]._redis.keys("wishbot:web:rl:*")]
        assert keys and not any(address["X-Real-IP"] in k for k in keys)


@pytest.mark.redis
async def test_h5_posts_are_counted_across_processes_through_redis(
    web: Web, redis_url: str
) -> None:
    app = _with_redis(web, redis_url)
    address = {"X-Real-IP": f"10.2.{uuid.uuid4().hex[:8]}"}
    async for first, second in _clients(app, 2):
        assert isinstance(first.app[H5_PHONE], RedisLimiter)
        statuses = [
            (await (first, second)[i % 2].post("/h5", data={}, headers=address)).status
            for i in range(IP_LIMIT[0] + 1)
        ]
        assert 429 not in statuses[:-1] and statuses[-1] == 429
        phone = f"139{uuid.uuid4().int % 10**8:08d}"
        shared = [await (first, second)[i % 2].app[H5_PHONE].allow(phone) for i in range(4)]
        assert shared == [True, True, True, False]  # three filings per phone per hour


async def test_a_redis_that_is_down_falls_back_to_counting_in_the_process(web: Web) -> None:
    app = _with_redis(web, "redis://127.0.0.1:1/0")
    async for (client,) in _clients(app, 1):
        limiter = client.app[LIMITER]
        assert isinstance(limiter, RedisLimiter)
        allowed = [await limiter.allow("10.9.9.9") for _ in range(limiter.limit + 1)]
        assert allowed == [True] * limiter.limit + [False]
