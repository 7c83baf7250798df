"""The community at a glance (一屏观全域): a few aggregate queries over indexed columns, plus
the outcome figures of the period's wishes (summed by the database, :mod:`window_sums`).
Read only; scope = a set of grids or all."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Escalation, Grid, Wish
from bot.services.context import AppContext
from bot.services.intake.wish_states import OPEN
from bot.services.reports.outcome_math import Outcomes, WishRecord, median
from bot.services.reports.outcomes import Grids, Window, idle_volunteers
from bot.services.reports.rates import RateLine, rate_lines
from bot.services.reports.window_sums import GridSums, window_sums


@dataclass(frozen=True, slots=True)
class GridRow:
    grid_id: int
    code: str
    name: str
    open: int
    overdue: int
    filed: int
    claim_median_h: float | None
    satisfaction: float | None
    registration_rate: float | None
    activity_rate: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    window: Window
    by_status: dict[str, int]
    by_category: dict[str, int]
    grids: list[GridRow]
    figures: Outcomes
    escalations_open: int
    escalations_overdue: int
    active_volunteers_month: int
    trend: list[tuple[date, int, int]]  # local day, filed, done


def _scoped(grids: Grids) -> list[Any]:
    return [] if grids is None else [Wish.grid_id.in_(list(grids))]


async def overview(app: AppContext, session: AsyncSession, grids: Grids, win: Window) -> Overview:
    now = app.now()
    tz = app.settings.tz
    scope = _scoped(grids)
    days, edges = _day_edges(win, app)
    idle = await idle_volunteers(session, win.start, win.end, grids)
    sums = await window_sums(session, win.start, win.end, grids, edges, idle)

    # Open and overdue now (not only this period's wishes): one grouped query on status.
    open_states = sorted(OPEN)
    overdue = case((Wish.deadline < now, 1), else_=0)
    current = await session.execute(
        select(Wish.grid_id, func.count(), func.sum(overdue))
        .where(Wish.status.in_(open_states), *scope)
        .group_by(Wish.grid_id)
    )
    open_by_grid = {int(g): (int(n), int(o or 0)) for g, n, o in current}

    esc_scope = [] if grids is None else [Wish.grid_id.in_(list(grids))]
    esc = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((Escalation.deadline < now, 1), else_=0)),
            )
            .select_from(Escalation)
            .join(Wish, Wish.id == Escalation.wish_id)
            .where(Escalation.status == "open", *esc_scope)
        )
    ).one()

    local_now = now.astimezone(tz)
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    active = await session.scalar(
        select(func.count(func.distinct(Wish.volunteer_id))).where(
            Wish.done_at >= month_start, Wish.volunteer_id.is_not(None), *scope
        )
    )
    rates = await rate_lines(app, session, local_now.year, local_now.month)
    rate_by_code: dict[str, RateLine] = {r.grid_code or "": r for r in rates.grids}

    grid_query = select(Grid.id, Grid.code, Grid.name).where(Grid.active.is_(True))
    if grids is not None:
        grid_query = grid_query.where(Grid.id.in_(list(grids)))
    rows = []
    no_wishes = GridSums(0, [], 0, 0)
    for grid_id, code, name in await session.execute(grid_query.order_by(Grid.code)):
        mine = sums.per_grid.get(grid_id, no_wishes)
        rate = rate_by_code.get(code)
        n_open, n_overdue = open_by_grid.get(grid_id, (0, 0))
        rows.append(
            GridRow(
                grid_id=grid_id,
                code=code,
                name=name,
                open=n_open,
                overdue=n_overdue,
                filed=mine.filed,
                claim_median_h=median(mine.claim_hours),
                satisfaction=mine.rating_sum / mine.ratings if mine.ratings else None,
                registration_rate=rate.registration_rate if rate else None,
                activity_rate=rate.activity_rate if rate else None,
            )
        )
    await session.commit()
    return Overview(
        window=win,
        by_status=sums.by_status,
        by_category=sums.by_category,
        grids=rows,
        figures=sums.figures,
        escalations_open=int(esc[0] or 0),
        escalations_overdue=int(esc[1] or 0),
        active_volunteers_month=int(active or 0),
        trend=list(zip(days, sums.filed_per_day, sums.done_per_day, strict=True)),
    )


def _day_edges(win: Window, app: AppContext) -> tuple[list[date], list[datetime]]:
    """The window's local days, and the UTC moment each starts at plus the one after the last."""
    tz = app.settings.tz
    first = win.start.astimezone(tz).date()
    last = win.end.astimezone(tz).date()
    days: list[date] = []
    current = first
    while current <= last:
        days.append(current)
        current += timedelta(days=1)
    edges = [datetime.combine(d, time(), tzinfo=tz) for d in [*days, last + timedelta(days=1)]]
    return days, edges


def _trend(records: list[WishRecord], win: Window, app: AppContext) -> list[tuple[date, int, int]]:
    """Filed and done per local day from records (the overview lets the database count them,
    :mod:`window_sums`; this stays for callers holding records): sort the moments once, then
    cut them at each local midnight (a binary search per day, not a conversion per wish)."""
    days, edges = _day_edges(win, app)
    filed = sorted(map(attrgetter("created_at"), records))
    done = sorted(r.done_at for r in records if r.done_at is not None)

    def per_day(moments: list[datetime]) -> list[int]:
        cuts = [bisect_left(moments, edge) for edge in edges]
        return [cuts[i + 1] - cuts[i] for i in range(len(days))]

    return list(zip(days, per_day(filed), per_day(done), strict=True))


def local_midnight(app: AppContext, now: datetime) -> datetime:
    local = now.astimezone(app.settings.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
