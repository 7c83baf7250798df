"""Joining records: a resident filed for (or who used the web form) registers in the bot with
the same phone, confirms "这是您吗？", and the record's wishes become theirs.

Only a record without Telegram is ever joined, only into the person registering, only when
Telegram vouches for the phone (a shared contact, not a typed number) and after they confirm;
the question shows the recorded name masked (刘**), never the building.
The record's row is kept empty (its audit trail points at it): the name is cleared, it is
marked deleted and its ``residents`` row removed, so nobody files for it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import RelayMessage, Resident, ResidentConsent, User, Wish
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record the registering person may be: its id, the name masked, how many wishes."""

    user_id: int
    masked_name: str
    wishes: int


def phone_forms(phone: str) -> set[str]:
    """The ways one number may have been stored: as typed, digits only, without +86/0086."""
    digits = re.sub(r"\D", "", phone)
    forms = {phone, digits, f"+{digits}"}
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            forms.add(digits[len(prefix) :])
    return {f for f in forms if len(re.sub(r"\D", "", f)) >= 6}


def mask_name(name: str) -> str:
    """``刘大爷`` → ``刘**``, ``Liu Wei`` → ``L******``: enough to recognise oneself."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else "*"


async def candidates(session: AsyncSession, user_id: int) -> list[Candidate]:
    """Records without Telegram with the phone ``user_id`` registered with (none without one)."""
    phone = await session.scalar(select(Resident.phone).where(Resident.user_id == user_id))
    if not phone:
        await session.commit()
        return []
    rows = (
        await session.execute(
            select(User.id, User.display_name)
            .join(Resident, Resident.user_id == User.id)
            .where(
                Resident.phone.in_(phone_forms(phone)),
                User.telegram_id.is_(None),
                User.deleted_at.is_(None),
                User.id != user_id,
            )
            .order_by(User.id)
        )
    ).all()
    found = []
    for record_id, name in rows:
        count = await session.scalar(
            select(func.count()).select_from(Wish).where(Wish.resident_id == record_id)
        )
        found.append(Candidate(int(record_id), mask_name(name or ""), int(count or 0)))
    await session.commit()
    return found


@transactional
async def join(
    app: AppContext, session: AsyncSession, user_id: int, record_id: int, verified_phone: str
) -> int:
    """Move the record's wishes (and their messages and consents) to ``user_id``; returns how
    many wishes moved. ``verified_phone`` is the person's own number as Telegram shared it (a
    typed number proves nothing); refused unless the record is still one of the person's
    candidates and carries that number."""
    if record_id not in {c.user_id for c in await candidates(session, user_id)}:
        raise UserError("forres.join_gone")
    record_phone = await session.scalar(select(Resident.phone).where(Resident.user_id == record_id))
    await session.commit()
    if not record_phone or record_phone not in phone_forms(verified_phone):
        raise UserError("forres.join_phone_differs")
    await begin_write(session)
    moved = await session.execute(
        update(Wish)
        .where(Wish.resident_id == record_id)
        .values(resident_id=user_id)
        .execution_options(synchronize_session=False)
    )
    for column in (RelayMessage.from_user_id, RelayMessage.to_user_id):
        await session.execute(
            update(RelayMessage)
            .where(column == record_id)
            .values({column.key: user_id})
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(ResidentConsent)
        .where(ResidentConsent.resident_id == record_id)
        .values(resident_id=user_id)
        .execution_options(synchronize_session=False)
    )
    record = await session.get(Resident, record_id)
    mine = await session.get(Resident, user_id)
    if record is not None and mine is not None and not mine.building:
        mine.building = record.building
    await session.execute(delete(Resident).where(Resident.user_id == record_id))
    await session.execute(
        update(User)
        .where(User.id == record_id)
        .values(display_name=None, deleted_at=app.now())
        .execution_options(synchronize_session=False)
    )
    count = int(moved.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(session, user_id, "resident.join", "user", record_id, wishes=count)
    await session.commit()
    return count
