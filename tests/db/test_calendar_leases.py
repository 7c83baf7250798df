"""Calendar jobs run once per due time across workers (the calendar_runs lease row), on SQLite
and PostgreSQL; a later due time runs again; workers firing apart agree on the due time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models.timers import CalendarRun
from bot.scheduler.clock import CalendarJob
from bot.scheduler.leases import due_time, run_once
from bot.services.context import AppContext
from bot.services.notices import RecordingNotifier
from tests.conftest import ManualClock


def _app(url: str, clock: ManualClock) -> AppContext:
    return AppContext(
        settings=Settings(database={"url": url}),
        sessions=make_session_factory(make_engine(url)),
        notifier=RecordingNotifier(),
        clock=clock,
    )


async def test_three_workers_run_a_due_time_once(db_url: str, clock: ManualClock) -> None:
    await upgrade_async(db_url)
    runs: list[str] = []

    async def statements(app: AppContext) -> object:
        await asyncio.sleep(0.02)  # long enough for the others to try meanwhile
        runs.append("sent")
        return None

    job = CalendarJob("monthly_statements", {"day": "1", "hour": "9"}, statements)
    workers = [_app(db_url, clock) for _ in range(3)]
    due = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    ran = await asyncio.gather(*(run_once(app, job, due, f"w{n}") for n, app in enumerate(workers)))
    assert sorted(ran) == [False, False, True] and runs == ["sent"]
    # The next month is a new due time: it runs again, once.
    later = due + timedelta(days=31)
    ran = await asyncio.gather(
        *(run_once(app, job, later, f"w{n}") for n, app in enumerate(workers))
    )
    assert ran.count(True) == 1 and runs == ["sent", "sent"]
    async with workers[0].sessions() as session:
        rows = list(await session.scalars(select(CalendarRun).order_by(CalendarRun.due_at)))
    assert [(r.job, r.due_at) for r in rows] == [
        ("monthly_statements", due),
        ("monthly_statements", later),
    ]
    assert all(r.finished_at is not None and r.error is None for r in rows)


async def test_a_failing_job_is_recorded_and_not_rerun_for_that_due_time(
    sqlite_url: str, clock: ManualClock
) -> None:
    await upgrade_async(sqlite_url)
    app = _app(sqlite_url, clock)

    async def broken(app: AppContext) -> object:
        raise RuntimeError("mail server down")

    job = CalendarJob("award_missing", {"minute": "17"}, broken)
    due = datetime(2026, 12, 1, 1, 17, tzinfo=UTC)
    assert await run_once(app, job, due, "w1") is True
    assert await run_once(app, job, due, "w2") is False
    async with app.sessions() as session:
        row = await session.scalar(select(CalendarRun))
    assert row is not None and "mail server down" in (row.error or "")


def test_workers_firing_apart_agree_on_the_due_time() -> None:
    trigger = CronTrigger(minute="17", timezone="Asia/Shanghai")
    base = datetime(2026, 12, 1, 10, 17, tzinfo=UTC)
    on_time = due_time(trigger, base + timedelta(seconds=1))
    late = due_time(trigger, base + timedelta(minutes=40))  # a worker paused for 40 min
    assert on_time == late == base
    monthly = CronTrigger(day="1", hour="9", timezone="Asia/Shanghai")
    fired = datetime(2026, 12, 1, 1, 0, 2, tzinfo=UTC)  # 09:00:02 in Shanghai
    assert due_time(monthly, fired) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
