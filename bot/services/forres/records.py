"""Who may file for a resident, and the resident records without Telegram they file for.

A record is a ``users`` row with no ``telegram_id`` plus its ``residents`` row: the name as
given (``users.display_name``), building/room and phone, nothing more. The same phone on the
same grid finds the same record again (as the web form does).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Resident, Staff, User, Volunteer
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake.web_form import BUILDING_ROOM_MAX, NAME_MAX, clean_mainland_phone
from bot.services.people.registration import clean_text
from bot.services.text import visible

MATCH_MIN = 70  # rapidfuzz partial_ratio for a name or building to count as found
SHOWN = 8  # records offered per search


@dataclass(frozen=True, slots=True)
class Filer:
    """Someone who may file for residents, and where: ``grid_ids`` None means every grid."""

    user_id: int
    grid_ids: frozenset[int] | None

    def covers(self, grid_id: int) -> bool:
        return self.grid_ids is None or grid_id in self.grid_ids


@dataclass(frozen=True, slots=True)
class Record:
    """A resident record as the filer sees it: the phone shown by its last four digits."""

    user_id: int
    name: str
    building: str
    phone_tail: str
    grid_id: int
    grid_name: str


async def filer_of(app: AppContext, session: AsyncSession, user_id: int) -> Filer:
    """Grid workers (their grid), community staff (every grid), and approved volunteers (their
    own grid) when ``community.volunteers_may_file_for_residents`` allows; else refused."""
    staff = await session.get(Staff, user_id)
    if staff is not None:
        if staff.is_admin or staff.scope != "grid":
            return Filer(user_id, None)
        return Filer(user_id, frozenset({staff.grid_id}) if staff.grid_id else frozenset())
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is not None and volunteer.status == "approved":
        if app.settings.community.volunteers_may_file_for_residents:
            return Filer(user_id, frozenset({volunteer.grid_id}))
        raise UserError("forres.volunteers_not_allowed")
    raise UserError("forres.not_allowed")


async def may_file(app: AppContext, session: AsyncSession, user_id: int) -> Filer:
    """``filer_of`` for a handler: refused kindly, and no transaction left open."""
    try:
        return await filer_of(app, session, user_id)
    finally:
        await session.commit()


def phone_tail(phone: str | None) -> str:
    return (phone or "")[-4:]


async def _records(session: AsyncSession, filer: Filer) -> list[Record]:
    query = (
        select(User.id, User.display_name, Resident.building, Resident.phone, Grid.id, Grid.name)
        .join(Resident, Resident.user_id == User.id)
        .join(Grid, Grid.id == Resident.grid_id)
        .where(User.telegram_id.is_(None), User.deleted_at.is_(None))
        .order_by(User.id)
    )
    if filer.grid_ids is not None:
        query = query.where(Resident.grid_id.in_(filer.grid_ids))
    rows = (await session.execute(query)).all()
    return [
        Record(int(uid), name or "", building or "", phone_tail(phone), int(gid), gname)
        for uid, name, building, phone, gid, gname in rows
    ]


async def find_records(
    app: AppContext, session: AsyncSession, filer_user_id: int, query: str
) -> list[Record]:
    """Records in the filer's grids by last four phone digits, or by name / building (fuzzy)."""
    filer = await filer_of(app, session, filer_user_id)
    query = " ".join(visible(query).split())
    if not query or len(query) > NAME_MAX + BUILDING_ROOM_MAX:
        raise UserError("forres.search_ask")
    records = await _records(session, filer)
    await session.commit()
    if query.isdigit() and len(query) == 4:
        return [r for r in records if r.phone_tail == query][:SHOWN]
    scored: list[tuple[float, int, Record]] = []
    for record in records:
        score = max(
            fuzz.partial_ratio(query, record.name, processor=default_process),
            fuzz.partial_ratio(query, record.building, processor=default_process)
            if record.building
            else 0.0,
        )
        if score >= MATCH_MIN:
            scored.append((score, -record.user_id, record))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [record for _, _, record in scored[:SHOWN]]


async def record_for(
    app: AppContext, session: AsyncSession, filer_user_id: int, resident_id: int
) -> Record:
    """One record the filer may file for (in their grids, without Telegram), else refused."""
    filer = await filer_of(app, session, filer_user_id)
    row = (
        await session.execute(
            select(User, Resident, Grid.name)
            .join(Resident, Resident.user_id == User.id)
            .join(Grid, Grid.id == Resident.grid_id)
            .where(User.id == resident_id)
        )
    ).first()
    await session.commit()
    if row is None:
        raise UserError("forres.record_gone")
    user, resident, grid_name = row
    if user.telegram_id is not None or user.deleted_at is not None:
        raise UserError("forres.record_gone")
    if not filer.covers(resident.grid_id):
        raise UserError("forres.not_your_grid")
    return Record(
        user.id,
        user.display_name or "",
        resident.building or "",
        phone_tail(resident.phone),
        resident.grid_id,
        grid_name,
    )


@dataclass(frozen=True, slots=True)
class NewRecord:
    name: str
    building: str
    phone: str


def clean_name(name: str) -> str:
    return clean_text(visible(name), NAME_MAX, "forres.bad_name")


def clean_building(building: str) -> str:
    return clean_text(visible(building), BUILDING_ROOM_MAX, "forres.bad_building")


def clean_record(name: str, building: str, phone: str) -> NewRecord:
    """The least personal data: the name as the resident gave it, building/room, phone."""
    return NewRecord(clean_name(name), clean_building(building), clean_mainland_phone(phone))


@transactional
async def create_record(
    app: AppContext, session: AsyncSession, filer_user_id: int, grid_id: int, new: NewRecord
) -> int:
    """A resident record without Telegram on ``grid_id``; the same phone there: the same one."""
    filer = await filer_of(app, session, filer_user_id)
    if not filer.covers(grid_id):
        raise UserError("forres.not_your_grid")
    await begin_write(session)
    grid = await session.get(Grid, grid_id)
    if grid is None or not grid.active:
        raise UserError("forms.grid_gone")
    known = await session.scalar(
        select(Resident.user_id)
        .join(User, User.id == Resident.user_id)
        .where(
            Resident.phone == new.phone,
            Resident.grid_id == grid_id,
            User.telegram_id.is_(None),
            User.deleted_at.is_(None),
        )
        .order_by(Resident.user_id)
        .limit(1)
    )
    now = app.now()
    if known is not None:
        user = await session.get(User, known)
        resident = await session.get(Resident, known)
        assert user is not None and resident is not None
        user.display_name, resident.building = new.name, new.building
        await session.commit()
        return int(known)
    user = User(
        telegram_id=None,
        display_name=new.name,
        language=app.settings.community.default_language,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    session.add(
        Resident(
            user_id=user.id,
            grid_id=grid_id,
            building=new.building,
            phone=new.phone,
            share_phone=True,  # they have no chat: the volunteer holding the task phones them
            consent_at=now,
            created_at=now,
        )
    )
    audit.record(session, filer_user_id, "resident.create_for", "user", user.id, grid_id=grid_id)
    await session.commit()
    return int(user.id)
