"""Points expiry (points.expiry = "end_of_next_year"): reminders, then the expiry entries."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, Volunteer
from bot.db.models.points import (
    KIND_ADJUST,
    LedgerEntry,
)
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.points.ledger import ADJUST_MAX, REASON_MAX, award, balance, lock_account

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VolunteerPick:
    user_id: int
    name: str
    grid_name: str
    balance: int


async def find_volunteers(
    session: AsyncSession, staff_user_id: int, query: str, limit: int = 8
) -> list[VolunteerPick]:
    """Volunteers whose name contains ``query`` (grid staff: in their grid only)."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    needle = " ".join(query.split())
    if not needle:
        return []
    stmt = (
        select(Volunteer.user_id, Volunteer.name, Grid.name)
        .join(Grid, Grid.id == Volunteer.grid_id)
        .where(Volunteer.name.contains(needle, autoescape=True), Volunteer.status == "approved")
        .order_by(Volunteer.name, Volunteer.user_id)
        .limit(limit)
    )
    if staff.scope == "grid":
        stmt = stmt.where(Volunteer.grid_id == staff.grid_id)
    rows = (await session.execute(stmt)).all()
    return [
        VolunteerPick(uid, name, grid_name, await balance(session, uid))
        for uid, name, grid_name in rows
    ]


async def volunteer_pick(session: AsyncSession, staff_user_id: int, user_id: int) -> VolunteerPick:
    """One volunteer a staff member may adjust, with their balance."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None:
        raise UserError("points.no_such_volunteer")
    if staff.scope == "grid" and volunteer.grid_id != staff.grid_id:
        raise UserError("points.not_your_grid")
    grid = await session.get(Grid, volunteer.grid_id)
    return VolunteerPick(
        user_id, volunteer.name, grid.name if grid else "", await balance(session, user_id)
    )


def new_request_id() -> str:
    """Names one adjustment form: pressing "confirm" twice still adjusts once."""
    return secrets.token_hex(6)


def clean_reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason or len(reason) > REASON_MAX or reason.startswith("/"):
        raise UserError("points.reason_invalid", max=REASON_MAX)
    return reason


def parse_adjust_amount(text: str) -> int:
    cleaned = text.strip().replace("＋", "+").replace("－", "-").replace(" ", "")
    try:
        amount = int(cleaned)
    except ValueError:
        raise UserError("points.adjust_amount_invalid", max=ADJUST_MAX) from None
    if amount == 0 or abs(amount) > ADJUST_MAX:
        raise UserError("points.adjust_amount_invalid", max=ADJUST_MAX)
    return amount


async def adjust(
    app: AppContext,
    session: AsyncSession,
    *,
    staff_user_id: int,
    user_id: int,
    amount: int,
    reason: str,
    request_id: str,
) -> LedgerEntry | None:
    """A staff correction (±), audited; never takes a balance below zero. Commits, notifies.
    None if this request was already applied."""
    reason = clean_reason(reason)
    if amount == 0 or abs(amount) > ADJUST_MAX:
        raise UserError("points.adjust_amount_invalid", max=ADJUST_MAX)
    await begin_write(session)
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None:
        raise UserError("points.no_such_volunteer")
    if staff.scope == "grid" and volunteer.grid_id != staff.grid_id:
        raise UserError("points.not_your_grid")
    await lock_account(session, user_id)
    current = await balance(session, user_id)
    if current + amount < 0:
        await session.rollback()
        raise UserError("points.adjust_below_zero", balance=current)
    entry = await award(
        app,
        session,
        user_id=user_id,
        amount=amount,
        reason=reason,
        source_type="adjustment",
        source_id=f"{staff_user_id}:{request_id}",
        approved_by=staff_user_id,
        kind=KIND_ADJUST,
    )
    if entry is None:
        await session.rollback()
        return None
    audit.record(
        session, staff_user_id, "points.adjust", "user", user_id, amount=amount, reason=reason
    )
    await session.commit()
    await app.notifier.notify(
        user_id,
        Notice(
            "points.adjusted",
            {"amount": f"{amount:+d}", "reason": reason, "balance": current + amount},
        ),
    )
    return entry
