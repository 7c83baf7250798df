"""APScheduler as the clock: a short tick that fires due timers, and calendar jobs
(run once per due time across workers: bot/scheduler/leases.py).

Jobs hold no Bot or Message objects: they get the AppContext and read ids from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.scheduler.timers import fire_due, worker_name
from bot.services.context import AppContext

log = logging.getLogger(__name__)
TICK_SECONDS = 15

Job = Callable[[AppContext], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class CalendarJob:
    name: str
    cron: dict[str, str]  # CronTrigger fields, e.g. {"day": "1", "hour": "9"}
    run: Job


class Clock:
    def __init__(
        self,
        app: AppContext,
        jobs: list[CalendarJob] | None = None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.app = app
        self.worker = worker_name()
        self.scheduler = AsyncIOScheduler(timezone=app.settings.tz)
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=tick_seconds,
            id="timers",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(app.settings.tz),  # what fell due while down: now
        )
        for job in jobs or []:
            trigger = CronTrigger(timezone=app.settings.tz, **job.cron)
            self.scheduler.add_job(
                self._calendar,
                trigger,
                args=[job, trigger],
                id=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )

    async def _tick(self) -> None:
        try:
            await fire_due(self.app, worker=self.worker)
        except Exception:
            log.exception("timer tick failed")

    async def _calendar(self, job: CalendarJob, trigger: CronTrigger) -> None:
        # Every worker fires it; the lease row lets one of them run it (bot/scheduler/leases).
        from bot.scheduler.leases import due_time, run_once

        try:
            due = due_time(trigger, datetime.now(self.app.settings.tz))
            await run_once(self.app, job, due, self.worker)
        except Exception:
            log.exception("calendar job %s failed", job.name)

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
