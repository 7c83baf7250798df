"""Seeding people straight through the services (faster than driving every form)."""

from __future__ import annotations

from bot.demo.stage import Person, Stage
from bot.services.people import actors, registration
from bot.services.people.grids import grid_by_code


async def user_id(stage: Stage, person: Person) -> int:
    async with stage.app.sessions() as session:
        user, _ = await actors.touch_user(session, person.id, person.user.first_name, "zh-CN")
        return user.id


async def volunteer(
    stage: Stage,
    person: Person,
    *,
    grid: str = "G02",
    skills: tuple[str, ...] = ("repair",),
    slots: tuple[str, ...] = ("weekday_evening", "sat_morning"),
    max_tasks: int = 2,
) -> int:
    uid = await user_id(stage, person)
    async with stage.app.sessions() as session:
        g = await grid_by_code(session, grid)
        assert g is not None
        form = registration.VolunteerForm(
            name=person.user.first_name,
            grid_id=g.id,
            unit="单位",
            branch="支部",
            occupation="职工",
            skills=list(skills),
            availability=list(slots),
            max_active_tasks=max_tasks,
        )
        await registration.register_volunteer(stage.app, session, uid, form, preapproved_by=uid)
    return uid


async def resident(
    stage: Stage,
    person: Person,
    *,
    grid: str = "G02",
    phone: str | None = None,
    building: str = "8栋1单元",
) -> int:
    uid = await user_id(stage, person)
    async with stage.app.sessions() as session:
        g = await grid_by_code(session, grid)
        assert g is not None
        form = registration.ResidentForm(
            grid_id=g.id, building=building, phone=phone, share_phone=phone is not None
        )
        await registration.register_resident(stage.app, session, uid, form)
    return uid
