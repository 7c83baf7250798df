"""A person's own profile, for /me: everything they gave us, their phone unmasked (it's theirs)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Resident, Staff, Volunteer


@dataclass(frozen=True, slots=True)
class Profile:
    resident: Resident | None
    resident_grid: str | None
    volunteer: Volunteer | None
    volunteer_grid: str | None
    staff: Staff | None
    staff_grid: str | None


async def get_profile(session: AsyncSession, user_id: int) -> Profile:
    resident = await session.get(Resident, user_id, populate_existing=True)
    volunteer = await session.get(Volunteer, user_id, populate_existing=True)
    staff = await session.get(Staff, user_id, populate_existing=True)

    async def grid_name(grid_id: int | None) -> str | None:
        if grid_id is None:
            return None
        grid = await session.get(Grid, grid_id)
        return grid.name if grid else None

    return Profile(
        resident=resident,
        resident_grid=await grid_name(resident.grid_id if resident else None),
        volunteer=volunteer,
        volunteer_grid=await grid_name(volunteer.grid_id if volunteer else None),
        staff=staff,
        staff_grid=await grid_name(staff.grid_id if staff else None),
    )


async def weekly_slots(session: AsyncSession, user_id: int) -> list[str]:
    """The volunteer's weekly free-time slots (empty for someone who is not a volunteer)."""
    volunteer = await session.get(Volunteer, user_id)
    return list(volunteer.availability) if volunteer else []
