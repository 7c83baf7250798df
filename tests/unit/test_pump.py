"""The update pump: one chat in order, chats concurrent, only finished updates confirmed."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.engine import make_session_factory
from bot.fakeapi.server import FakeBotAPI
from bot.tg.chatlock import ChatLocks
from bot.tg.pump import UpdatePump
from bot.tg.throttle import Throttle


class Recorder:
    def __init__(self) -> None:
        self.started: dict[int, list[str]] = defaultdict(list)
        self.finished: list[tuple[int, str]] = []
        self.running = 0
        self.most_running = 0
        self.release = asyncio.Event()
        self.hold_texts: set[str] = set()

    def router(self) -> Router:
        router = Router()

        @router.message()
        async def record(message: Message) -> None:
            text = message.text or ""
            self.started[message.chat.id].append(text)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            try:
                await asyncio.sleep(0.02)
                if text in self.hold_texts:
                    await self.release.wait()
                await message.answer(f"done {text}")
                self.finished.append((message.chat.id, text))
            finally:
                self.running -= 1

        return router


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token="42:TEST") as server:
        yield server


def _pump(fake: FakeBotAPI, bot: Bot, recorder: Recorder, **kwargs: object) -> UpdatePump:
    dp = Dispatcher()
    dp.include_router(recorder.router())
    sessions = make_session_factory(create_async_engine("sqlite+aiosqlite://"))
    return UpdatePump(dp, bot, sessions, max_concurrent=8, polling_timeout=1, **kwargs)  # type: ignore[arg-type]


async def test_one_chat_in_order_and_different_chats_at_once(fake: FakeBotAPI) -> None:
    recorder = Recorder()
    bot = fake.make_bot()
    pump = _pump(fake, bot, recorder)
    people = [fake.user(100 + i, f"P{i}") for i in range(5)]
    for n in range(6):
        for person in people:
            await fake.send_text(person, f"{person.id}-{n}")
    task = asyncio.create_task(pump.run())
    try:
        await fake.wait_for(lambda: len(recorder.finished) == 30, timeout=10)
    finally:
        await pump.drain(1)
        await task
        await bot.session.close()
    for person in people:
        assert recorder.started[person.id] == [f"{person.id}-{n}" for n in range(6)]
        assert [m.text for m in fake.messages(person.id)] == [
            f"done {person.id}-{n}" for n in range(6)
        ]
    assert recorder.most_running > 1  # different people were handled concurrently
    assert pump._queues == {}  # idle chats leave nothing behind


async def test_stop_confirms_only_finished_updates_and_the_rest_come_again(
    fake: FakeBotAPI,
) -> None:
    recorder = Recorder()
    recorder.hold_texts = {"slow"}
    bot = fake.make_bot()
    pump = _pump(fake, bot, recorder)
    ann, bob = fake.user(201, "Ann"), fake.user(202, "Bob")
    await fake.send_text(ann, "fast")
    await fake.send_text(bob, "slow")
    await fake.send_text(bob, "after-slow")  # queued behind "slow" in Bob's chat
    task = asyncio.create_task(pump.run())
    await fake.wait_for(lambda: ("201", "fast") in {(str(c), t) for c, t in recorder.finished})
    await fake.wait_for(lambda: "slow" in recorder.started[202])
    left = await pump.drain(0.2)  # "slow" does not finish in time: it is cancelled
    await task
    assert left == 2
    assert recorder.finished == [(201, "fast")]

    recorder.hold_texts = set()
    again = _pump(fake, bot, recorder)  # the restart
    task = asyncio.create_task(again.run())
    try:
        await fake.wait_for(lambda: len(recorder.finished) == 3, timeout=10)
    finally:
        await again.drain(1)
        await task
        await bot.session.close()
    assert recorder.finished == [(201, "fast"), (202, "slow"), (202, "after-slow")]
    assert [m.text for m in fake.messages(202)] == ["done slow", "done after-slow"]
    assert [m.text for m in fake.messages(201)] == ["done fast"]  # not handled twice


async def test_throttle_one_notice_then_silence_then_back() -> None:
    now = [0.0]
    throttle = Throttle(3, 10.0, 30.0, clock=lambda: now[0])
    verdicts = [throttle.check(7) for _ in range(6)]
    assert verdicts == ["ok", "ok", "ok", "notice", "ignore", "ignore"]
    assert throttle.check(8) == "ok"  # somebody else is not affected
    now[0] = 31.0
    assert throttle.check(7) == "ok"  # after the cool-down
    now[0] = 100.0
    throttle.check(9)
    assert len(throttle) == 1  # idle people are forgotten


async def test_chat_locks_serialise_one_key_and_forget_idle_keys() -> None:
    locks = ChatLocks()
    order: list[str] = []

    async def work(key: int, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name}+")
            await asyncio.sleep(0.01)
            order.append(f"{name}-")

    await asyncio.gather(work(1, "a"), work(1, "b"), work(2, "c"))
    assert order.index("a-") < order.index("b+")
    assert len(locks) == 0


@pytest.mark.redis
async def test_redis_chat_locks_keep_one_person_in_order_across_processes(
    redis_url: str,
) -> None:
    from bot.tg.chatlock import RedisChatLocks

    namespace = f"test-{id(object())}"
    # Two lock sets stand for two bot processes sharing one Redis.
    first = RedisChatLocks(redis_url, lock_seconds=5, namespace=namespace)
    second = RedisChatLocks(redis_url, lock_seconds=5, namespace=namespace)
    order: list[str] = []

    async def work(locks: ChatLocks, key: int, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name}+")
            await asyncio.sleep(0.05)
            order.append(f"{name}-")

    try:
        await asyncio.gather(work(first, 1, "a"), work(second, 1, "b"), work(second, 2, "c"))
    finally:
        await first.close()
        await second.close()
    a, b = (order.index("a+"), order.index("a-")), (order.index("b+"), order.index("b-"))
    assert a[1] < b[0] or b[1] < a[0]  # never both inside for the same person
    assert order.index("c+") < max(a[1], b[1])  # someone else was not kept waiting
