"""A crash mid-broadcast and several engines on one database: nothing lost, nothing doubled."""

from __future__ import annotations

from collections.abc import Sequence

from bot.db.models.delivery import OutboxMessage
from bot.delivery.outbox import enqueue
from bot.services.notices import Notice
from tests.conftest import wait_until
from tests.delivery.conftest import World

HELLO = Notice("broadcast.message", {"text": "社区通知：周六上午义诊"})
TERMINAL = {"delivered", "blocked", "invalid", "failed", "unknown"}


async def _broadcast(world: World, count: int, key: str) -> list[int]:
    ids = await world.people(count)
    async with world.app.sessions() as session:
        await enqueue(session, notice=HELLO, user_ids=ids, batch_key=key)
        await session.commit()
    return ids


async def _check_books(world: World, rows: Sequence[OutboxMessage]) -> None:
    """What the fake received agrees with the terminal states, recipient by recipient."""
    telegram = await world.telegram_ids()
    received = world.fake.delivery_counts()
    for row in rows:
        assert row.status in TERMINAL, (row.id, row.status)
        got = received.get(telegram[row.user_id or 0], 0)
        if row.status == "delivered":
            assert got == 1, (row.id, got)  # not lost, not doubled
        elif row.status == "unknown":
            assert got <= 1, (row.id, got)  # maybe arrived, never resent
        else:
            assert got == 0, (row.id, row.status, got)  # refused: nothing arrived


async def test_killed_mid_broadcast_a_new_engine_finishes_it_without_doubles(
    any_db_world: World,
) -> None:
    world = any_db_world
    await _broadcast(world, 300, "bc:crash")
    share = 0.05 / 5
    world.fake.set_faults(
        rate_429=share,
        rate_403=share,
        rate_400=share,
        rate_5xx=share,
        rate_timeout=share,
        timeout_delay=2.0,
        seed=7,
    )
    bot = world.fake.make_bot(timeout=0.5)
    first = world.engine(bot=bot, rate=150, max_per_second=150, concurrency=20)
    await first.start()
    # Let it get well into the broadcast, then pull the plug mid-flight.
    await wait_until(lambda: len(world.fake.deliveries) >= 100, timeout=20)
    await first.kill()
    sent_before = len(world.fake.deliveries)
    assert sent_before < 300
    in_flight = [r for r in await world.rows("bc:crash") if r.status == "sending"]
    assert in_flight, "the kill should leave claimed rows behind"

    second = world.engine(bot=bot, rate=150, max_per_second=150, concurrency=20)
    await second.start()
    try:
        await second.drain(timeout=60)
    finally:
        await second.stop()
        await bot.session.close()
    rows = await world.rows("bc:crash")
    await _check_books(world, rows)
    assert second.stats["delivered"] > 0
    assert len(world.fake.deliveries) > sent_before
    states = {r.status for r in rows}
    assert "delivered" in states and states <= TERMINAL
    # Claimed-but-never-attempted rows went back to pending and were delivered by the second.
    taken_over = {r.id for r in in_flight}
    assert any(r.id in taken_over and r.claimed_by == second.id for r in rows)


async def test_two_engines_on_one_database_never_send_a_row_twice(any_db_world: World) -> None:
    world = any_db_world
    await _broadcast(world, 240, "bc:two")
    one = world.engine(rate=120, max_per_second=120, batch_size=20, engine_id="one")
    two = world.engine(rate=120, max_per_second=120, batch_size=20, engine_id="two")
    await one.start()
    await two.start()
    try:
        await one.drain(timeout=60)
        await two.drain(timeout=60)
    finally:
        await one.stop()
        await two.stop()
    rows = await world.rows("bc:two")
    assert [r.status for r in rows] == ["delivered"] * 240
    await _check_books(world, rows)
    assert one.stats["delivered"] + two.stats["delivered"] == 240
    assert one.stats["delivered"] > 0 and two.stats["delivered"] > 0
    assert {r.claimed_by for r in rows} == {"one", "two"}


async def test_a_stopped_engine_gives_back_what_it_had_not_sent(world: World) -> None:
    await _broadcast(world, 60, "bc:stop")
    engine = world.engine(rate=10, max_per_second=10, batch_size=40)
    await engine.start()
    await wait_until(lambda: len(world.fake.deliveries) >= 3, timeout=10)
    await engine.stop()
    rows = await world.rows("bc:stop")
    statuses = {r.status for r in rows}
    assert statuses <= {"delivered", "pending"} and "pending" in statuses
    assert all(
        r.claimed_by is None and r.attempted_at is None for r in rows if r.status == "pending"
    )
    again = world.engine(rate=200, max_per_second=200)
    await again.start()
    try:
        await again.drain(timeout=20)
    finally:
        await again.stop()
    rows = await world.rows("bc:stop")
    assert [r.status for r in rows] == ["delivered"] * 60
    await _check_books(world, rows)


async def test_restarted_under_the_same_name_it_takes_its_rows_back_at_once(world: World) -> None:
    await _broadcast(world, 120, "bc:same")
    first = world.engine(engine_id="bot-1", lease_seconds=300, rate=60, max_per_second=60)
    await first.start()
    await wait_until(lambda: len(world.fake.deliveries) >= 20, timeout=20)
    await first.kill()
    left = [r for r in await world.rows("bc:same") if r.status == "sending"]
    assert left and all(r.claimed_by == "bot-1" for r in left)
    # Without the name it would wait out the 300 s lease; with it, the rows come back now.
    again = world.engine(engine_id="bot-1", lease_seconds=300, rate=200, max_per_second=200)
    await again.start()
    try:
        await again.drain(timeout=20)
    finally:
        await again.stop()
    rows = await world.rows("bc:same")
    await _check_books(world, rows)
    assert {r.status for r in rows} <= {"delivered", "unknown"}
