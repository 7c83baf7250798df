"""Last month's figures, pushed to staff on the month's first working day (without asking).

Community staff get the community's figures, grid staff their grid's. The message is a list of
sections; each section is a function registered with :func:`section` that returns lines, each
a locale key and its parameters (numbers already formatted), so another module (patrols, say)
adds its own section without touching this one:

    @monthly_push.section(order=40)
    async def patrol_lines(app, session, period, grids): return [("patrols.monthly", {...})]

Sent through the outbox in one batch per month (``monthly:2026-11``): a re-run, a restart or a
second process adds nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, User
from bot.db.tx import begin_write
from bot.delivery import outbox
from bot.services.context import AppContext
from bot.services.notices import Notice
from bot.services.outreach import ratings
from bot.services.reports import patrols
from bot.services.reports.evaluations import Period, month_period
from bot.services.reports.rates import rate_lines, rates
from bot.services.suggestions import figures
from matching.workdays import first_working_day

log = logging.getLogger(__name__)

Grids = Collection[int] | None  # None: the whole community
Line = tuple[str, dict[str, Any]]  # (locale key, its parameters)
SectionFn = Callable[[AppContext, AsyncSession, Period, Grids], Awaitable[list[Line]]]


@dataclass(frozen=True, slots=True)
class Section:
    order: int
    name: str
    build: SectionFn


SECTIONS: dict[str, Section] = {}


def section(order: int) -> Callable[[SectionFn], SectionFn]:
    """Register a section of the monthly message (lower ``order`` comes first)."""

    def register(fn: SectionFn) -> SectionFn:
        SECTIONS[fn.__name__] = Section(order, fn.__name__, fn)
        return fn

    return register


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


# --- the built-in sections ------------------------------------------------------------------


@section(order=10)
async def rate_section(
    app: AppContext, session: AsyncSession, period: Period, grids: Grids
) -> list[Line]:
    """报到率 / 活动率 (from the roster; none without one)."""
    year, month = (int(part) for part in period.label.split("-"))
    report = await rate_lines(app, session, year, month)
    lines = (
        report.communities
        if grids is None
        else [g for g in report.grids if g.grid_code in await _codes(session, grids)]
    )
    if not lines:
        return [("monthly.rates_none", {})]
    return [
        (
            "monthly.rates",
            {
                "name": line.grid_name or line.community,
                "registered": line.registered,
                "expected": line.expected,
                "registration": percent(line.registration_rate),
                "active": line.active,
                "activity": percent(line.activity_rate),
            },
        )
        for line in lines
    ]


@section(order=20)
async def suggestion_section(
    app: AppContext, session: AsyncSession, period: Period, grids: Grids
) -> list[Line]:
    """社情民意: received, answered, fixed, satisfaction; still open now."""
    got = await figures.figures(session, period.start, period.end, grids)
    return [
        (
            "monthly.suggestions",
            {
                "received": got.received,
                "answered": got.answered,
                "fixed": got.fixed,
                "satisfaction": percent(got.satisfaction),
                "rated": got.rated,
                "open": got.open_now,
            },
        )
    ]


@section(order=30)
async def event_section(
    app: AppContext, session: AsyncSession, period: Period, grids: Grids
) -> list[Line]:
    """Events rated by their attendees, and the average."""
    rated = await ratings.averages(session, period.start, period.end, grids)
    average = ratings.overall(rated)
    if average is None:
        return [("monthly.events_none", {})]
    return [("monthly.events", {"events": len(rated), "average": f"{average:.1f}"})]


@section(order=40)
async def patrol_section(
    app: AppContext, session: AsyncSession, period: Period, grids: Grids
) -> list[Line]:
    """治安巡查 and standing posts: patrols run, hours, hazards found and fixed, posts held."""
    year, month = (int(part) for part in period.label.split("-"))
    report = await patrols.monthly(
        app, session, year, month, grid_ids=None if grids is None else set(grids)
    )
    total = report.total
    if not (total.patrols or total.hazards_found or total.posts_held):
        return [("monthly.patrols_none", {})]
    return [
        (
            "monthly.patrols",
            {
                "patrols": total.patrols,
                "patrollers": total.patrollers,
                "hours": f"{total.hours:.1f}",
                "found": total.hazards_found,
                "fixed": total.hazards_fixed,
                "posts": total.posts_held,
                "checkins": total.post_checkins,
            },
        )
    ]


async def _codes(session: AsyncSession, grids: Collection[int]) -> set[str]:
    return set(await session.scalars(select(Grid.code).where(Grid.id.in_(list(grids)))))


# --- building and sending -------------------------------------------------------------------


async def build_lines(
    app: AppContext, session: AsyncSession, period: Period, grids: Grids
) -> list[Line]:
    lines: list[Line] = []
    for part in sorted(SECTIONS.values(), key=lambda s: (s.order, s.name)):
        lines += await part.build(app, session, period, grids)
    return lines


def last_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


async def push_monthly(app: AppContext, *, force: bool = False) -> int:
    """On the month's first working day (community time), queue last month's figures for
    every staff member. Before that day nothing; after it only if the month's batch was never
    queued (the bot was down that morning: the next run catches up). Returns the rows queued."""
    today = app.now().astimezone(app.settings.tz).date()
    if not force and today < first_working_day(today.year, today.month):
        return 0
    year, month = last_month(today)
    period = month_period(app.settings.tz, year, month)
    batch_key = f"monthly:{period.label}"
    if not force:
        async with app.sessions() as session:
            if await outbox.batch_counts(session, batch_key):
                return 0  # sent already this month: staff who joined since wait for the next
    async with app.sessions() as session:
        await rates(app, session, year, month)  # links new registrations to the roster; commits
    queued = 0
    async with app.sessions() as session:
        staff = (
            await session.execute(
                select(Staff.user_id, Staff.scope, Staff.grid_id, Staff.is_admin)
                .join(User, User.id == Staff.user_id)
                .where(User.telegram_id.is_not(None))
                .order_by(Staff.user_id)
            )
        ).all()
        by_scope: dict[int | None, list[int]] = {}
        for user_id, scope, grid_id, is_admin in staff:
            key = grid_id if scope == "grid" and not is_admin and grid_id is not None else None
            by_scope.setdefault(key, []).append(int(user_id))
        await begin_write(session)
        for grid_id, user_ids in sorted(by_scope.items(), key=lambda kv: kv[0] or 0):
            grids = None if grid_id is None else [grid_id]
            grid = await session.get(Grid, grid_id) if grid_id is not None else None
            lines = await build_lines(app, session, period, grids)
            notice = Notice(
                "monthly.figures",
                {
                    "period": period.label,
                    "scope": grid.name if grid else app.settings.community.name,
                    "lines": [[key, params] for key, params in lines],
                },
            )
            queued += await outbox.enqueue(
                session, notice=notice, user_ids=user_ids, batch_key=batch_key
            )
        await session.commit()
    log.info("monthly figures for %s: %d queued", period.label, queued)
    return queued
