"""吹哨 escalations for the staff dashboard: open ones (overdue first), or answered ones, in the
staff member's grids. Read only; answering goes through ``dispatch.answer_escalation``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Escalation, Grid, Wish

STATES = ("open", "overdue", "answered")


@dataclass(frozen=True, slots=True)
class EscalationRow:
    id: int
    wish_id: int
    wish_text: str
    wish_status: str
    grid_code: str
    department: str
    note: str
    deadline: datetime | None
    created_at: datetime
    status: str
    answer: str | None
    answered_at: datetime | None
    overdue: bool


async def escalation_counts(
    session: AsyncSession, grids: Collection[int] | None, now: datetime
) -> tuple[int, int]:
    """(open, overdue) escalations in the scope."""
    where: list[Any] = [Escalation.status == "open"]
    if grids is not None:
        where.append(Wish.grid_id.in_(list(grids)))
    overdue = func.count().filter(Escalation.deadline < now)
    row = (
        await session.execute(
            select(func.count(), overdue)
            .select_from(Escalation)
            .join(Wish, Wish.id == Escalation.wish_id)
            .where(*where)
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def list_escalations(
    session: AsyncSession,
    grids: Collection[int] | None,
    now: datetime,
    state: str = "open",
    limit: int = 200,
) -> list[EscalationRow]:
    """Open (overdue first, then by deadline), only overdue, or answered (newest first)."""
    where: list[Any] = []
    if grids is not None:
        where.append(Wish.grid_id.in_(list(grids)))
    query = (
        select(Escalation, Wish.text, Wish.status, Grid.code)
        .join(Wish, Wish.id == Escalation.wish_id)
        .join(Grid, Grid.id == Wish.grid_id)
    )
    if state == "answered":
        query = query.where(Escalation.status == "answered", *where).order_by(
            Escalation.answered_at.desc(), Escalation.id.desc()
        )
    else:
        where.append(Escalation.status == "open")
        if state == "overdue":
            where.append(Escalation.deadline < now)
        query = query.where(*where).order_by(
            Escalation.deadline.is_(None), Escalation.deadline, Escalation.id
        )
    rows = [
        EscalationRow(
            id=e.id,
            wish_id=e.wish_id,
            wish_text=text,
            wish_status=status,
            grid_code=code,
            department=e.department,
            note=e.note,
            deadline=e.deadline,
            created_at=e.created_at,
            status=e.status,
            answer=e.answer,
            answered_at=e.answered_at,
            overdue=e.status == "open" and e.deadline is not None and e.deadline < now,
        )
        for e, text, status, code in await session.execute(query.limit(limit))
    ]
    await session.rollback()  # read only
    return rows
