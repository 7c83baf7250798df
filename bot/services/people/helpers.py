"""党群接单: a registered resident also helps, as a 群众志愿者 (resident volunteer).

A resident volunteer is a ``Volunteer`` row of kind "resident": staff approve it like a
member's, and offers, claims, tasks and points treat it the same. Reports keep the two apart:
报到率 / 活动率 and the evaluations per home organisation count members only (they are the
members' duty); the outcome figures (wishes served) count everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Resident, Volunteer
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people import registration

KIND_MEMBER = "member"
KIND_RESIDENT = "resident"
KINDS = (KIND_MEMBER, KIND_RESIDENT)


@dataclass(slots=True)
class HelperForm:
    name: str
    skills: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    specialties: str = ""
    max_active_tasks: int = 2


async def check_may_register(session: AsyncSession, user_id: int) -> None:
    """Only a registered resident, not yet a volunteer of either kind, may sign up."""
    if await session.get(Resident, user_id) is None:
        raise UserError("helper.residents_only")
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is not None and volunteer.status in ("pending", "approved"):
        raise UserError("volunteer.already_registered")


async def register_helper(
    app: AppContext, session: AsyncSession, user_id: int, form: HelperForm
) -> str:
    """File a resident volunteer's profile for staff approval; returns the status."""
    resident = await session.get(Resident, user_id)
    if resident is None:
        raise UserError("helper.residents_only")
    name = registration.clean_text(form.name, registration.NAME_MAX, "errors.text_length")
    if not form.skills or not form.availability:
        raise UserError("volunteer.choose_one")
    volunteer_form = registration.VolunteerForm(
        name=name,
        grid_id=resident.grid_id,
        unit="",
        branch="",
        occupation="",
        skills=list(form.skills),
        specialties=form.specialties,
        availability=list(form.availability),
        max_active_tasks=form.max_active_tasks,
        building=resident.building,
        kind=KIND_RESIDENT,
    )
    return await registration.register_volunteer(app, session, user_id, volunteer_form)
