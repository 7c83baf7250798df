"""The calendar: what runs on a schedule, in the community's timezone.

Each job is idempotent (a re-run finds nothing left to do); with several workers each due
time runs in one of them only (a lease row per job and due time, bot/scheduler/leases.py).
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.scheduler.clock import CalendarJob
from bot.services.context import AppContext


async def duty_reminders(app: AppContext) -> object:
    from bot.services.reports.evaluations import duty_reminders as remind

    return await remind(app, app.now().astimezone(app.settings.tz).year)


async def award_missing(app: AppContext) -> object:
    """Safety net: a verified task whose award was interrupted gets it now, once."""
    from bot.services.points.ledger import award_missing as sweep

    return await sweep(app)


async def monthly_statements(app: AppContext) -> object:
    from bot.services.points.passbook import monthly_statements as send

    last_month = app.now().astimezone(app.settings.tz).replace(day=1) - timedelta(days=1)
    return await send(app, last_month.date())


async def expire_points(app: AppContext) -> object:
    from bot.services.points.expiry import expire_points as expire

    return await expire(app, app.now())


async def remind_expiry(app: AppContext) -> object:
    from bot.services.points.expiry import remind_expiry as remind

    return await remind(app, app.now())


async def monthly_figures(app: AppContext) -> object:
    """Last month's figures to staff; runs on the first days, acts on the first working one."""
    from bot.services.reports.monthly_push import push_monthly

    return await push_monthly(app)


async def post_checkin_reminders(app: AppContext) -> object:
    """Standing posts: holders who have not checked in this month are reminded (issue 13)."""
    from bot.services.posts.posts import remind_checkins

    return await remind_checkins(app)


def calendar_jobs(settings: Settings) -> list[CalendarJob]:
    month = str(settings.reports.duty_reminder_month)
    jobs = [
        CalendarJob("duty_reminders", {"month": month, "day": "1", "hour": "10"}, duty_reminders),
        CalendarJob("award_missing", {"minute": "17"}, award_missing),
        CalendarJob("monthly_statements", {"day": "1", "hour": "9"}, monthly_statements),
        # October's first working day can be the 9th (National Day week): look daily to the 12th.
        CalendarJob(
            "monthly_figures", {"day": "1-12", "hour": "9", "minute": "30"}, monthly_figures
        ),
        CalendarJob("post_checkins", {"day": "25", "hour": "10"}, post_checkin_reminders),
    ]
    if settings.points.expiry != "never":
        jobs += [
            CalendarJob("expire_points", {"month": "1", "day": "1", "hour": "3"}, expire_points),
            CalendarJob("remind_expiry", {"month": "12", "day": "1", "hour": "10"}, remind_expiry),
        ]
    return jobs
