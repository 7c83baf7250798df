"""ChatOrder: updates of one chat in progress together go lowest update id first, whatever
order they arrived in; across two workers through Redis; a lower update that never finishes
holds the chat only `wait_seconds`."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.tg.webhook import ChatOrder, RedisChatOrder


async def _arrive(order: ChatOrder, uid: int, done: list[int], gate: asyncio.Event) -> None:
    async with order.turn(42, uid):
        done.append(uid)
        if uid == 1:
            await gate.wait()  # the first is slow: the others arrive meanwhile


async def _shuffled_arrivals(first: ChatOrder, second: ChatOrder) -> list[int]:
    done: list[int] = []
    gate = asyncio.Event()
    tasks = [asyncio.create_task(_arrive(first, 1, done, gate))]
    await asyncio.sleep(0.05)
    for uid, order in ((4, second), (2, first), (5, second), (3, first)):  # out of order
        tasks.append(asyncio.create_task(_arrive(order, uid, done, gate)))
        await asyncio.sleep(0.02)
    assert done == [1]  # nobody overtakes the update in progress
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    return done


async def test_waiting_updates_go_lowest_id_first() -> None:
    order = ChatOrder(wait_seconds=5)
    assert await _shuffled_arrivals(order, order) == [1, 2, 3, 4, 5]


@pytest.mark.redis
async def test_two_workers_keep_one_chats_order_through_redis(redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    first = RedisChatOrder(redis_url, 5, namespace)
    second = RedisChatOrder(redis_url, 5, namespace)
    try:
        assert await _shuffled_arrivals(first, second) == [1, 2, 3, 4, 5]
    finally:
        await first.close()
        await second.close()


async def test_a_lower_update_that_never_finishes_holds_the_chat_only_so_long() -> None:
    order = ChatOrder(wait_seconds=0.3)
    stuck = asyncio.Event()

    async def dead_worker() -> None:
        async with order.turn(7, 10):
            await stuck.wait()

    holder = asyncio.create_task(dead_worker())
    await asyncio.sleep(0.02)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with order.turn(7, 11):
        waited = loop.time() - started
    assert 0.25 <= waited < 2 and order.out_of_order == 1
    stuck.set()
    await holder
