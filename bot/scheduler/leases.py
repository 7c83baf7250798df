"""Calendar jobs run once per due time across workers: a row per (job, due time) is the lease.

Every worker's APScheduler fires the same cron times. The first worker to INSERT the
``calendar_runs`` row for (job, due_at) runs the job; the others hit the unique key and skip.
A worker that dies mid-job leaves its row unfinished (``finished_at`` empty, visible to the
operator); the jobs are idempotent sweeps, so the next due time catches up what was missed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.db.models.timers import CalendarRun
from bot.db.tx import begin_write
from bot.services.context import AppContext

if TYPE_CHECKING:
    from bot.scheduler.clock import CalendarJob

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(hours=2)  # longer than the clock's misfire grace (1 h)


def due_time(trigger: CronTrigger, now: datetime) -> datetime:
    """The cron time this firing belongs to: the latest fire time not after ``now``.

    Two workers firing a few seconds (or, after a pause, minutes) apart agree on it.
    """
    due = None
    at = trigger.get_next_fire_time(None, now - LOOK_BACK)
    while at is not None and at <= now:
        due = at
        at = trigger.get_next_fire_time(at, at + timedelta(microseconds=1))
    return due or now.replace(second=0, microsecond=0)


async def take_lease(app: AppContext, job: str, due_at: datetime, worker: str) -> int | None:
    """The new run's id, or None when another worker already has this (job, due time)."""
    async with app.sessions() as session:
        await begin_write(session)
        run = CalendarRun(job=job, due_at=due_at, worker=worker[:64], started_at=app.now())
        session.add(run)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return None
        return run.id


async def run_once(app: AppContext, job: CalendarJob, due_at: datetime, worker: str) -> bool:
    """Run ``job`` for ``due_at`` unless another worker did; True when this worker ran it."""
    run_id = await take_lease(app, job.name, due_at, worker)
    if run_id is None:
        log.info("calendar job %s (%s): another worker has it", job.name, due_at.isoformat())
        return False
    error = None
    try:
        await job.run(app)
    except Exception as exc:
        log.exception("calendar job %s failed", job.name)
        error = repr(exc)[:1000]
    async with app.sessions() as session:
        await begin_write(session)
        await session.execute(
            update(CalendarRun)
            .where(CalendarRun.id == run_id)
            .values(finished_at=app.now(), error=error)
        )
        await session.commit()
    return True
