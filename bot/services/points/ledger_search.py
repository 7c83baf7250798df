"""Search the points ledger for staff: by member name, reason and date, in their grids only.

Read only. Dates are the community's local days; the result is one page plus the total, so the
dashboard can page through a district's ledger without loading it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, LedgerEntry, Volunteer

NEEDLE_MAX = 64


@dataclass(frozen=True, slots=True)
class LedgerQuery:
    name: str = ""
    reason: str = ""
    since: date | None = None  # local day, inclusive
    until: date | None = None  # local day, inclusive


@dataclass(frozen=True, slots=True)
class LedgerRow:
    id: int
    user_id: int
    name: str
    grid_code: str
    amount: int
    kind: str
    reason: str
    created_at: datetime


def parse_day(raw: str) -> date | None:
    """An ISO day (2026-11-29) or None for anything else (an empty or garbled field)."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    found: ColumnElement[bool] = column.contains(needle, autoescape=True)
    return found


def _where(query: LedgerQuery, grids: Collection[int] | None, tz: tzinfo) -> list[Any]:
    where: list[Any] = []
    if grids is not None:
        where.append(Volunteer.grid_id.in_(list(grids)))
    name = " ".join(query.name.split())[:NEEDLE_MAX]
    if name:
        where.append(_contains(Volunteer.name, name))
    reason = " ".join(query.reason.split())[:NEEDLE_MAX]
    if reason:
        where.append(_contains(LedgerEntry.reason, reason))
    if query.since is not None:
        where.append(LedgerEntry.created_at >= datetime.combine(query.since, time(), tzinfo=tz))
    if query.until is not None:
        end = datetime.combine(query.until + timedelta(days=1), time(), tzinfo=tz)
        where.append(LedgerEntry.created_at < end)
    return where


async def search_ledger(
    session: AsyncSession,
    query: LedgerQuery,
    grids: Collection[int] | None,
    tz: tzinfo,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[LedgerRow], int]:
    """One page of matching entries, newest first, and how many match in all."""
    where = _where(query, grids, tz)
    joined = (
        select(LedgerEntry.id)
        .join(Volunteer, Volunteer.user_id == LedgerEntry.user_id)
        .where(*where)
        .subquery()
    )
    total = int(await session.scalar(select(func.count()).select_from(joined)) or 0)
    rows = await session.execute(
        select(LedgerEntry, Volunteer.name, Grid.code)
        .join(Volunteer, Volunteer.user_id == LedgerEntry.user_id)
        .join(Grid, Grid.id == Volunteer.grid_id)
        .where(*where)
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    found = [
        LedgerRow(e.id, e.user_id, name, code, e.amount, e.kind, e.reason, e.created_at)
        for e, name, code in rows
    ]
    await session.rollback()  # read only: leave no transaction open
    return found, total
