"""召集人: staff appoint a member as the convenor of their grid or of their home organisation
(党组织); with ``points.declarations_via_convenor`` the group's declarations go to them first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Convenor,
    DeclarationBatch,
    DeclarationBatchItem,
    Grid,
    Staff,
    User,
    Volunteer,
)
from bot.db.models.lists import BATCH_FORWARDED, BATCH_VERIFIED
from bot.db.models.points import Declaration
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.people.helpers import KIND_MEMBER

SCOPES = ("grid", "org")


@dataclass(frozen=True, slots=True)
class ConvenorView:
    user_id: int
    name: str
    telegram_id: int | None
    grid_name: str | None  # a grid's convenor
    branch: str | None  # a home organisation's convenor


async def find_member(session: AsyncSession, who: str) -> int:
    """A member named exactly ``who``, or with Telegram id ``who`` (as /myid shows it)."""
    who = who.strip().lstrip("@")
    if who.isdigit():
        found = await session.scalar(select(User.id).where(User.telegram_id == int(who)))
        ids = [found] if found is not None else []
    else:
        ids = list(
            (await session.scalars(select(Volunteer.user_id).where(Volunteer.name == who))).all()
        )
    if len(ids) > 1:
        raise UserError("convenor.ambiguous")
    if not ids:
        raise UserError("convenor.members_only")
    return ids[0]


async def _staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    return staff


async def appoint(
    app: AppContext, session: AsyncSession, staff_user_id: int, user_id: int, scope: str
) -> ConvenorView:
    """Make an approved member the convenor of their grid ("grid") or branch ("org")."""
    if scope not in SCOPES:
        raise UserError("convenor.usage")
    await begin_write(session)
    await _staff(session, staff_user_id)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None or volunteer.status != "approved" or volunteer.kind != KIND_MEMBER:
        raise UserError("convenor.members_only")
    if not await staff_covers_grid(session, staff_user_id, volunteer.grid_id):
        raise UserError("points.not_your_grid")
    if scope == "org" and not volunteer.branch:
        raise UserError("convenor.members_only")
    row = await session.get(Convenor, user_id)
    if row is None:
        row = Convenor(user_id=user_id, appointed_by=staff_user_id, created_at=app.now())
        session.add(row)
    row.grid_id = volunteer.grid_id if scope == "grid" else None
    row.branch = volunteer.branch if scope == "org" else None
    row.appointed_by = staff_user_id
    audit.record(session, staff_user_id, "convenor.appoint", "user", user_id, scope=scope)
    await session.commit()
    view = await convenor_view(session, user_id)
    assert view is not None
    await app.notifier.notify(
        user_id, Notice("convenor.appointed", {"group": view.branch or view.grid_name or ""})
    )
    return view


async def dismiss(app: AppContext, session: AsyncSession, staff_user_id: int, user_id: int) -> None:
    await begin_write(session)
    await _staff(session, staff_user_id)
    row = await session.get(Convenor, user_id)
    if row is None:
        raise UserError("convenor.unknown")
    volunteer = await session.get(Volunteer, user_id)
    grid_id = volunteer.grid_id if volunteer is not None else row.grid_id
    if not await staff_covers_grid(session, staff_user_id, grid_id):
        raise UserError("points.not_your_grid")
    await session.delete(row)
    audit.record(session, staff_user_id, "convenor.dismiss", "user", user_id)
    await session.commit()


async def convenor_view(session: AsyncSession, user_id: int) -> ConvenorView | None:
    row = (
        await session.execute(
            select(Convenor, Volunteer.name, Grid.name, User.telegram_id)
            .join(User, User.id == Convenor.user_id)
            .outerjoin(Volunteer, Volunteer.user_id == Convenor.user_id)
            .outerjoin(Grid, Grid.id == Convenor.grid_id)
            .where(Convenor.user_id == user_id)
        )
    ).one_or_none()
    if row is None:
        return None
    convenor, name, grid_name, telegram_id = row
    return ConvenorView(convenor.user_id, name or "", telegram_id, grid_name, convenor.branch)


async def listing(session: AsyncSession, staff_user_id: int) -> list[ConvenorView]:
    staff = await _staff(session, staff_user_id)
    stmt = select(Convenor.user_id).join(Volunteer, Volunteer.user_id == Convenor.user_id)
    if staff.scope == "grid" and not staff.is_admin:
        stmt = stmt.where(Volunteer.grid_id == staff.grid_id)
    ids = list((await session.scalars(stmt.order_by(Convenor.user_id))).all())
    views = [await convenor_view(session, uid) for uid in ids]
    return [v for v in views if v is not None]


async def require_convenor(session: AsyncSession, user_id: int) -> Convenor:
    row = await session.get(Convenor, user_id)
    if row is None:
        raise UserError("convenor.not_convenor")
    return row


async def convenors_for(app: AppContext, session: AsyncSession, volunteer: Volunteer) -> list[int]:
    """Who gathers this member's declarations: none when the community works without
    convenors (config) or has none for them; a convenor never gathers their own."""
    if not app.settings.points.declarations_via_convenor:
        return []
    conditions = [Convenor.grid_id == volunteer.grid_id]
    if volunteer.branch:
        conditions.append(Convenor.branch == volunteer.branch)
    rows = await session.scalars(
        select(Convenor.user_id)
        .where(or_(*conditions), Convenor.user_id != volunteer.user_id)
        .order_by(Convenor.user_id)
    )
    return list(rows.all())


def in_open_batch() -> ColumnElement[bool]:
    """The declaration sits in a batch staff have (forwarded) or have verified."""
    return exists(
        select(DeclarationBatchItem.declaration_id)
        .join(DeclarationBatch, DeclarationBatch.id == DeclarationBatchItem.batch_id)
        .where(
            DeclarationBatchItem.declaration_id == Declaration.id,
            DeclarationBatch.status.in_((BATCH_FORWARDED, BATCH_VERIFIED)),
        )
    )


def awaiting_convenor() -> ColumnElement[bool]:
    """A pending declaration that a convenor (not its author) gathers and has not forwarded:
    staff's own list leaves it out when the community works with convenors."""
    branch = (
        select(Volunteer.branch)
        .where(Volunteer.user_id == Declaration.user_id)
        .correlate(Declaration)
        .scalar_subquery()
    )
    covered = exists(
        select(Convenor.user_id)
        .correlate(Declaration)
        .where(
            Convenor.user_id != Declaration.user_id,
            or_(
                Convenor.grid_id == Declaration.grid_id, Convenor.branch == branch.scalar_subquery()
            ),
        )
    )
    return covered & ~in_open_batch()
