"""Linked group chats (联络群): one Telegram group per grid, where its wishes and events are posted.

Only staff link or unlink, and a grid-scoped staff member only their own grid. What the bot
posts there goes through the delivery engine (group rate limits) and carries no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.errors import UserError


@dataclass(frozen=True, slots=True)
class LinkResult:
    grid_code: str
    grid_name: str
    replaced_chat_id: int | None  # the group this grid was linked to before, if another one
    previous_grid_code: str | None  # the grid this group was linked to before, if another one


async def _staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("groups.staff_only")
    return staff


async def link_group(
    session: AsyncSession, staff_user_id: int, chat_id: int, grid_code: str
) -> LinkResult:
    """Tie a group to a grid; the group's old grid and the grid's old group are let go."""
    await begin_write(session)
    staff = await _staff(session, staff_user_id)
    grid = await session.scalar(
        select(Grid).where(Grid.code == grid_code.strip().upper(), Grid.active)
    )
    if grid is None:
        raise UserError("groups.unknown_grid", code=grid_code)
    if staff.scope == "grid" and staff.grid_id != grid.id:
        raise UserError("groups.not_your_grid", code=grid.code)
    previous = await session.scalar(select(Grid).where(Grid.group_chat_id == chat_id))
    if previous is not None and previous.id == grid.id:
        return LinkResult(grid.code, grid.name, None, None)
    if previous is not None:
        previous.group_chat_id = None
        await session.flush()  # group_chat_id is unique: free it before taking it again
    replaced = grid.group_chat_id
    grid.group_chat_id = chat_id
    audit.record(
        session, staff_user_id, "group.link", "grid", grid.id, chat_id=chat_id, replaced=replaced
    )
    await session.commit()
    return LinkResult(
        grid.code, grid.name, replaced, previous.code if previous is not None else None
    )


async def unlink_group(session: AsyncSession, staff_user_id: int, chat_id: int) -> str:
    """Let a group go. Returns the code of the grid it was linked to."""
    await begin_write(session)
    staff = await _staff(session, staff_user_id)
    grid = await session.scalar(select(Grid).where(Grid.group_chat_id == chat_id))
    if grid is None:
        raise UserError("groups.not_linked")
    if staff.scope == "grid" and staff.grid_id != grid.id:
        raise UserError("groups.not_your_grid", code=grid.code)
    grid.group_chat_id = None
    audit.record(session, staff_user_id, "group.unlink", "grid", grid.id, chat_id=chat_id)
    await session.commit()
    return grid.code


async def follow_migration(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """A group upgraded to a supergroup gets a new id: keep its link."""
    await begin_write(session)
    await session.execute(
        update(Grid).where(Grid.group_chat_id == old_chat_id).values(group_chat_id=new_chat_id)
    )
    await session.commit()


async def grid_of_chat(session: AsyncSession, chat_id: int) -> str | None:
    return await session.scalar(select(Grid.code).where(Grid.group_chat_id == chat_id))
