"""Points expiry (points.expiry = "end_of_next_year"): reminders, then the expiry entries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, Volunteer
from bot.db.models.points import (
    KIND_AWARD,
    LedgerEntry,
)
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.points.ledger import (
    BOARD_PERIODS,
    BOARD_SCOPES,
    EARNING_KINDS,
    SERVICE_SOURCES,
    Period,
    Scope,
    period_bounds,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BoardRow:
    place: int
    user_id: int
    name: str | None  # None: the volunteer opted out and this is someone else's view
    points: int
    services: int
    is_viewer: bool


@dataclass(frozen=True, slots=True)
class Board:
    scope: Scope
    period: Period
    scope_name: str  # the grid's or community's name; "" for all
    start: date  # first day of the period, local
    rows: list[BoardRow]  # the top of the board
    me: BoardRow | None  # the viewer's own row (also when below the top), None if unranked
    total: int  # how many are ranked
    viewer_public: bool  # False: the viewer opted out (others see them anonymised)


async def _viewer(session: AsyncSession, user_id: int) -> tuple[Grid | None, bool]:
    """The viewer's grid (as a volunteer, else as grid staff) and their public-board flag."""
    volunteer = await session.get(Volunteer, user_id, populate_existing=True)
    grid_id = volunteer.grid_id if volunteer is not None else None
    if grid_id is None:
        staff = await session.get(Staff, user_id)
        grid_id = staff.grid_id if staff is not None else None
    grid = await session.get(Grid, grid_id) if grid_id is not None else None
    return grid, volunteer.public_board if volunteer is not None else True


async def leaderboard(
    app: AppContext,
    session: AsyncSession,
    *,
    viewer_id: int,
    scope: str,
    period: str,
    top: int = 10,
) -> Board:
    """Ranked by verified points in the period, ties by number of services; equal on both
    share a place. Opted-out volunteers are anonymised except in their own view.
    ``scope`` is one of BOARD_SCOPES, ``period`` one of BOARD_PERIODS (from a button)."""
    if scope not in BOARD_SCOPES or period not in BOARD_PERIODS:
        raise UserError("errors.stale_button")
    start, end = period_bounds(app, app.now(), period)
    grid, viewer_public = await _viewer(session, viewer_id)
    community = grid.community if grid is not None else app.settings.community.name
    # Community-wide staff have no grid of their own: their "grid" board is the community's.
    board_scope: Scope = "community" if scope == "grid" and grid is None else scope
    points = func.sum(case((LedgerEntry.kind.in_(EARNING_KINDS), LedgerEntry.amount), else_=0))
    services = func.sum(
        case(
            (
                and_(
                    LedgerEntry.kind == KIND_AWARD,
                    LedgerEntry.source_type.in_(SERVICE_SOURCES),
                ),
                1,
            ),
            else_=0,
        )
    )
    stmt = (
        select(Volunteer.user_id, Volunteer.name, Volunteer.public_board, points, services)
        .join(LedgerEntry, LedgerEntry.user_id == Volunteer.user_id)
        .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(Volunteer.user_id, Volunteer.name, Volunteer.public_board)
    )
    scope_name = ""
    if board_scope == "grid":
        assert grid is not None
        stmt = stmt.where(Volunteer.grid_id == grid.id)
        scope_name = grid.name
    elif board_scope == "community":
        stmt = stmt.join(Grid, Grid.id == Volunteer.grid_id).where(Grid.community == community)
        scope_name = community
    raw = [
        (uid, name, public, int(p or 0), int(s or 0))
        for uid, name, public, p, s in (await session.execute(stmt)).all()
    ]
    raw = [r for r in raw if r[3] > 0 or r[4] > 0]
    raw.sort(key=lambda r: (-r[3], -r[4], r[0]))
    ranked: list[BoardRow] = []
    for index, (uid, name, public, p, s) in enumerate(raw):
        same_as_previous = ranked and (ranked[-1].points, ranked[-1].services) == (p, s)
        place = ranked[-1].place if same_as_previous else index + 1
        mine = uid == viewer_id
        visible = name if (public or mine) else None
        ranked.append(BoardRow(place, uid, visible, p, s, mine))
    me = next((row for row in ranked if row.is_viewer), None)
    return Board(
        scope=board_scope,
        period=period,
        scope_name=scope_name,
        start=start.date(),
        rows=ranked[:top],
        me=me,
        total=len(ranked),
        viewer_public=viewer_public,
    )
