"""Outcome figures from the database, for any period and scope (a set of grids or all).

The math lives in :mod:`outcome_math` over plain records; this module only loads them, with a
few indexed queries, so the dashboard, `/stats` and the community simulator share it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, func, literal_column, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Volunteer, Wish, WishEvent
from bot.services.reports.outcome_math import Outcomes, WishRecord, outcomes

Grids = Collection[int] | None  # None: every grid


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) in UTC, with the key people pick it by: today, 7d, 30d."""

    key: str
    start: datetime
    end: datetime


def window(key: str, now: datetime, tz_midnight: datetime) -> Window:
    """today (since local midnight), 7d or 30d back, up to and including this moment."""
    end = now + timedelta(seconds=1)
    if key == "today":
        return Window(key, tz_midnight, end)
    days = {"7d": 7, "30d": 30}.get(key, 30)
    return Window(key if key in ("7d", "30d") else "30d", now - timedelta(days=days), end)


def _in_grids(column: Any, grids: Grids) -> list[ColumnElement[bool]]:
    return [] if grids is None else [column.in_(list(grids))]


def _approvals(start: datetime) -> Any:
    """First approval of each wish approved since ``start`` (the partial index on at)."""
    return (
        select(WishEvent.wish_id.label("wish_id"), func.min(WishEvent.at).label("at"))
        # A literal, not a bound parameter: a prepared statement's generic plan can then
        # still use the partial index ix_wish_events_approved_at (to_status = 'approved').
        .where(WishEvent.to_status == literal_column("'approved'"), WishEvent.at >= start)
        .group_by(WishEvent.wish_id)
        .subquery("approvals")
    )


def _records_query(start: datetime, end: datetime, grids: Grids) -> Any:
    # A wish filed in [start, end) was approved after it was filed, so after ``start``.
    approvals = _approvals(start)
    return (
        select(
            Wish.id,
            Wish.grid_id,
            Wish.category,
            Wish.status,
            _plain(Wish.created_at),
            _plain(approvals.c.at),
            _plain(Wish.claimed_at),
            _plain(Wish.done_at),
            Wish.volunteer_id,
            Wish.rating,
        )
        .outerjoin(approvals, approvals.c.wish_id == Wish.id)
        .where(Wish.created_at >= start, Wish.created_at < end, *_in_grids(Wish.grid_id, grids))
    )


def _plain(column: Any) -> Any:
    """The column as the driver returns it, without the per-value UTCDateTime hook (30,000
    Python calls for a month of a district): asyncpg already gives aware UTC datetimes, and
    :func:`_utc` fixes SQLite's naive ones only where there are any."""
    return type_coerce(column, DateTime(timezone=True))


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


async def load_records(
    session: AsyncSession, start: datetime, end: datetime, grids: Grids = None
) -> list[WishRecord]:
    """Every wish filed in [start, end) in the scope, as plain records (Core rows, no ORM)."""
    connection = await session.connection()
    rows: list[Any] = list((await connection.execute(_records_query(start, end, grids))).all())
    if connection.dialect.name != "postgresql":  # SQLite keeps no time zone: attach UTC
        rows = [(*r[:4], _utc(r[4]), _utc(r[5]), _utc(r[6]), _utc(r[7]), *r[8:]) for r in rows]
    return [WishRecord(*row) for row in rows]


async def volunteer_pool(session: AsyncSession, grids: Grids = None) -> list[int]:
    """Approved volunteers living in the scope: the people tasks could be spread over."""
    ids = await session.scalars(
        select(Volunteer.user_id).where(
            Volunteer.status == "approved", *_in_grids(Volunteer.grid_id, grids)
        )
    )
    return [int(i) for i in ids]


async def idle_volunteers(
    session: AsyncSession, start: datetime, end: datetime, grids: Grids = None
) -> int:
    """Approved volunteers of the scope who did none of the tasks of the wishes filed in
    [start, end) in the scope: one count with NOT EXISTS, never a list of 30,000 ids."""
    done_one = (
        select(Wish.id)
        .where(
            Wish.volunteer_id == Volunteer.user_id,
            Wish.done_at.is_not(None),
            Wish.created_at >= start,
            Wish.created_at < end,
            *_in_grids(Wish.grid_id, grids),
        )
        .exists()
    )
    idle = await session.scalar(
        select(func.count())
        .select_from(Volunteer)
        .where(Volunteer.status == "approved", *_in_grids(Volunteer.grid_id, grids), ~done_one)
    )
    return int(idle or 0)


async def outcome_figures(
    session: AsyncSession, start: datetime, end: datetime, grids: Grids = None
) -> Outcomes:
    """The outcome figures of the wishes filed in [start, end) in the scope."""
    records = await load_records(session, start, end, grids)
    return outcomes(records, idle=await idle_volunteers(session, start, end, grids))
