"""The web wish form (H5) behind a poster's second QR code: residents without Telegram.

A web resident is a ``users`` row with no ``telegram_id`` (the notifier skips such rows) and a
``residents`` row holding the phone the community calls back on; the same phone on the same grid
finds the same record again. Their wishes go through the same intake services as the bot's, with
the history note ``filed_web`` ("网页提交 · 待电话核实") so staff phone before approving.

Links carry no personal data: the form's own token signs the poster's place and the time it was
shown (a stale or forged form is refused), and the status link is the wish number with an HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Resident, User, Volunteer, Wish
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake.history_notes import decode
from bot.services.people.registration import clean_text
from bot.services.text import visible

FORM_TOKEN_MAX_AGE = 2 * 3600  # seconds a shown form may be sent back
NAME_MAX = 32
ROOM_MAX = 16
BUILDING_ROOM_MAX = 64  # residents.building
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who filled the form: how to address them, their phone, where they live."""

    name: str
    phone: str
    building: str | None
    room: str


def clean_mainland_phone(value: str) -> str:
    """A mainland mobile (13800138000) or landline with area code (010-12345678), digits only."""
    digits = re.sub(r"[\s()\-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise UserError("h5.bad_phone")
    return digits


def clean_caller(name: str, phone: str, building: str | None, room: str) -> Caller:
    name = clean_text(visible(name), NAME_MAX, "h5.bad_name")
    room = " ".join(visible(room).split())
    if not room or len(room) > ROOM_MAX:
        raise UserError("h5.bad_room", max=ROOM_MAX)
    return Caller(name, clean_mainland_phone(phone), building, room)


def _mac(key: bytes, value: str, length: int) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:length]


def form_token(key: bytes, grid: str, building: str | None, now: float) -> str:
    """The form's own token: the poster's place and when it was shown (``now``, a timestamp)."""
    stamp = int(now)
    return f"{stamp}.{_form_mac(key, grid, building, stamp)}"


def _form_mac(key: bytes, grid: str, building: str | None, stamp: int) -> str:
    return _mac(key, f"h5form:{grid}:{building or ''}:{stamp}", 32)


def form_token_ok(key: bytes, grid: str, building: str | None, token: str, now: float) -> bool:
    stamp, _, mac = token.partition(".")
    if not stamp.isdigit():
        return False
    age = int(now) - int(stamp)
    if not 0 <= age <= FORM_TOKEN_MAX_AGE:
        return False
    return hmac.compare_digest(_form_mac(key, grid, building, int(stamp)), mac)


def status_token(key: bytes, wish_id: int) -> str:
    """The private status link's token: unguessable without the web secret, no personal data."""
    return f"{wish_id}-{_mac(key, f'h5status:{wish_id}', 32)}"


def wish_of_status_token(key: bytes, token: str) -> int | None:
    number = token.partition("-")[0]
    if not number.isdigit() or len(number) > 18:
        return None
    wish_id = int(number)
    return wish_id if hmac.compare_digest(status_token(key, wish_id), token) else None


def is_web_filed(wish: Wish) -> bool:
    """Whether the wish came through the web form (its history holds ``filed_web``)."""
    for event in wish.history:
        decoded = decode(event.note)
        if decoded is not None and decoded[0] == "filed_web":
            return True
    return False


async def active_grid(session: AsyncSession, code: str) -> Grid | None:
    return await session.scalar(select(Grid).where(Grid.code == code, Grid.active))


@transactional
async def web_resident(
    app: AppContext, session: AsyncSession, grid_id: int, caller: Caller, language: str
) -> int:
    """The web resident with this phone on this grid, made (or updated) from the form."""
    await begin_write(session)
    place = " ".join(p for p in (caller.building, caller.room) if p)[:BUILDING_ROOM_MAX]
    user_id = await session.scalar(
        select(Resident.user_id)
        .join(User, User.id == Resident.user_id)
        .where(
            Resident.phone == caller.phone,
            Resident.grid_id == grid_id,
            User.telegram_id.is_(None),
            User.deleted_at.is_(None),
        )
        .order_by(Resident.user_id)
        .limit(1)
    )
    now = app.now()
    if user_id is None:
        user = User(telegram_id=None, display_name=caller.name, language=language, created_at=now)
        session.add(user)
        await session.flush()
        session.add(
            Resident(
                user_id=user.id,
                grid_id=grid_id,
                building=place,
                phone=caller.phone,
                share_phone=True,  # they asked to be called back on it
                consent_at=now,
                created_at=now,
            )
        )
        audit.record(session, user.id, "resident.register_web", "user", user.id, grid_id=grid_id)
        user_id = user.id
    else:
        known = await session.get(User, user_id)
        resident = await session.get(Resident, user_id)
        assert known is not None and resident is not None
        known.display_name = caller.name
        resident.building = place
        resident.consent_at = now
    await session.commit()
    return int(user_id)


def given_name(name: str) -> str:
    """``张伟`` → ``伟``, ``Wei Zhang`` → ``Wei``: enough to recognise, not the whole name."""
    name = name.strip()
    if " " in name:
        return name.split()[0]
    if len(name) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in name):
        return name[1:] if len(name) <= 3 else name[2:]
    return name


async def volunteer_given_name(session: AsyncSession, wish: Wish) -> str | None:
    if wish.volunteer_id is None:
        return None
    name = await session.scalar(
        select(Volunteer.name).where(Volunteer.user_id == wish.volunteer_id)
    )
    return given_name(name) if name else None


@dataclass(frozen=True, slots=True)
class CallBack:
    """What staff need to phone a web resident back before approving their wish."""

    name: str
    phone: str
    place: str


async def call_backs(session: AsyncSession, wishes: list[Wish]) -> dict[int, CallBack]:
    """Per web-filed wish (by id): the resident's name, phone and address, for staff only."""
    web_wishes = {w.id: w.resident_id for w in wishes if is_web_filed(w)}
    if not web_wishes:
        return {}
    rows = (
        await session.execute(
            select(User.id, User.display_name, Resident.phone, Resident.building)
            .join(Resident, Resident.user_id == User.id)
            .where(User.id.in_(set(web_wishes.values())))
        )
    ).all()
    people = {
        user_id: CallBack(name or "", phone or "", building or "")
        for user_id, name, phone, building in rows
    }
    return {
        wish_id: people[resident] for wish_id, resident in web_wishes.items() if resident in people
    }


async def sent_before(
    session: AsyncSession, duplicate_of: int | None, user_id: int, text: str
) -> int | None:
    """The open wish this web resident already filed with exactly this text (the form sent
    twice), from the intake's duplicate check; None for a new wish, however similar."""
    if duplicate_of is None:
        return None
    wish = await session.get(Wish, duplicate_of)
    if wish is None or wish.resident_id != user_id or wish.text != text:
        return None
    return int(wish.id)
