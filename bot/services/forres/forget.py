"""Forgetting a resident record without Telegram (代办's /delete_me): staff erase it for them.

Such a resident cannot send /delete_me, so a grid worker (their grid) or community staff (every
grid) does it when the resident asks to be forgotten; volunteers never, even where they may
file. Only records without Telegram: a Telegram user erases themselves. Open wishes are
cancelled first, as the resident's own cancel does (the volunteer holding one is told and no
longer sees the phone); the answers kept for the presses of those who served them are emptied
where they quote them; then ``actors.erase_user`` empties every table as /delete_me does. The
代办 rows stay for the counts: a consent (how, when, by whom) and a filing (which wish, by whom)
hold no personal field, and the user row they point at is emptied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AuditEntry,
    Grid,
    ProcessedAction,
    ProxyFiling,
    Resident,
    ResidentConsent,
    Staff,
    User,
    Wish,
)
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.forres.records import Filer, phone_tail
from bot.services.intake import wish_states, wishes
from bot.services.people import actors

FORGET = "resident.forget"
CLAIM_STALE = timedelta(minutes=5)  # a claim older than this was a call cut short: done again


@dataclass(frozen=True, slots=True)
class Listed:
    """A record as the forgetting page lists it: the phone by its last four digits."""

    user_id: int
    name: str
    building: str
    phone_tail: str
    grid_id: int
    grid_name: str
    wishes: int


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forgetting did: ``already`` when an earlier call (or a join) had emptied it."""

    user_id: int
    already: bool
    cancelled: int


async def forgetter_of(session: AsyncSession, user_id: int) -> Filer:
    """Grid staff for their grid, community staff and admins for every grid; else refused."""
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("forget.staff_only")
    if staff.is_admin or staff.scope != "grid":
        return Filer(user_id, None)
    return Filer(user_id, frozenset({staff.grid_id}) if staff.grid_id else frozenset())


async def list_records(
    session: AsyncSession, staff_user_id: int, limit: int, offset: int
) -> tuple[list[Listed], int]:
    """The records without Telegram in the staff member's grids, oldest first, and how many."""
    scope = await forgetter_of(session, staff_user_id)
    where = [User.telegram_id.is_(None), User.deleted_at.is_(None)]
    if scope.grid_ids is not None:
        where.append(Resident.grid_id.in_(scope.grid_ids))
    total = await session.scalar(
        select(func.count())
        .select_from(User)
        .join(Resident, Resident.user_id == User.id)
        .where(*where)
    )
    counted = (
        select(Wish.resident_id, func.count().label("n")).group_by(Wish.resident_id).subquery()
    )
    rows = (
        await session.execute(
            select(
                User.id,
                User.display_name,
                Resident.building,
                Resident.phone,
                Grid.id,
                Grid.name,
                func.coalesce(counted.c.n, 0),
            )
            .join(Resident, Resident.user_id == User.id)
            .join(Grid, Grid.id == Resident.grid_id)
            .outerjoin(counted, counted.c.resident_id == User.id)
            .where(*where)
            .order_by(User.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    await session.commit()
    listed = [
        Listed(int(uid), name or "", building or "", phone_tail(phone), int(gid), gname, int(n))
        for uid, name, building, phone, gid, gname, n in rows
    ]
    return listed, int(total or 0)


async def record_to_forget(
    session: AsyncSession, staff_user_id: int, record_user_id: int
) -> Listed:
    """One record the staff member may forget, for the confirm page; refused otherwise."""
    scope = await forgetter_of(session, staff_user_id)
    row = (
        await session.execute(
            select(User, Resident, Grid.name)
            .join(Resident, Resident.user_id == User.id)
            .join(Grid, Grid.id == Resident.grid_id)
            .where(User.id == record_user_id)
        )
    ).first()
    if row is None:
        await session.commit()
        raise UserError("forget.unknown")
    user, resident, grid_name = row
    if user.telegram_id is not None:
        await session.commit()
        raise UserError("forget.has_telegram")
    if not scope.covers(resident.grid_id):
        await session.commit()
        raise UserError("forres.not_your_grid")
    count = await session.scalar(
        select(func.count()).select_from(Wish).where(Wish.resident_id == record_user_id)
    )
    await session.commit()
    return Listed(
        user.id,
        user.display_name or "",
        resident.building or "",
        phone_tail(resident.phone),
        resident.grid_id,
        grid_name,
        int(count or 0),
    )


@transactional
async def forget_record(
    app: AppContext, session: AsyncSession, staff_user_id: int, record_user_id: int
) -> Forgotten:
    """Erase a resident record without Telegram at the resident's request; a second call
    changes nothing and says it was already done."""
    scope = await forgetter_of(session, staff_user_id)
    user = await session.get(User, record_user_id, populate_existing=True)
    if user is None:
        raise UserError("forget.unknown")
    if user.telegram_id is not None:
        raise UserError("forget.has_telegram")
    if user.deleted_at is not None:
        await session.commit()
        return Forgotten(record_user_id, already=True, cancelled=0)
    resident = await session.get(Resident, record_user_id)
    if resident is None:
        raise UserError("forget.unknown")
    grid_id = resident.grid_id
    if not scope.covers(grid_id):
        raise UserError("forres.not_your_grid")
    said = [user.display_name, resident.phone, resident.building]  # before they are erased
    if not await _claim(app, session, staff_user_id, record_user_id):
        return Forgotten(record_user_id, already=True, cancelled=0)  # another press is on it
    open_ids = list(
        await session.scalars(
            select(Wish.id)
            .where(
                Wish.resident_id == record_user_id,
                Wish.status.in_(wish_states.CANCELLABLE),
            )
            .order_by(Wish.id)
        )
    )
    await session.commit()
    cancelled = 0
    for wish_id in open_ids:
        try:  # as the resident's own cancel: the holder is told, the phone no longer shown
            await wishes.cancel_wish(app, session, record_user_id, wish_id)
            cancelled += 1
        except UserError:  # finished or cancelled meanwhile: nothing to cancel
            continue
    # Erasing (which marks the record deleted) comes last: a call cut short is done again.
    await begin_write(session)
    session.expunge_all()  # what was read above may be stale: a press racing this one
    again = await session.get(User, record_user_id)
    if again is None or again.deleted_at is not None:
        await session.commit()
        return Forgotten(record_user_id, already=True, cancelled=cancelled)
    await _forget_answers(session, record_user_id, [s for s in said if s])
    asked_before = await session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == FORGET,
            AuditEntry.object_type == "user",
            AuditEntry.object_id == str(record_user_id),
        )
    )
    if asked_before is None:  # a double press racing this one, or a call cut short: once
        audit.record(
            session,
            staff_user_id,
            FORGET,
            "user",
            record_user_id,
            grid_id=grid_id,
            cancelled=cancelled,
        )
    await session.commit()
    await actors.erase_user(app, session, record_user_id)
    return Forgotten(record_user_id, already=False, cancelled=cancelled)


async def _forget_answers(session: AsyncSession, record_user_id: int, said: list[str]) -> None:
    """The answers kept for the presses of those who served the record (filers, consent
    recorders, volunteers of its wishes) quote its name ("已为刘大爷登记心愿"): emptied where they
    do (a replayed press is then told only that it was done). The caller commits."""
    if not said:
        return
    served = (
        select(ResidentConsent.recorded_by)
        .where(ResidentConsent.resident_id == record_user_id)
        .union(
            select(ProxyFiling.filer_id)
            .join(Wish, Wish.id == ProxyFiling.wish_id)
            .where(Wish.resident_id == record_user_id),
            select(Wish.volunteer_id).where(
                Wish.resident_id == record_user_id, Wish.volunteer_id.is_not(None)
            ),
        )
        .subquery()
    )
    await session.execute(
        update(ProcessedAction)
        .where(
            ProcessedAction.user_id.in_(select(served.c[0])),
            or_(*(ProcessedAction.answer.contains(text, autoescape=True) for text in said)),
        )
        .values(answer=None)
        .execution_options(synchronize_session=False)
    )


async def _claim(
    app: AppContext, session: AsyncSession, staff_user_id: int, record_user_id: int
) -> bool:
    """Only one forgetting of a record at a time (two staff, or a double POST, at once): the
    first to store the record's key goes on; False for the others. Commits."""
    key = f"forget:{record_user_id}"
    now = app.now()
    await begin_write(session)
    if await session.get(ProcessedAction, key, populate_existing=True) is not None:
        taken_over = await session.execute(  # conditional: of two takers, one wins
            update(ProcessedAction)
            .where(ProcessedAction.key == key, ProcessedAction.created_at < now - CLAIM_STALE)
            .values(created_at=now, user_id=staff_user_id)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return bool(taken_over.rowcount)  # type: ignore[attr-defined]
    try:
        await session.execute(
            insert(ProcessedAction).values(key=key, user_id=staff_user_id, created_at=now)
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True
