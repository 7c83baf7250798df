"""The delivery engine against the fake Bot API server: outcomes, faults, priority, crashes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from bot.db.models import User
from bot.db.tx import begin_write
from bot.delivery.outbox import BULK, INTERACTIVE, batch_counts, enqueue
from bot.services.notices import Notice
from tests.conftest import wait_until
from tests.delivery.conftest import World

HELLO = Notice("common.cancelled")  # any plain locale key will do


async def _enqueue(
    world: World,
    user_ids: list[int],
    key: str,
    priority: int = BULK,
    notice: Notice = HELLO,
) -> int:
    async with world.app.sessions() as session:
        await begin_write(session)  # the engine may be writing too
        added = await enqueue(
            session, notice=notice, user_ids=user_ids, batch_key=key, priority=priority
        )
        await session.commit()
    return added


async def _statuses(world: World, key: str) -> dict[str, int]:
    async with world.app.sessions() as session:
        return await batch_counts(session, key)


async def test_every_recipient_gets_exactly_one_message_and_a_delivered_row(world: World) -> None:
    assert await _enqueue(world, await world.people(40), "t:1") == 40
    engine = world.engine(rate=200, max_per_second=200)
    await engine.start()
    try:
        await engine.drain(timeout=20)
    finally:
        await engine.stop()
    rows = await world.rows("t:1")
    assert [r.status for r in rows] == ["delivered"] * 40
    counts = world.fake.delivery_counts()
    telegram = await world.telegram_ids()
    for row in rows:
        assert row.user_id is not None
        chat = telegram[row.user_id]
        assert counts[chat] == 1 and row.sent_chat_id == chat
        assert row.message_id == world.fake.last(chat).message_id
        assert row.attempted_at is not None and row.finished_at is not None
    assert "已取消" in world.fake.last(telegram[rows[0].user_id or 0]).text


async def test_enqueue_twice_adds_nobody_twice(world: World) -> None:
    ids = await world.people(5)
    assert await _enqueue(world, ids[:3], "t:dup") == 3
    assert await _enqueue(world, ids, "t:dup") == 2  # only the two new ones
    assert await _enqueue(world, ids, "t:dup") == 0
    assert await _enqueue(world, ids[:1], "t:other") == 1  # another batch is another message
    assert len(await world.rows("t:dup")) == 5


async def test_recipients_read_it_in_their_own_language(world: World) -> None:
    zh, en = await world.people(2)
    async with world.app.sessions() as session:
        user = await session.get(User, en)
        assert user is not None
        user.language = "en"
        await session.commit()
    await _enqueue(world, [zh, en], "t:lang")
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    telegram = await world.telegram_ids()
    assert "已取消" in world.fake.last(telegram[zh]).text
    assert "Cancelled" in world.fake.last(telegram[en]).text


async def test_blocked_user_is_marked_and_not_tried_again(world: World) -> None:
    ids = await world.people(3)
    telegram = await world.telegram_ids()
    world.fake.block(telegram[ids[1]])
    await _enqueue(world, ids, "t:403")
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
        statuses = {r.user_id: r.status for r in await world.rows("t:403")}
        assert statuses == {ids[0]: "delivered", ids[1]: "blocked", ids[2]: "delivered"}
        async with world.app.sessions() as session:
            blocked = await session.get(User, ids[1])
            assert blocked is not None and blocked.is_blocked
        # The next batch does not even try: the row is closed as blocked at once.
        await _enqueue(world, [ids[1]], "t:403b")
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    (row,) = await world.rows("t:403b")
    assert row.status == "blocked" and row.attempted_at is None
    assert world.fake.delivery_counts()[telegram[ids[1]]] == 0


async def test_chat_not_found_is_invalid(world: World) -> None:
    known = await world.people(1)
    stranger = await world.people(1, start=70_000, known=False)  # never started the bot
    await _enqueue(world, known + stranger, "t:400")
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    rows = {r.user_id: r for r in await world.rows("t:400")}
    assert rows[known[0]].status == "delivered"
    assert rows[stranger[0]].status == "invalid"
    assert "chat not found" in (rows[stranger[0]].error or "")


async def test_server_errors_are_retried_with_backoff_then_failed(world: World) -> None:
    ids = await world.people(1)
    world.fake.set_faults(rate_5xx=1.0, seed=3)
    await _enqueue(world, ids, "t:5xx")
    engine = world.engine(max_retries=3)
    started = time.monotonic()
    await engine.start()
    try:
        await engine.drain(timeout=15)
    finally:
        await engine.stop()
    (row,) = await world.rows("t:5xx")
    assert row.status == "failed" and row.attempts == 2  # two retries, then the third try failed
    assert "3 tries" in (row.error or "")
    assert time.monotonic() - started >= 0.4 + 0.8  # backoff 0.5 s then 1 s (±20%)
    assert not world.fake.deliveries


async def test_a_server_error_then_success_delivers_once(world: World) -> None:
    ids = await world.people(1)
    world.fake.set_faults(rate_5xx=1.0, seed=3)
    await _enqueue(world, ids, "t:5xx-ok")
    engine = world.engine(max_retries=5)
    await engine.start()
    try:

        async def retried() -> bool:
            (row,) = await world.rows("t:5xx-ok")
            return row.attempts >= 1

        await _wait_async(retried)
        world.fake.clear_faults()
        await engine.drain(timeout=15)
    finally:
        await engine.stop()
    (row,) = await world.rows("t:5xx-ok")
    assert row.status == "delivered" and row.attempts >= 1
    assert list(world.fake.delivery_counts().values()) == [1]


async def test_time_out_is_unknown_and_never_resent(world: World) -> None:
    ids = await world.people(2)
    world.fake.set_faults(rate_timeout=1.0, timeout_delay=5.0, seed=1)
    await _enqueue(world, ids[:1], "t:timeout")
    engine = world.engine(bot=world.fake.make_bot(timeout=0.3))
    await engine.start()
    try:
        await engine.drain(timeout=10)
        world.fake.clear_faults()
        await _enqueue(world, ids[1:], "t:after")  # the engine is still alive and sending
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
        await engine.bot.session.close()
    (row,) = await world.rows("t:timeout")
    assert row.status == "unknown" and "timeout" in (row.error or "").lower()
    telegram = await world.telegram_ids()
    counts = world.fake.delivery_counts()
    assert counts[telegram[ids[0]]] == 1  # it did arrive: that is why it must not be resent
    assert counts[telegram[ids[1]]] == 1


async def test_429_pauses_the_whole_token_then_retries(world: World) -> None:
    ids = await world.people(3)
    world.fake.set_faults(rate_429=1.0, retry_after=1, seed=1)
    await _enqueue(world, ids, "t:429")
    engine = world.engine()
    started = time.monotonic()
    await engine.start()
    try:

        async def refused() -> bool:
            return any(r.error == "429" for r in await world.rows("t:429"))

        await _wait_async(refused)
        world.fake.clear_faults()
        await engine.drain(timeout=15)
    finally:
        await engine.stop()
    assert [r.status for r in await world.rows("t:429")] == ["delivered"] * 3
    assert engine.limiter.paused_seconds >= 1.0
    # Nothing was sent before retry_after had passed, to anyone.
    assert min(d.ts for d in world.fake.deliveries) >= started + 1.0
    assert sorted(world.fake.delivery_counts().values()) == [1, 1, 1]


async def test_interactive_rows_go_before_bulk_already_waiting(world: World) -> None:
    bulk = await world.people(40)
    urgent = await world.people(3, start=80_000)
    await _enqueue(world, bulk, "t:bulk", priority=BULK)
    engine = world.engine(rate=20, max_per_second=20, batch_size=30)
    await engine.start()
    try:
        await wait_until(lambda: len(world.fake.deliveries) >= 5, timeout=10)
        await _enqueue(world, urgent, "t:urgent", priority=INTERACTIVE)
        mark = len(world.fake.deliveries)
        await engine.drain(timeout=30)
    finally:
        await engine.stop()
    order = [d.chat_id for d in world.fake.deliveries]
    telegram = await world.telegram_ids()
    positions = [order.index(telegram[uid]) for uid in urgent]
    # Out within the few sends already granted when they arrived, ahead of ~30 bulk ones.
    assert max(positions) <= mark + 10, (mark, positions)
    assert Counter(order).most_common(1)[0][1] == 1


async def test_sends_stay_within_telegram_limits(world: World) -> None:
    """The fake enforces Telegram's limits (429 past them): no 429 may happen."""
    world.fake.enforce_limits = True
    ids = await world.people(70)
    await _enqueue(world, ids, "t:rate")
    # Three messages to one person: 1 per second per private chat.
    one = ids[0]
    await _enqueue(world, [one], "t:rate2")
    await _enqueue(world, [one], "t:rate3")
    engine = world.engine(rate=30, max_per_second=30)
    await engine.start()
    try:
        await engine.drain(timeout=30)
    finally:
        await engine.stop()
    assert world.fake.max_in_any_window(1.0) <= 30
    telegram = await world.telegram_ids()
    assert world.fake.max_in_any_window(1.0, chat_id=telegram[one]) == 1
    assert world.fake.delivery_counts()[telegram[one]] == 3
    assert engine.stats["retried"] == 0 and engine.stats["delivered"] == 72


async def test_group_chat_messages_are_rendered_in_the_default_language(world: World) -> None:
    world.fake.group(-100500, "第二网格联络群")
    async with world.app.sessions() as session:
        await enqueue(session, notice=HELLO, chat_ids=[-100500], batch_key="t:group")
        await session.commit()
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    (row,) = await world.rows("t:group")
    assert row.status == "delivered" and row.sent_chat_id == -100500
    assert "已取消" in world.fake.last(-100500).text


async def test_broadcast_message_keeps_the_staff_words_and_photo(world: World) -> None:
    ids = await world.people(1)
    photo = await _uploaded_photo(world)
    notice = Notice("broadcast.message", {"text": "周六义诊 {不是占位符}", "photo": photo})
    await _enqueue(world, ids, "t:photo", notice=notice)
    engine = world.engine()
    await engine.start()
    try:
        await engine.drain(timeout=10)
    finally:
        await engine.stop()
    telegram = await world.telegram_ids()
    last = world.fake.last(telegram[ids[0]])
    assert last.text == "周六义诊 {不是占位符}" and last.kind == "photo"


async def _uploaded_photo(world: World) -> str:
    """A file id the fake knows: what a staff member's photo message would carry."""
    staff = world.fake.user(99_001, "王主任")
    await world.fake.send_photo(staff, caption="x")
    updates = await world.bot.get_updates(timeout=0)
    message = updates[-1].message
    assert message is not None and message.photo
    return message.photo[-1].file_id


async def _wait_async(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """wait_until for a condition that needs the database."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
