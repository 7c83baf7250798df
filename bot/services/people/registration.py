"""Registering residents, volunteers (with staff approval) and staff (by invite code)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import InviteCode, Resident, Staff, User, Volunteer
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice

NAME_MAX = 32
ORG_MAX = 64
SPECIALTIES_MAX = 200


@dataclass(slots=True)
class ResidentForm:
    grid_id: int
    building: str | None
    phone: str | None
    share_phone: bool = False


@dataclass(slots=True)
class VolunteerForm:
    name: str
    grid_id: int
    unit: str
    branch: str
    occupation: str
    skills: list[str] = field(default_factory=list)
    specialties: str = ""
    availability: list[str] = field(default_factory=list)
    max_active_tasks: int = 2
    building: str | None = None
    kind: str = "member"  # member (在职党员) | resident (群众志愿者, issue 13)


def clean_text(value: str, max_len: int, error_key: str) -> str:
    """Trim and check a short free-text answer (name, unit, occupation...)."""
    value = " ".join(value.split())
    if not value or len(value) > max_len or value.startswith("/"):
        raise UserError(error_key, max=max_len)
    return value


def clean_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if not 6 <= len(digits.lstrip("+")) <= 15:
        raise UserError("errors.phone")
    return digits


@transactional
async def register_resident(
    app: AppContext, session: AsyncSession, user_id: int, form: ResidentForm
) -> None:
    await begin_write(session)
    resident = await session.get(Resident, user_id)
    now = app.now()
    if resident is None:
        resident = Resident(user_id=user_id, consent_at=now, grid_id=form.grid_id)
        session.add(resident)
        action = "resident.register"
    else:
        action = "resident.update"
    resident.grid_id = form.grid_id
    resident.building = form.building
    resident.phone = form.phone
    resident.share_phone = form.share_phone and form.phone is not None
    audit.record(session, user_id, action, "user", user_id, grid_id=form.grid_id)
    await session.commit()


@transactional
async def update_resident(session: AsyncSession, user_id: int, **changes: object) -> None:
    await begin_write(session)
    allowed = {"grid_id", "building", "phone", "share_phone"}
    if not changes.keys() <= allowed:
        raise ValueError(f"cannot change {set(changes) - allowed}")
    await session.execute(update(Resident).where(Resident.user_id == user_id).values(**changes))
    audit.record(session, user_id, "resident.update", "user", user_id, fields=sorted(changes))
    await session.commit()


async def staff_for_grid(session: AsyncSession, grid_id: int | None) -> list[int]:
    """Who reviews things of a grid: its grid staff, else every community-wide staff member."""
    if grid_id is not None:
        grid_staff = (
            await session.scalars(
                select(Staff.user_id)
                .join(User, User.id == Staff.user_id)
                .where(
                    Staff.scope == "grid", Staff.grid_id == grid_id, User.telegram_id.is_not(None)
                )
            )
        ).all()
        if grid_staff:
            return list(grid_staff)
    return list(
        (
            await session.scalars(
                select(Staff.user_id)
                .join(User, User.id == Staff.user_id)
                .where(Staff.scope == "community", User.telegram_id.is_not(None))
            )
        ).all()
    )


@transactional
async def register_volunteer(
    app: AppContext,
    session: AsyncSession,
    user_id: int,
    form: VolunteerForm,
    *,
    preapproved_by: int | None = None,
) -> str:
    """File a volunteer's profile. Returns the status: 'pending' (sent to staff) or 'approved'."""
    await begin_write(session)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is not None and volunteer.status in ("pending", "approved"):
        raise UserError("volunteer.already_registered")
    if volunteer is None:
        volunteer = Volunteer(
            user_id=user_id, name=form.name, grid_id=form.grid_id, unit="", branch="", occupation=""
        )
        session.add(volunteer)
    volunteer.name = form.name
    volunteer.grid_id = form.grid_id
    volunteer.building = form.building
    volunteer.unit = form.unit
    volunteer.branch = form.branch
    volunteer.occupation = form.occupation
    volunteer.skills = list(form.skills)
    volunteer.specialties = form.specialties
    volunteer.availability = list(form.availability)
    volunteer.max_active_tasks = form.max_active_tasks
    volunteer.kind = form.kind
    volunteer.reject_reason = None
    if preapproved_by is not None:
        volunteer.status = "approved"
        volunteer.reviewed_by = preapproved_by
        volunteer.reviewed_at = app.now()
    else:
        volunteer.status = "pending"
    audit.record(session, user_id, "volunteer.register", "user", user_id, status=volunteer.status)
    reviewers = [] if preapproved_by else await staff_for_grid(session, form.grid_id)
    await session.commit()
    for staff_id in reviewers:
        await app.notifier.notify(
            staff_id, Notice("staff.volunteer_review", {"volunteer_user_id": user_id})
        )
    return volunteer.status


@transactional
async def review_volunteer(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    volunteer_user_id: int,
    *,
    approve: bool,
    reason: str | None = None,
) -> Volunteer:
    """Approve or reject a pending volunteer. Only the first review counts."""
    await begin_write(session)
    await _require_staff(session, staff_user_id)
    status = "approved" if approve else "rejected"
    result = await session.execute(
        update(Volunteer)
        .where(Volunteer.user_id == volunteer_user_id, Volunteer.status == "pending")
        .values(
            status=status,
            reviewed_by=staff_user_id,
            reviewed_at=app.now(),
            reject_reason=None if approve else reason,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise UserError("staff.already_reviewed")
    audit.record(session, staff_user_id, f"volunteer.{status}", "user", volunteer_user_id)
    await session.commit()
    volunteer = await session.get(Volunteer, volunteer_user_id, populate_existing=True)
    assert volunteer is not None
    kind = "volunteer.approved" if approve else "volunteer.rejected"
    await app.notifier.notify(volunteer_user_id, Notice(kind, {"reason": reason or ""}))
    return volunteer


@transactional
async def update_volunteer(session: AsyncSession, user_id: int, **changes: object) -> None:
    await begin_write(session)
    allowed = {
        "name",
        "grid_id",
        "building",
        "unit",
        "branch",
        "occupation",
        "skills",
        "specialties",
        "availability",
        "max_active_tasks",
        "paused_until",
        "public_board",
    }
    if not changes.keys() <= allowed:
        raise ValueError(f"cannot change {set(changes) - allowed}")
    await session.execute(update(Volunteer).where(Volunteer.user_id == user_id).values(**changes))
    audit.record(session, user_id, "volunteer.update", "user", user_id, fields=sorted(changes))
    await session.commit()


async def _require_staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    return staff


@transactional
async def create_invite(
    app: AppContext, session: AsyncSession, staff_user_id: int, kind: str, grid_id: int | None
) -> InviteCode:
    await begin_write(session)
    staff = await _require_staff(session, staff_user_id)
    if kind not in ("staff", "volunteer"):
        raise UserError("staff.invite_usage")
    if staff.scope == "grid" and (grid_id is None or grid_id != staff.grid_id):
        grid_id = staff.grid_id  # grid staff invite only into their own grid
    invite = InviteCode(
        code=secrets.token_urlsafe(9),
        kind=kind,
        grid_id=grid_id,
        created_by=staff_user_id,
        expires_at=app.now() + timedelta(hours=app.settings.staff.invite_ttl_hours),
    )
    session.add(invite)
    audit.record(session, staff_user_id, "invite.create", "invite", invite.code, kind=kind)
    await session.commit()
    return invite


@transactional
async def redeem_invite(
    app: AppContext, session: AsyncSession, user_id: int, code: str
) -> InviteCode:
    """Use a code once. Staff codes take effect now; volunteer codes pre-approve a profile."""
    await begin_write(session)
    now = app.now()
    result = await session.execute(
        update(InviteCode)
        .where(
            InviteCode.code == code,
            InviteCode.used_by.is_(None),
            InviteCode.expires_at > now,
        )
        .values(used_by=user_id, used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        invite = await session.get(InviteCode, code)
        if invite is None:
            raise UserError("invite.unknown")
        if invite.used_by is not None:
            raise UserError("invite.used")
        raise UserError("invite.expired")
    invite = await session.get(InviteCode, code, populate_existing=True)
    assert invite is not None
    if invite.kind == "staff":
        staff = await session.get(Staff, user_id)
        scope = "grid" if invite.grid_id is not None else "community"
        if staff is None:
            session.add(
                Staff(
                    user_id=user_id,
                    scope=scope,
                    grid_id=invite.grid_id,
                    invited_by=invite.created_by,
                )
            )
        elif staff.scope == "grid" and scope == "community":
            staff.scope, staff.grid_id = "community", None
    audit.record(session, user_id, "invite.redeem", "invite", code, kind=invite.kind)
    await session.commit()
    return invite


async def pending_volunteers(session: AsyncSession, staff_user_id: int) -> list[Volunteer]:
    staff = await _require_staff(session, staff_user_id)
    query = select(Volunteer).where(Volunteer.status == "pending").order_by(Volunteer.created_at)
    if staff.scope == "grid":
        query = query.where(or_(Volunteer.grid_id == staff.grid_id))
    return list((await session.scalars(query)).all())


async def peek_invite(app: AppContext, session: AsyncSession, code: str) -> InviteCode:
    """Check a code without using it up (a volunteer code is used when the profile is filed)."""
    invite = await session.get(InviteCode, code)
    if invite is None:
        raise UserError("invite.unknown")
    if invite.used_by is not None:
        raise UserError("invite.used")
    if invite.expires_at <= app.now():
        raise UserError("invite.expired")
    return invite
