"""The fake Bot API's webhook delivery behaves like Telegram's: secret header, concurrency up
to max_connections (one chat's updates too), retries with backoff on non-2xx, time-outs and
refused connections, getUpdates refused while a webhook is set."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiogram.exceptions import TelegramConflictError
from aiohttp import web

from bot.fakeapi.server import FakeBotAPI
from bot.fakeapi.webhook import SECRET_HEADER
from tests.conftest import wait_until


class Receiver:
    """A webhook endpoint that fails on demand and records what it saw."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.secrets: set[str | None] = set()
        self.fail_first: Counter[int] = Counter()  # update_id -> failures left (500)
        self.hold = 0.0
        self.now_in = 0
        self.most_in = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        uid = int(body["update_id"])
        self.secrets.add(request.headers.get(SECRET_HEADER))
        self.now_in += 1
        self.most_in = max(self.most_in, self.now_in)
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.now_in -= 1
        if self.fail_first[uid] > 0:
            self.fail_first[uid] -= 1
            return web.Response(status=500)
        self.seen.append(uid)
        return web.Response(status=200)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.webhook.backoff = (0.05, 0.1)
        yield server


async def test_updates_are_posted_with_the_secret_and_retried_until_2xx(fake: FakeBotAPI) -> None:
    receiver = Receiver()
    await receiver.start()
    bot = fake.make_bot()
    try:
        await bot.set_webhook(receiver.url, secret_token="s3cret-_X", max_connections=5)
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        user = fake.user(501, "甲")
        await fake.send_text(user, "一")
        first = fake._state.history[-1].update_id
        receiver.fail_first[first] = 2
        await fake.send_text(user, "二")
        await fake.settle(timeout=5)
        assert sorted(receiver.seen) == [first, first + 1]
        assert receiver.secrets == {"s3cret-_X"}
        assert fake.webhook.stats.attempts[first] == 3  # two 500s, then 2xx
        assert fake.webhook.stats.delivered == Counter({first: 1, first + 1: 1})
        assert fake.webhook.stats.failures["500"] == 2
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0
        assert info.last_error_message and "500" in info.last_error_message
        await bot.delete_webhook()
        assert not fake.webhook.active
        await fake.send_text(user, "三")
        assert (await bot.get_updates())[0].message.text == "三"  # type: ignore[union-attr]
    finally:
        await bot.session.close()
        await receiver.stop()


async def test_delivery_is_concurrent_up_to_max_connections_even_for_one_chat(
    fake: FakeBotAPI,
) -> None:
    receiver = Receiver()
    receiver.hold = 0.2
    await receiver.start()
    bot = fake.make_bot()
    try:
        await bot.set_webhook(receiver.url, max_connections=3)
        user = fake.user(502, "乙")
        for n in range(6):
            await fake.send_text(user, f"第{n}条")
        await fake.settle(timeout=5)
        assert len(receiver.seen) == 6
        assert receiver.most_in == 3  # one chat, yet three in flight: the bot keeps order
        assert receiver.secrets == {None}
    finally:
        await bot.session.close()
        await receiver.stop()


async def test_a_refused_connection_is_retried_until_the_endpoint_is_back(
    fake: FakeBotAPI,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = fake.make_bot()
    receiver = Receiver()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        await fake.send_text(fake.user(503, "丙"), "有人吗")
        await wait_until(lambda: fake.webhook.stats.failures["connect"] >= 2, timeout=5)
        await receiver.start(port)
        await fake.settle(timeout=5)
        assert len(receiver.seen) == 1
    finally:
        await bot.session.close()
        await receiver.stop()


async def test_a_timeout_is_retried(fake: FakeBotAPI) -> None:
    receiver = Receiver()
    await receiver.start()
    bot = fake.make_bot()
    fake.webhook.timeout = 0.2
    try:
        receiver.hold = 1.0
        await bot.set_webhook(receiver.url)
        await fake.send_text(fake.user(504, "丁"), "慢一点")
        await wait_until(lambda: fake.webhook.stats.failures["timeout"] >= 1, timeout=5)
        receiver.hold = 0.0
        await fake.settle(timeout=5)
        uid = fake._state.history[-1].update_id
        assert fake.webhook.stats.delivered[uid] == 1
    finally:
        await bot.session.close()
        await receiver.stop()


async def test_plain_http_is_refused_unless_loopback(fake: FakeBotAPI) -> None:
    bot = fake.make_bot()
    try:
        from aiogram.exceptions import TelegramBadRequest

        with pytest.raises(TelegramBadRequest):
            await bot.set_webhook("http://example.org/hook")
        assert (await bot.get_webhook_info()).url == ""
        assert not fake.webhook.active
    finally:
        await bot.session.close()
