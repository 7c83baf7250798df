"""Webhook mode of the real bot against the fake Bot API: the secret is checked, every update is
handled once (a redelivery too), one person's updates in update_id order although the fake
delivers them concurrently, and `wishbot run --polling` deletes the webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram.types import Update

from bot.demo.stage import TOKEN, Stage
from bot.fakeapi.webhook import SECRET_HEADER
from tests.conftest import wait_until
from tests.e2e.conftest import register_resident

pytestmark = pytest.mark.e2e

SECRET = "test-secret_123"
ADMIN = 9001


def webhook_stage(db_url: str, **extra: dict[str, object]) -> Stage:
    return Stage(
        db_url,
        admins=(ADMIN,),
        telegram={"mode": "webhook"},
        webhook={"port": 0, "secret": SECRET, "max_connections": 8},
        **extra,
    )


@pytest.fixture
async def stage(sqlite_url: str) -> AsyncIterator[Stage]:
    async with webhook_stage(sqlite_url) as s:
        yield s


def record_order(stage: Stage) -> dict[int, list[int]]:
    """update ids in the order they were handled, per chat."""
    handled: dict[int, list[int]] = {}
    assert stage.runner is not None

    async def on_handled(update: Update) -> None:
        chat = update.message.chat.id if update.message else 0
        handled.setdefault(chat, []).append(update.update_id)

    stage.runner.pump.on_handled = on_handled
    return handled


async def test_a_resident_registers_and_files_a_wish_over_the_webhook(stage: Stage) -> None:
    info = await stage.fake.make_bot().get_webhook_info()
    assert info.url.startswith("http://127.0.0.1:") and info.url.endswith("/tg/webhook")
    assert info.max_connections == 8
    resident = stage.person(700, "张阿姨")
    await register_resident(resident)
    card = await resident.say("楼道的灯坏了，晚上很黑", expect="核对")
    await resident.press("没问题", message_id=card.message_id, expect="已登记为心愿")
    assert stage.fake.webhook.stats.dropped == []
    assert set(stage.fake.webhook.stats.delivered.values()) == {1}


async def test_a_request_without_the_secret_gets_401_and_is_not_handled(stage: Stage) -> None:
    assert stage.runner is not None and stage.runner.webhook is not None
    stage.fake.user(5, "x")
    url = f"http://127.0.0.1:{stage.runner.webhook.port}/tg/webhook"
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "x"},
            "text": "/start",
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}):
            async with http.post(url, json=update, headers=headers) as answer:
                assert answer.status == 401
    assert stage.runner.webhook.received == 0
    assert stage.fake.messages(5) == []


async def test_one_persons_burst_is_handled_in_order_and_a_redelivery_once(stage: Stage) -> None:
    handled = record_order(stage)
    person = stage.fake.user(701, "李伯")
    stage.fake.webhook.max_connections = 8
    for n in range(8):
        await stage.fake.send_text(person, f"/help {n}")
    await stage.fake.settle(timeout=15)
    ids = handled[701]
    assert len(ids) == 8 and ids == sorted(ids)
    # Telegram sends an update again (its answer was lost): answered 200, not handled again.
    again = stage.fake._state.history[-1]
    stage.fake._state.updates.append(again)
    stage.fake._state.signal.notify()
    assert stage.runner is not None and stage.runner.webhook is not None
    await wait_until(lambda: stage.runner.webhook.duplicates == 1, timeout=5)  # type: ignore[union-attr]
    await stage.fake.settle(timeout=5)
    assert handled[701] == ids


async def test_run_polling_deletes_the_webhook(sqlite_url: str) -> None:
    async with webhook_stage(sqlite_url) as stage:
        assert stage.fake.webhook.active
        await stage.stop_bot()
        stage.sections["telegram"] = {"mode": "polling"}
        await stage.start_bot()
        assert not stage.fake.webhook.active and stage.fake.bot_is_polling
        await stage.person(702, "王叔").say("/help", expect="")


@pytest.mark.redis
async def test_with_redis_the_order_and_the_handled_ids_are_shared(
    sqlite_url: str, redis_url: str
) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    ns = TOKEN.split(":")[0]  # every fake numbers its updates alike: forget earlier runs'
    for key in await redis.keys(f"{ns}:update:*") + await redis.keys(f"{ns}:order:*"):
        await redis.delete(key)
    async with webhook_stage(sqlite_url, redis={"url": redis_url}) as stage:
        handled = record_order(stage)
        person = stage.fake.user(703, "赵姐")
        for n in range(6):
            await stage.fake.send_text(person, f"/help {n}")
        await stage.fake.settle(timeout=15)
        assert handled[703] == sorted(handled[703]) and len(handled[703]) == 6
        try:
            for uid in handled[703]:
                assert await redis.get(f"{ns}:update:{uid}") == b"1"  # handled once
            assert await redis.zcard(f"{ns}:order:703") == 0
        finally:
            await redis.aclose()


async def test_a_refused_webhook_url_stops_the_start_with_one_line(sqlite_url: str) -> None:
    from bot.app import BotRunner, StartupFault
    from bot.db.migrate import upgrade_async
    from bot.demo.stage import stage_settings
    from bot.fakeapi.server import FakeBotAPI

    await upgrade_async(sqlite_url)
    async with FakeBotAPI(token=TOKEN) as fake:
        settings = stage_settings(
            sqlite_url,
            fake.base_url,
            [ADMIN],
            telegram={"mode": "webhook"},
            webhook={"port": 0, "secret": SECRET, "url": "http://example.org/tg/webhook"},
        )
        runner = BotRunner(settings, run_clock=False)
        with pytest.raises(StartupFault, match=r"refused the webhook .*check webhook\.url"):
            await runner.run(handle_signals=False)
        assert not fake.webhook.active
