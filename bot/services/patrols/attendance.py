"""Patrol check-in and the end of a patrol.

Check-in opens ``patrols.checkin_opens_minutes`` before the start and closes at the end, by
the shift's rotating code (QR deep link or 6 digits, like events' 扫码签到: the pin format and
check come from bot/services/outreach/checkin.py) or by a shared Telegram location within
``patrols.checkin_radius_m`` of the route's point (haversine, matching/geo.py). The first
check-in starts the patrol (→ in_progress). Staff end it (→ done): each patroller who checked
in earns ``points_per_hour`` for the time from check-in (or the start) to the end, at most
``max_points_per_shift``, through the ledger, once per shift and person (its unique key).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Volunteer
from bot.db.models.patrols import PatrolCheckinCode, PatrolRoute, PatrolShift, PatrolSignup
from bot.db.tx import begin_write, transactional
from bot.delivery import outbox
from bot.scheduler.timers import timer_handler
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach.checkin import fresh_pin, is_pin
from bot.services.patrols import shift_states as st
from bot.services.patrols.shifts import (
    CLOSE_TIMER,
    SIGNED,
    ShiftView,
    load_view,
    locked_shift,
    staff_shift,
)
from bot.services.points import ledger
from matching.geo import haversine_m, valid_point

log = logging.getLogger(__name__)
HAZARD_GRACE = timedelta(hours=1)  # /hazard still files a find this long after the end


@dataclass(frozen=True, slots=True)
class CodeView:
    shift: ShiftView
    token: str
    pin: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CheckedIn:
    shift: ShiftView
    at: datetime
    method: str
    distance_m: int | None = None


@dataclass(frozen=True, slots=True)
class Patroller:
    user_id: int
    name: str
    checked_in_at: datetime | None
    points: int | None


@dataclass(frozen=True, slots=True)
class Roll:
    shift: ShiftView
    rows: list[Patroller]

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.checked_in_at is not None)


def window(app: AppContext, starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    opens = starts_at - timedelta(minutes=app.settings.patrols.checkin_opens_minutes)
    return opens, ends_at


def _outside(app: AppContext, shift: PatrolShift) -> UserError:
    opens, closes = (m.astimezone(app.settings.tz) for m in window(app, *_span(shift)))
    return UserError(
        "patrols.checkin.outside_window", opens=f"{opens:%m-%d %H:%M}", closes=f"{closes:%H:%M}"
    )


def _span(shift: PatrolShift) -> tuple[datetime, datetime]:
    return shift.starts_at, shift.ends_at


# --- staff: codes -----------------------------------------------------------------------------


@transactional
async def issue_code(
    app: AppContext, session: AsyncSession, staff_user_id: int, shift_id: int
) -> CodeView:
    await begin_write(session)
    shift = await staff_shift(session, staff_user_id, shift_id)
    opens, closes = window(app, *_span(shift))
    if shift.status not in st.CHECKABLE:
        raise UserError("patrols.state_changed", id=shift_id)
    now = app.now()
    if not opens <= now < closes:
        raise _outside(app, shift)
    minutes = app.settings.patrols.checkin_code_minutes
    pin = await fresh_pin(
        session, PatrolCheckinCode.pin, PatrolCheckinCode.expires_at, now, minutes
    )
    code = PatrolCheckinCode(
        shift_id=shift_id,
        token=secrets.token_urlsafe(9),
        pin=pin,
        issued_by=staff_user_id,
        issued_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(code)
    await session.commit()
    return CodeView(await load_view(session, shift_id), code.token, code.pin, code.expires_at)


# --- check in -------------------------------------------------------------------------------


async def _code(session: AsyncSession, token: str | None, pin: str | None) -> PatrolCheckinCode:
    code = None
    if token is not None:
        code = await session.scalar(
            select(PatrolCheckinCode).where(PatrolCheckinCode.token == token)
        )
    elif pin is not None and is_pin(pin):
        code = await session.scalar(
            select(PatrolCheckinCode)
            .where(PatrolCheckinCode.pin == pin)
            .order_by(PatrolCheckinCode.issued_at.desc(), PatrolCheckinCode.id.desc())
            .limit(1)
        )
    if code is None:
        raise UserError("patrols.checkin.wrong_code")
    return code


@transactional
async def check_in(
    app: AppContext,
    session: AsyncSession,
    user_id: int,
    *,
    shift_id: int | None = None,
    token: str | None = None,
    pin: str | None = None,
    location: tuple[float, float] | None = None,
) -> CheckedIn:
    """Check a patroller in by code (token or pin) or by location on ``shift_id``."""
    await begin_write(session)
    now = app.now()
    distance: int | None = None
    if location is None:
        code = await _code(session, token, pin)
        if code.expires_at <= now:
            raise UserError("patrols.checkin.expired_code")
        shift_id, method = code.shift_id, "qr" if token is not None else "code"
    else:
        if shift_id is None:
            raise UserError("errors.stale_button")
        method = "location"
    shift = await locked_shift(session, shift_id)
    opens, closes = window(app, *_span(shift))
    if shift.status not in st.CHECKABLE or not opens <= now < closes:
        raise _outside(app, shift)
    signup = await session.scalar(
        select(PatrolSignup).where(
            PatrolSignup.shift_id == shift_id, PatrolSignup.user_id == user_id
        )
    )
    if signup is None or signup.status != SIGNED:
        raise UserError("patrols.checkin.not_signed")
    if signup.checked_in_at is not None:
        at = signup.checked_in_at.astimezone(app.settings.tz)
        raise UserError("patrols.checkin.already", time=f"{at:%H:%M}")
    if location is not None:
        route = await session.get(PatrolRoute, shift.route_id)
        assert route is not None
        if route.lat is None or route.lon is None:
            raise UserError("patrols.checkin.no_point")
        if not valid_point(*location):
            raise UserError("patrols.checkin.bad_location")
        distance = round(haversine_m(location[0], location[1], route.lat, route.lon))
        radius = app.settings.patrols.checkin_radius_m
        if distance > radius:
            raise UserError("patrols.checkin.too_far", distance=distance, radius=radius)
    signup.checked_in_at, signup.checkin_method = now, method
    if shift.status != st.IN_PROGRESS:
        shift.status = st.require(shift.id, shift.status, st.IN_PROGRESS)
    audit.record(session, user_id, "patrol.checkin", "patrol_shift", shift_id, method=method)
    await session.commit()
    return CheckedIn(await load_view(session, shift_id), now, method, distance)


async def current_shift(app: AppContext, session: AsyncSession, user_id: int) -> ShiftView | None:
    """The patrol this person is on now (checked in, in progress, not long over)."""
    now = app.now()
    shift_id = await session.scalar(
        select(PatrolShift.id)
        .join(PatrolSignup, PatrolSignup.shift_id == PatrolShift.id)
        .where(
            PatrolSignup.user_id == user_id,
            PatrolSignup.status == SIGNED,
            PatrolSignup.checked_in_at.is_not(None),
            PatrolShift.status.in_((st.IN_PROGRESS, st.DONE)),
            PatrolShift.ends_at > now - HAZARD_GRACE,
        )
        .order_by(PatrolShift.starts_at.desc())
        .limit(1)
    )
    return None if shift_id is None else await load_view(session, shift_id)


# --- staff: the roll and the end ----------------------------------------------------------


async def roll(session: AsyncSession, shift_id: int) -> Roll:
    shown = await load_view(session, shift_id)
    rows = (
        await session.execute(
            select(PatrolSignup, Volunteer.name)
            .outerjoin(Volunteer, Volunteer.user_id == PatrolSignup.user_id)
            .where(PatrolSignup.shift_id == shift_id, PatrolSignup.status == SIGNED)
            .order_by(PatrolSignup.signed_at, PatrolSignup.id)
        )
    ).all()
    await session.commit()
    return Roll(
        shown,
        [Patroller(s.user_id, name or "—", s.checked_in_at, s.points_awarded) for s, name in rows],
    )


def patrol_points(
    app: AppContext, checked_in_at: datetime, shift: ShiftView | PatrolShift, end: datetime
) -> int:
    """points_per_hour × hours patrolled (from check-in or the start, to the end), capped."""
    cfg = app.settings.patrols
    start = max(checked_in_at, shift.starts_at)
    minutes = max(0.0, (min(end, shift.ends_at) - start).total_seconds() / 60)
    return min(cfg.max_points_per_shift, round(cfg.points_per_hour * minutes / 60))


@transactional
async def finish(
    app: AppContext, session: AsyncSession, staff_user_id: int, shift_id: int
) -> tuple[Roll, list[int]]:
    """Staff end the patrol (in_progress → done, once) and award the patrol time's points."""
    await begin_write(session)
    shift = await staff_shift(session, staff_user_id, shift_id)
    if shift.status != st.IN_PROGRESS:
        key = "patrols.finish.already" if shift.status == st.DONE else "patrols.finish.nobody"
        raise UserError(key, id=shift_id)
    awarded = await _finish(app, session, shift, staff_user_id)
    if awarded is None:
        raise UserError("patrols.finish.already", id=shift_id)
    await session.commit()
    return await roll(session, shift_id), awarded


async def _finish(
    app: AppContext, session: AsyncSession, shift: PatrolShift, staff_user_id: int | None
) -> list[int] | None:
    """in_progress → done with one conditional UPDATE, then the points; None if another
    worker or staff member ended it first. Does not commit."""
    shift_id, now = shift.id, app.now()
    done = await session.execute(
        update(PatrolShift)
        .where(PatrolShift.id == shift_id, PatrolShift.status == st.IN_PROGRESS)
        .values(status=st.DONE, finished_by=staff_user_id, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        return None
    present = (
        await session.scalars(
            select(PatrolSignup).where(
                PatrolSignup.shift_id == shift_id,
                PatrolSignup.status == SIGNED,
                PatrolSignup.checked_in_at.is_not(None),
            )
        )
    ).all()
    shown = await load_view(session, shift_id)
    reason = ledger.record_language(app)("patrols.points_reason", id=shift_id, name=shown.name)
    awarded: list[int] = []
    for signup in present:
        assert signup.checked_in_at is not None
        amount = patrol_points(app, signup.checked_in_at, shift, now)
        entry = await ledger.award(
            app,
            session,
            user_id=signup.user_id,
            amount=amount,
            reason=reason,
            source_type="patrol",
            source_id=str(shift_id),
            approved_by=staff_user_id,
        )
        if entry is not None:  # None: this person already has this shift's points
            signup.points_awarded = entry.amount
            awarded.append(signup.user_id)
            await outbox.enqueue(
                session,
                notice=Notice(
                    "patrols.points_awarded", {"name": shown.name, "points": entry.amount}
                ),
                user_ids=[signup.user_id],
                batch_key=f"pt:{shift_id}:points",
            )
    audit.record(session, staff_user_id, "patrol.finish", "patrol_shift", shift_id, n=len(present))
    log.info("patrol shift=%s done: %d patroller(s) awarded", shift_id, len(awarded))
    return awarded


@timer_handler(CLOSE_TIMER)
async def close_due(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    """A while after the end, a shift staff did not end is closed by the clock: ended with its
    points if anyone checked in, else called off (nobody came)."""
    shift_id = int(payload["shift_id"])
    async with app.sessions() as session:
        await begin_write(session)
        shift = await session.get(PatrolShift, shift_id, with_for_update=True)
        if shift is None or shift.status in st.TERMINAL:
            await session.commit()
            return
        if shift.status == st.IN_PROGRESS:
            await _finish(app, session, shift, None)
        else:
            shift.status = st.require(shift_id, shift.status, st.CANCELLED)
            audit.record(session, None, "patrol.lapsed", "patrol_shift", shift_id)
        await session.commit()
