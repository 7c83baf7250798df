"""Who someone is: the user row, their roles, language, blocked flag, erasure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import idem
from bot.db.models import ConversationState, PendingInput, Resident, Staff, User, Volunteer
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.people import erasure

ROLE_RESIDENT = "resident"
ROLE_VOLUNTEER = "volunteer"
ROLE_VOLUNTEER_PENDING = "volunteer_pending"
ROLE_STAFF = "staff"
ROLE_ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an update, as handlers see them."""

    user_id: int
    telegram_id: int
    language: str
    display_name: str
    roles: frozenset[str]
    grid_id: int | None  # where they live (resident or volunteer profile)
    staff_grid_id: int | None  # a grid staff member's grid; None for community-wide staff

    def has(self, role: str) -> bool:
        return role in self.roles


def roles_of(user: User) -> frozenset[str]:
    roles: set[str] = set()
    if user.resident is not None:
        roles.add(ROLE_RESIDENT)
    if user.volunteer is not None:
        approved = user.volunteer.status == "approved"
        roles.add(ROLE_VOLUNTEER if approved else ROLE_VOLUNTEER_PENDING)
    if user.staff is not None:
        roles.add(ROLE_STAFF)
        if user.staff.is_admin:
            roles.add(ROLE_ADMIN)
    return frozenset(roles)


def actor_of(user: User) -> Actor:
    grid_id = None
    if user.resident is not None:
        grid_id = user.resident.grid_id
    elif user.volunteer is not None:
        grid_id = user.volunteer.grid_id
    return Actor(
        user_id=user.id,
        telegram_id=user.telegram_id or 0,
        language=user.language,
        display_name=user.display_name or "",
        roles=roles_of(user),
        grid_id=grid_id,
        staff_grid_id=user.staff.grid_id if user.staff is not None else None,
    )


@transactional
async def touch_user(
    session: AsyncSession, telegram_id: int, display_name: str, language: str
) -> tuple[User, bool]:
    """Find or create the user for a Telegram id. Returns (user, created)."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        await begin_write(session)
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        user = User(
            telegram_id=telegram_id,
            display_name=display_name[:128],
            language=language,
            resident=None,
            volunteer=None,
            staff=None,
        )
        session.add(user)
        await session.commit()
        return user, True
    new_name = display_name[:128] if display_name else user.display_name
    # A message from them means they unblocked the bot; a new Telegram name is taken over.
    if user.is_blocked or new_name != user.display_name:
        uid = user.id
        await session.rollback()  # upgrading a read to a write can fail on SQLite: redo as write
        await begin_write(session)
        await session.execute(
            update(User).where(User.id == uid).values(display_name=new_name, is_blocked=False)
        )
        await session.commit()
        user = await session.get(User, uid, populate_existing=True)
        assert user is not None
    return user, False


_ACTOR_ROW = (
    select(
        User.id,
        User.telegram_id,
        User.language,
        User.display_name,
        User.is_blocked,
        Resident.user_id.label("resident_id"),
        Resident.grid_id.label("resident_grid"),
        Volunteer.user_id.label("volunteer_id"),
        Volunteer.status.label("volunteer_status"),
        Volunteer.grid_id.label("volunteer_grid"),
        Staff.user_id.label("staff_id"),
        Staff.is_admin,
        Staff.grid_id.label("staff_grid"),
    )
    .outerjoin(Resident, Resident.user_id == User.id)
    .outerjoin(Volunteer, Volunteer.user_id == User.id)
    .outerjoin(Staff, Staff.user_id == User.id)
)


ACTOR_BY_TELEGRAM_ID = _ACTOR_ROW.where(User.telegram_id == bindparam("telegram_id"))
# session.info: (telegram id, the row of ACTOR_BY_TELEGRAM_ID or None) read ahead of
# touch_actor in the same update (bot.tg.fsm_storage reads it with the conversation state).
READ_AHEAD = "wishbot_actor_read_ahead"


def read_ahead(session: AsyncSession, telegram_id: int, row: Any) -> None:
    """Hand touch_actor the person's row (None: no such user), read with something else."""
    session.info[READ_AHEAD] = (telegram_id, row)


def _actor_from_row(row: Any) -> Actor:
    roles: set[str] = set()
    if row.resident_id is not None:
        roles.add(ROLE_RESIDENT)
    if row.volunteer_id is not None:
        roles.add(ROLE_VOLUNTEER if row.volunteer_status == "approved" else ROLE_VOLUNTEER_PENDING)
    if row.staff_id is not None:
        roles.add(ROLE_STAFF)
        if row.is_admin:
            roles.add(ROLE_ADMIN)
    return Actor(
        user_id=row.id,
        telegram_id=row.telegram_id or 0,
        language=row.language,
        display_name=row.display_name or "",
        roles=frozenset(roles),
        grid_id=row.resident_grid if row.resident_id is not None else row.volunteer_grid,
        staff_grid_id=row.staff_grid if row.staff_id is not None else None,
    )


_RENAME = "wishbot_actor_rename"  # session.info: (user id, old name, new name), for later


async def touch_actor(
    session: AsyncSession,
    telegram_id: int,
    display_name: str,
    language: str,
    *,
    rename_later: bool = False,
) -> Actor:
    """The person behind an update, in one SELECT (user, profiles and roles joined).

    Only a first contact, a new Telegram name or a return after blocking the bot writes (then
    through :func:`touch_user`); an ordinary update reads one row. ``rename_later``: a new
    Telegram name alone is stored by :func:`store_rename` once the update is answered, so
    it does not queue for the write lock ahead of the answer.
    """
    ahead = session.info.pop(READ_AHEAD, None)
    if ahead is not None and ahead[0] == telegram_id and ahead[1] is not None:
        row = ahead[1]
    else:
        row = (await session.execute(ACTOR_BY_TELEGRAM_ID, {"telegram_id": telegram_id})).first()
    if row is not None:
        new_name = display_name[:128] if display_name else row.display_name
        if row.is_blocked or (new_name != row.display_name and not rename_later):
            await _renamed(session, row.id, new_name)  # one UPDATE; the roles are as read
        elif new_name != row.display_name:
            session.info[_RENAME] = (row.id, row.display_name, new_name)
        return replace(_actor_from_row(row), display_name=new_name or "")
    user, _ = await touch_user(session, telegram_id, display_name, language)
    return actor_of(user)


def forget_rename(session: AsyncSession) -> None:
    """Drop a noted new name (it is noted again, and stored, on a later update)."""
    session.info.pop(_RENAME, None)


@transactional
async def store_rename(session: AsyncSession) -> None:
    """The new Telegram name noted by ``touch_actor(..., rename_later=True)``, if any."""
    pending = session.info.pop(_RENAME, None)
    if pending is None:
        return
    user_id, old_name, new_name = pending
    idem.disarm(session)  # a key the handler armed and did not use is not this write's
    await begin_write(session)
    await session.execute(  # unless the update changed it (/delete_me anonymises the name)
        update(User)
        .where(User.id == user_id, User.display_name.is_not_distinct_from(old_name))
        .values(display_name=new_name)
    )
    await session.commit()


@transactional
async def _renamed(session: AsyncSession, user_id: int, display_name: str | None) -> None:
    """A message from them means they unblocked the bot; a new Telegram name is taken over."""
    await begin_write(session)
    await session.execute(
        update(User).where(User.id == user_id).values(display_name=display_name, is_blocked=False)
    )
    await session.commit()


@transactional
async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    await begin_write(session)
    await session.execute(update(User).where(User.id == user_id).values(language=language))
    await session.commit()


@transactional
async def mark_blocked(session: AsyncSession, user_id: int) -> None:
    await begin_write(session)
    await session.execute(update(User).where(User.id == user_id).values(is_blocked=True))
    await session.commit()


async def bootstrap_admins(app: AppContext) -> None:
    """Make every Telegram id in ``staff.admins`` a community-wide admin."""
    async with app.sessions() as session:
        await begin_write(session)
        for telegram_id in app.settings.staff.admins:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                user = User(
                    telegram_id=telegram_id, language=app.settings.community.default_language
                )
                session.add(user)
                await session.flush()
            staff = await session.get(Staff, user.id)
            if staff is None:
                session.add(Staff(user_id=user.id, scope="community", is_admin=True))
                audit.record(session, None, "staff.bootstrap", "user", user.id)
            elif not staff.is_admin:
                staff.is_admin = True
        await session.commit()


@transactional
async def erase_user(app: AppContext, session: AsyncSession, user_id: int) -> None:
    """/delete_me: remove personal data; keep anonymous rows that history points at."""
    await begin_write(session)
    user = await session.get(User, user_id)
    if user is None:
        return
    telegram_id = user.telegram_id
    resident = await session.get(Resident, user_id)
    if resident is not None:
        await session.delete(resident)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is not None:
        await session.delete(volunteer)
    staff = await session.get(Staff, user_id)
    if staff is not None:
        await session.delete(staff)
    pending = await session.get(PendingInput, user_id)
    if pending is not None:
        await session.delete(pending)
    if telegram_id is not None:
        await session.execute(
            delete(ConversationState).where(ConversationState.key.like(f"%:{telegram_id}:%"))
        )
    await erasure.erase_traces(session, user_id)
    user.telegram_id = None
    user.display_name = None
    user.deleted_at = app.now()
    audit.record(session, user_id, "user.erase", "user", user_id)
    await session.commit()


def mask_phone(phone: str | None) -> str:
    """138****5678: shown to everyone but the owner (and the volunteer holding their task)."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 7 else 1
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
