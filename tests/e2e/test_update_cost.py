"""What one update costs in SQL statements (counted, never timed), and an idle bot's polling.

Before: a registered user's `/start` read the user and then each profile and grid in its own
SELECT (5 for the person alone); the outbox claimer took SQLite's write lock every 0.2 s
even with nothing to send.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.demo.stage import Stage
from bot.services.people import actors
from tests.conftest import ManualClock
from tests.e2e.seed import resident, volunteer

pytestmark = pytest.mark.e2e


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def kinds(seen: list[str]) -> collections.Counter[str]:
    return collections.Counter(
        "BEGIN IMMEDIATE" if s.startswith("BEGIN IMMEDIATE") else s.split()[0].upper() for s in seen
    )


def person_reads(seen: list[str]) -> int:
    """Statements that read the person: users or one of their profiles."""
    return sum(
        1
        for s in seen
        if s.startswith("SELECT")
        and any(f"FROM {t} " in s + " " for t in ("users", "residents", "volunteers", "staff"))
    )


async def _quiet_stage(stage: Stage) -> AsyncEngine:
    """The update's own statements only: the outbox engine polls on the same engine."""
    assert stage.runner is not None
    await stage.runner.delivery.stop()
    engine = stage.runner.engine
    assert engine is not None
    return engine


async def test_start_of_a_registered_user_reads_the_person_once(
    sqlite_url: str, clock: ManualClock
) -> None:
    async with Stage(sqlite_url, clock=clock) as stage:
        ann = stage.person(101, "张阿姨")
        await resident(stage, ann)
        engine = await _quiet_stage(stage)
        with statements(engine) as seen:
            await ann.say("/start", expect="使用说明")
            await stage.fake.settle()
        counts = kinds(seen)
        assert person_reads(seen) == 1, seen  # was 5: user, staff, resident, volunteer, grid
        # The person and the conversation state in one read (was 4 SELECTs, 10 statements).
        assert counts["SELECT"] == 1 and "fsm_state" in seen[-1], seen
        assert len(seen) <= 2, seen  # was 13 (and ~20 with the outbox's polling)
        assert counts["UPDATE"] == 0, seen  # nothing about the person changed: no write


async def test_wish_to_card_stays_under_its_statement_ceiling(
    sqlite_url: str, clock: ManualClock
) -> None:
    async with Stage(sqlite_url, clock=clock) as stage:
        ann = stage.person(101, "张阿姨")
        await resident(stage, ann)
        engine = await _quiet_stage(stage)
        with statements(engine) as seen:
            await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
            await stage.fake.settle()
        counts = kinds(seen)
        assert sum(1 for s in seen if "FROM users" in s) == 1, seen
        assert not any("FROM grids" in s for s in seen), seen  # no profile loaded whole
        # The person with the state, the resident's limits, their recent wishes (duplicates).
        assert counts["SELECT"] <= 3, seen  # was 11; then 8 (state read again per write); 4
        assert len(seen) <= 6, seen  # was 17 (32 SELECTs with the outbox's polling); 14; 7


async def test_an_idle_outbox_is_polled_with_reads_only(
    sqlite_url: str, clock: ManualClock
) -> None:
    async with Stage(sqlite_url, clock=clock) as stage:
        engine = await _quiet_stage(stage)
        assert stage.runner is not None
        delivery = stage.runner.delivery
        with statements(engine) as seen:
            for _ in range(5):
                assert await delivery._claim(10) == 0
            await delivery._recover()
        counts = kinds(seen)
        assert counts["SELECT"] == 6, seen
        assert counts["BEGIN IMMEDIATE"] == 0 and counts["UPDATE"] == 0, seen


async def test_one_row_actor_matches_the_profiles(sqlite_url: str, clock: ManualClock) -> None:
    async with Stage(sqlite_url, admins=(9001,), clock=clock) as stage:
        await stage.person(9001, "王主任").say("/start")
        ann = stage.person(101, "张阿姨")
        li = stage.person(201, "李明")
        await resident(stage, ann)
        await volunteer(stage, li, grid="G01")
        for person in (ann, li, stage.person(9001, "王主任")):
            async with stage.app.sessions() as session:
                one_row = await actors.touch_actor(session, person.id, person.user.first_name, "")
                user, _ = await actors.touch_user(session, person.id, person.user.first_name, "")
                assert one_row == actors.actor_of(user)


async def test_start_takes_no_write_lock_and_a_wish_takes_it_once(
    sqlite_url: str, clock: ManualClock
) -> None:
    """Before: `/start` cleared the (already clear) conversation state with two write
    transactions, and a wish stored its draft with two more (set_state, then set_data)."""
    async with Stage(sqlite_url, clock=clock) as stage:
        ann = stage.person(101, "张阿姨")
        await resident(stage, ann)
        engine = await _quiet_stage(stage)
        await ann.say("/start", expect="使用说明")
        with statements(engine) as seen:
            await ann.say("/start", expect="使用说明")
            await stage.fake.settle()
        assert kinds(seen)["BEGIN IMMEDIATE"] == 0, seen
        with statements(engine) as seen:
            await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
            await stage.fake.settle()
        counts = kinds(seen)
        assert counts["BEGIN IMMEDIATE"] == 1, seen
        assert counts["INSERT"] + counts["UPDATE"] == 1, seen
        assert sum(1 for s in seen if "FROM conversation_state" in s) == 1, seen  # read once


def test_no_filter_runs_in_the_thread_pool() -> None:
    """aiogram sends sync filters (magic ``F.`` filters, ``State`` objects) through
    ``asyncio.to_thread``; the dispatcher wraps them all so none hops threads."""
    from aiogram.fsm.storage.memory import MemoryStorage

    from bot.config import Settings
    from bot.services.context import AppContext
    from bot.tg.dispatcher import build_dispatcher

    app = AppContext(settings=Settings(), sessions=None, notifier=None)  # type: ignore[arg-type]
    dp = build_dispatcher(app, MemoryStorage())
    sync = [
        (router.name, name, flt.callback)
        for router in dp.chain_tail
        for name, observer in router.observers.items()
        for handler in observer.handlers
        for flt in handler.filters or ()
        if not flt.awaitable
    ]
    assert sync == []


async def test_a_new_telegram_name_is_stored_after_the_answer(
    sqlite_url: str, clock: ManualClock
) -> None:
    """Before: a new Telegram name took the write lock (and reloaded the person's whole ORM
    graph) before the handler ran; fifty volunteers new to the bot pressing Claim at once
    queued for SQLite's write lock ahead of their answers."""
    from sqlalchemy import select

    from bot.db.models import User

    async with Stage(sqlite_url, clock=clock) as stage:
        ann = stage.person(101, "张阿姨")
        await resident(stage, ann)
        engine = await _quiet_stage(stage)
        renamed = stage.person(101, "张阿姨（三栋）")
        with statements(engine) as seen:
            await renamed.say("/start", expect="使用说明")
            await stage.fake.settle()
        assert person_reads(seen) == 1, seen  # no reload of the user and its profiles
        assert sum(1 for s in seen if s.startswith("UPDATE users")) == 1, seen
        async with stage.app.sessions() as session:
            name = await session.scalar(select(User.display_name).where(User.telegram_id == 101))
        assert name == "张阿姨（三栋）"


async def test_a_rename_noted_before_an_erasure_does_not_bring_the_name_back(
    sqlite_url: str, clock: ManualClock
) -> None:
    from sqlalchemy import select

    from bot.db.models import User

    async with Stage(sqlite_url, clock=clock) as stage:
        ann = stage.person(101, "张阿姨")
        await resident(stage, ann)
        async with stage.app.sessions() as session:
            await actors.touch_actor(session, 101, "张阿姨（新）", "zh-CN", rename_later=True)
            uid = await session.scalar(select(User.id).where(User.telegram_id == 101))
            assert uid is not None
            await actors.erase_user(stage.app, session, uid)
            await actors.store_rename(session)
        async with stage.app.sessions() as session:
            name = await session.scalar(select(User.display_name).where(User.id == uid))
        assert name != "张阿姨（新）" and name != "张阿姨"


async def test_start_up_objects_are_kept_out_of_the_cyclic_gc(
    sqlite_url: str, clock: ManualClock
) -> None:
    """Before: a full GC pass over everything start-up built (~350,000 objects) took 0.3-1.5 s
    and stalled every update in flight; measured once per ~300 `/start`s."""
    import gc

    async with Stage(sqlite_url, clock=clock) as stage:
        await stage.person(101, "张阿姨").say("/start")
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0  # stopped: back to normal collection
