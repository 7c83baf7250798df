"""What staff read about patrols: the shifts of their scope, one shift (scope checked), the
preview of a new shift, and the month's figures for their grids."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff
from bot.db.models.patrols import PatrolRoute, PatrolShift
from bot.delivery import segments
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.patrols.shifts import ShiftDraft, ShiftView, load_view, view
from bot.services.reports import patrols as patrol_report
from bot.services.reports.evaluations import parse_month

STAFF_LIST_LIMIT = 20


async def _grid_scope(session: AsyncSession, staff_user_id: int) -> int | None:
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    return staff.grid_id if staff.scope == "grid" and not staff.is_admin else None


async def staff_shifts(
    app: AppContext, session: AsyncSession, staff_user_id: int
) -> list[ShiftView]:
    """Shifts not finished long ago, in the staff member's scope, soonest first."""
    grid_id = await _grid_scope(session, staff_user_id)
    query = (
        select(PatrolShift, PatrolRoute, Grid)
        .join(PatrolRoute, PatrolRoute.id == PatrolShift.route_id)
        .join(Grid, Grid.id == PatrolRoute.grid_id)
        .where(PatrolShift.status.not_in(("done", "cancelled")))
        .order_by(PatrolShift.starts_at, PatrolShift.id)
        .limit(STAFF_LIST_LIMIT)
    )
    if grid_id is not None:
        query = query.where(PatrolRoute.grid_id == grid_id)
    rows = (await session.execute(query)).all()
    await session.commit()
    return [view(s, r, g) for s, r, g in rows]


async def staff_shift(session: AsyncSession, staff_user_id: int, shift_id: int) -> ShiftView:
    shown = await load_view(session, shift_id)
    covered = await staff_covers_grid(session, staff_user_id, shown.grid_id)
    await session.commit()
    if not covered:
        raise UserError("patrols.not_your_grid")
    return shown


async def preview(session: AsyncSession, draft: ShiftDraft) -> tuple[ShiftView, int]:
    """The card of a shift not filed yet (number 0) and how many volunteers it would reach."""
    grid = await session.get(Grid, draft.grid_id)
    users = await segments.volunteers(session, grid_ids=[draft.grid_id])
    await session.commit()
    shown = ShiftView(
        id=0,
        route_id=0,
        name=draft.name,
        description=draft.description,
        grid_id=draft.grid_id,
        grid_name=grid.name if grid is not None else "",
        lat=draft.lat,
        lon=draft.lon,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=draft.capacity,
        taken=0,
        status="open",
    )
    return shown, len(users)


async def month_report(
    app: AppContext, session: AsyncSession, staff_user_id: int, text: str | None
) -> patrol_report.PatrolReport:
    """/patrolstats [2026-11]: the month's figures, for the staff member's grid or all grids."""
    year, month = parse_month(text, app.now(), app.settings.tz)
    grid_id = await _grid_scope(session, staff_user_id)
    return await patrol_report.monthly(
        app, session, year, month, grid_ids={grid_id} if grid_id is not None else None
    )
