"""/healthz: 200 when the database, Redis and the Bot API answer; 503 naming what does not.

PostgreSQL is reached through a TCP relay the test stops and starts again: that is the
database going away under a running bot and coming back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.db.engine import make_engine
from bot.fakeapi.server import FakeBotAPI
from bot.ops import Metrics, Ops, OpsServer


class Relay:
    """Forwards a local port to PostgreSQL; stop() drops the port and every open connection."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        await self.server.wait_closed()
        self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
        return response.status, await response.json()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token="123456:HEALTH") as server:
        yield server


async def test_health_turns_503_when_postgres_stops_and_200_when_it_is_back(
    postgres_url: str, redis_url: str, fake: FakeBotAPI
) -> None:
    parsed = make_url(postgres_url)
    relay = Relay(parsed.host or "127.0.0.1", parsed.port or 5432)
    await relay.start()
    engine = make_engine(parsed.set(port=relay.port).render_as_string(hide_password=False))
    bot = fake.make_bot(timeout=5)
    ops = Ops(Metrics(), engine, bot=bot, redis_url=redis_url)
    server = OpsServer(ops, "127.0.0.1", 0)
    url = await server.start()
    try:
        status, body = await get(url)
        assert (status, body["failed"]) == (200, [])
        assert body["checks"] == {"database": "ok", "redis": "ok", "bot_api": "ok"}

        await relay.stop()
        status, body = await get(url)
        assert status == 503 and body["failed"] == ["database"]
        assert body["checks"]["redis"] == "ok" and body["checks"]["bot_api"] == "ok"

        await relay.start()  # the same port again
        status, body = await get(url)
        assert (status, body["failed"]) == (200, [])
    finally:
        await server.stop()
        await ops.close()
        await bot.session.close()
        await engine.dispose()
        if relay.server is not None:
            await relay.stop()


async def test_health_names_redis_and_the_bot_api_when_they_fail(
    sqlite_url: str, fake: FakeBotAPI
) -> None:
    from bot.db.migrate import upgrade_async

    await upgrade_async(sqlite_url)
    engine = make_engine(sqlite_url)
    bot = fake.make_bot(timeout=5)
    # Nothing listens on port 1: Redis is "down".
    ops = Ops(Metrics(), engine, bot=bot, redis_url="redis://127.0.0.1:1/0")
    server = OpsServer(ops, "127.0.0.1", 0)
    url = await server.start()
    try:
        status, body = await get(url)
        assert status == 503 and body["failed"] == ["redis"]
        await fake.stop()
        status, body = await get(url)
        assert status == 503 and body["failed"] == ["redis", "bot_api"]
        assert body["checks"]["database"] == "ok"
    finally:
        await server.stop()
        await ops.close()
        await bot.session.close()
        await engine.dispose()


async def test_the_metrics_of_a_bot_without_a_database_still_answer(fake: FakeBotAPI) -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    ops = Ops(Metrics(), engine)
    server = OpsServer(ops, "127.0.0.1", 0)
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
            assert response.status == 200
            assert "wishbot_updates_total" in await response.text()
        status, body = await get(url)
        assert status == 503 and body["failed"] == ["database"]
    finally:
        await server.stop()
        await engine.dispose()
