"""Timers fire exactly once: with two dispatching processes on one database, and after downtime."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models.timers import Timer
from bot.scheduler.timers import TIMER_HANDLERS, fire_due, schedule
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from tests.conftest import ManualClock

FIRED: list[tuple[str, Any]] = []


async def _record(app: AppContext, payload: dict[str, Any], due_at: Any) -> None:
    await asyncio.sleep(0.01)  # give the other dispatcher a chance to race for the same row
    FIRED.append((str(payload["n"]), due_at))


def _app(url: str, clock: ManualClock) -> AppContext:
    engine = make_engine(url)
    return AppContext(
        settings=Settings(database={"url": url}),
        sessions=make_session_factory(engine),
        notifier=RecordingNotifier(),
        clock=clock,
    )


async def test_two_dispatchers_fire_each_timer_once(db_url: str, clock: ManualClock) -> None:
    await upgrade_async(db_url)
    TIMER_HANDLERS["test.record"] = _record
    FIRED.clear()
    first, second = _app(db_url, clock), _app(db_url, clock)
    async with first.sessions() as session:
        for n in range(40):
            schedule(
                session,
                kind="test.record",
                key=f"t:{n}",
                due_at=clock.now + timedelta(minutes=n % 5),
                payload={"n": n},
            )
        await session.commit()
    clock.advance(minutes=10)
    counts = await asyncio.gather(
        fire_due(first, worker="a"), fire_due(second, worker="b"), fire_due(first, worker="c")
    )
    assert sum(counts) == 40
    assert sorted(int(n) for n, _ in FIRED) == list(range(40))  # each once
    assert await fire_due(second, worker="b") == 0  # nothing left
    async with first.sessions() as session:
        from sqlalchemy import func, select

        assert (
            await session.scalar(
                select(func.count()).select_from(Timer).where(Timer.status == "done")
            )
            == 40
        )


async def test_a_timer_missed_while_down_fires_once_late(db_url: str, clock: ManualClock) -> None:
    await upgrade_async(db_url)
    TIMER_HANDLERS["test.record"] = _record
    FIRED.clear()
    app = _app(db_url, clock)
    due = clock.now + timedelta(hours=1)
    async with app.sessions() as session:
        schedule(session, kind="test.record", key="late", due_at=due, payload={"n": "late"})
        # The same key again (e.g. a retried request) keeps one row.
        await session.commit()
    clock.advance(hours=30)  # the bot was down through the due time
    restarted = _app(db_url, clock)
    assert await fire_due(restarted) == 1
    assert await fire_due(restarted) == 0
    assert [("late", due)] == FIRED  # the original due time is what the handler sees


async def test_a_failing_timer_is_retried_then_marked_failed(
    sqlite_url: str, clock: ManualClock
) -> None:
    await upgrade_async(sqlite_url)

    async def boom(app: AppContext, payload: dict[str, Any], due_at: Any) -> None:
        raise RuntimeError("no")

    TIMER_HANDLERS["test.boom"] = boom
    app = _app(sqlite_url, clock)
    async with app.sessions() as session:
        schedule(session, kind="test.boom", key="boom", due_at=clock.now, payload={})
        await session.commit()
    for _ in range(6):
        await fire_due(app)
        clock.advance(hours=1)
    async with app.sessions() as session:
        from sqlalchemy import select

        timer = (await session.scalars(select(Timer))).one()
        assert timer.status == "failed" and timer.attempts == 5 and "no" in (timer.last_error or "")
