"""Monthly patrol and post figures per grid (治安巡查 · 认领岗位), for /patrolstats and the
dashboard.

Definitions, for a calendar month in the community's timezone:
- *patrols*: shifts that ran (done) with their start in the month; *patrollers*: check-ins on
  them (a person on two shifts counts twice); *hours*: the patrol time of those check-ins
  (from check-in, or the start, to the end);
- *hazards found*: hazards reported in the month; *to wishes* / *escalated*: of those, how
  staff decided;
- *hazards fixed*: hazards whose wish was served (done) in the month, or whose escalation the
  department answered in the month;
- *posts held*: posts with a term running at the end of the month (or now, for this month);
  *post check-ins*: monthly check-ins made for the month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Escalation, Grid, Wish
from bot.db.models.patrols import (
    Hazard,
    PatrolRoute,
    PatrolShift,
    PatrolSignup,
    Post,
    PostCheckin,
    PostTerm,
)
from bot.services.context import AppContext
from bot.services.reports.evaluations import month_period


@dataclass
class GridFigures:
    grid_id: int
    code: str
    name: str
    patrols: int = 0
    patrollers: int = 0
    hours: float = 0.0
    hazards_found: int = 0
    hazards_to_wish: int = 0
    hazards_escalated: int = 0
    hazards_fixed: int = 0
    posts_held: int = 0
    post_checkins: int = 0


@dataclass
class PatrolReport:
    period: str
    grids: list[GridFigures] = field(default_factory=list)

    @property
    def total(self) -> GridFigures:
        t = GridFigures(0, "", "")
        for g in self.grids:
            for name in (
                "patrols",
                "patrollers",
                "hours",
                "hazards_found",
                "hazards_to_wish",
                "hazards_escalated",
                "hazards_fixed",
                "posts_held",
                "post_checkins",
            ):
                setattr(t, name, getattr(t, name) + getattr(g, name))
        t.hours = round(t.hours, 1)
        return t


async def monthly(
    app: AppContext,
    session: AsyncSession,
    year: int,
    month: int,
    *,
    grid_ids: set[int] | None = None,
) -> PatrolReport:
    """The month's figures for every grid (``grid_ids``: only those, for grid staff)."""
    period = month_period(app.settings.tz, year, month)
    start, end = period.start, period.end
    grids = (await session.scalars(select(Grid).order_by(Grid.code))).all()
    rows = {
        g.id: GridFigures(g.id, g.code, g.name)
        for g in grids
        if grid_ids is None or g.id in grid_ids
    }
    shifts = await session.execute(
        select(PatrolShift, PatrolRoute.grid_id)
        .join(PatrolRoute, PatrolRoute.id == PatrolShift.route_id)
        .where(
            PatrolShift.status == "done",
            PatrolShift.starts_at >= start,
            PatrolShift.starts_at < end,
        )
    )
    shift_grid: dict[int, int] = {}
    ends: dict[int, tuple[datetime, datetime]] = {}
    for shift, grid_id in shifts:
        if grid_id in rows:
            rows[grid_id].patrols += 1
            shift_grid[shift.id] = grid_id
            ends[shift.id] = (shift.starts_at, shift.ends_at)
    if shift_grid:
        checkins = await session.execute(
            select(PatrolSignup.shift_id, PatrolSignup.checked_in_at).where(
                PatrolSignup.shift_id.in_(list(shift_grid)),
                PatrolSignup.status == "signed",
                PatrolSignup.checked_in_at.is_not(None),
            )
        )
        for shift_id, at in checkins:
            figures = rows[shift_grid[shift_id]]
            starts_at, ends_at = ends[shift_id]
            begun = max(at, starts_at) if at is not None else starts_at
            figures.patrollers += 1
            figures.hours += max(0.0, (ends_at - begun).total_seconds() / 3600)
    found = await session.execute(
        select(Hazard.grid_id, Hazard.status).where(
            Hazard.created_at >= start, Hazard.created_at < end
        )
    )
    for grid_id, status in found:
        if grid_id in rows:
            rows[grid_id].hazards_found += 1
            rows[grid_id].hazards_to_wish += status == "wish"
            rows[grid_id].hazards_escalated += status == "escalated"
    served = await session.execute(
        select(Hazard.grid_id)
        .join(Wish, Wish.id == Hazard.wish_id)
        .where(Hazard.status == "wish", Wish.done_at >= start, Wish.done_at < end)
    )
    answered = await session.execute(
        select(Hazard.grid_id)
        .join(Escalation, Escalation.wish_id == Hazard.wish_id)
        .where(
            Hazard.status == "escalated",
            Escalation.status == "answered",
            Escalation.answered_at >= start,
            Escalation.answered_at < end,
        )
    )
    for (grid_id,) in [*served, *answered]:
        if grid_id in rows:
            rows[grid_id].hazards_fixed += 1
    moment = min(end, app.now())
    held = await session.execute(
        select(Post.grid_id)
        .join(PostTerm, PostTerm.post_id == Post.id)
        .where(
            PostTerm.starts_at < moment,
            PostTerm.ends_at >= moment,  # a term that ran out counts even before it is closed
            (PostTerm.ended_at.is_(None)) | (PostTerm.ended_at >= moment),
        )
    )
    for (post_grid,) in held:
        if post_grid is not None and post_grid in rows:
            rows[post_grid].posts_held += 1
    checked = await session.execute(
        select(Post.grid_id)
        .join(PostTerm, PostTerm.post_id == Post.id)
        .join(PostCheckin, PostCheckin.term_id == PostTerm.id)
        .where(PostCheckin.month == period.label)
    )
    for (post_grid,) in checked:
        if post_grid is not None and post_grid in rows:
            rows[post_grid].post_checkins += 1
    await session.commit()  # read only: end the transaction
    for figures in rows.values():
        figures.hours = round(figures.hours, 1)
    return PatrolReport(period.label, list(rows.values()))
