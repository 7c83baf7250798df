"""Who a broadcast or an invitation reaches: lists of our user ids (or group chat ids).

Everyone returned can be messaged: not blocked, not erased. Lists come back sorted, so the
same segment gives the same list (and the same outbox order) every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Resident, User, Volunteer

APPROVED = "approved"
T = TypeVar("T", bound=Any)


def _reachable(stmt: Select[T]) -> Select[T]:
    return stmt.where(
        User.telegram_id.is_not(None), User.deleted_at.is_(None), User.is_blocked.is_(False)
    )


async def volunteers(
    session: AsyncSession,
    *,
    grid_ids: Iterable[int] | None = None,
    community: str | None = None,
    skills: Iterable[str] | None = None,
    unit: str | None = None,
    slots: Iterable[str] | None = None,
) -> list[int]:
    """Approved volunteers matching every filter given (skills/slots: any one of them).

    ``unit`` matches part of the home organisation: the unit or its party branch.
    """
    stmt = _reachable(
        select(Volunteer.user_id)
        .join(User, User.id == Volunteer.user_id)
        .where(Volunteer.status == APPROVED)
    )
    if grid_ids is not None:
        stmt = stmt.where(Volunteer.grid_id.in_(list(grid_ids)))
    if community is not None:
        stmt = stmt.join(Grid, Grid.id == Volunteer.grid_id).where(Grid.community == community)
    if unit is not None and unit.strip():
        typed = unit.strip()
        stmt = stmt.where(
            Volunteer.unit.icontains(typed, autoescape=True)
            | Volunteer.branch.icontains(typed, autoescape=True)
        )
    wanted_skills = set(skills) if skills is not None else None
    wanted_slots = set(slots) if slots is not None else None
    if wanted_skills is None and wanted_slots is None:
        return sorted(await session.scalars(stmt))
    # Skills and free time are JSON lists: filtered here, the same on SQLite and PostgreSQL.
    rows = await session.execute(stmt.add_columns(Volunteer.skills, Volunteer.availability))
    return sorted(
        user_id
        for user_id, have_skills, have_slots in rows.all()
        if (wanted_skills is None or wanted_skills & set(have_skills or ()))
        and (wanted_slots is None or wanted_slots & set(have_slots or ()))
    )


async def residents(session: AsyncSession, *, grid_ids: Iterable[int] | None = None) -> list[int]:
    stmt = _reachable(select(Resident.user_id).join(User, User.id == Resident.user_id))
    if grid_ids is not None:
        stmt = stmt.where(Resident.grid_id.in_(list(grid_ids)))
    return sorted(await session.scalars(stmt))


async def group_chats(session: AsyncSession, *, grid_ids: Iterable[int] | None = None) -> list[int]:
    """The linked group chats (联络群) of active grids."""
    stmt = select(Grid.group_chat_id).where(Grid.group_chat_id.is_not(None), Grid.active)
    if grid_ids is not None:
        stmt = stmt.where(Grid.id.in_(list(grid_ids)))
    return sorted(chat_id for chat_id in await session.scalars(stmt) if chat_id is not None)
