"""On-site check-in (扫码签到): rotating codes, check-in and -out, attendance, points.

Staff get a code during the event window (from a little before the start to the end). Each
code has a random ``token`` for the QR deep link and a 6-digit ``pin`` to type, and lives a
few minutes; a new one is issued whenever staff press Refresh, and the older ones keep working
until they expire. A code names its event, so a code of another event never checks anyone in.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import Volunteer
from bot.db.models.events import Event, EventCheckinCode, EventSignup
from bot.db.tx import begin_write
from bot.delivery import outbox
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach import ratings
from bot.services.outreach.events import SIGNED, WAITING, EventView, setting, view
from bot.services.points import ledger

log = logging.getLogger(__name__)

PIN_DIGITS = 6
DEFAULT_CODE_MINUTES = 5
DEFAULT_OPENS_MINUTES = 30


@dataclass(frozen=True, slots=True)
class CodeView:
    event: EventView
    token: str
    pin: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CheckinResult:
    event: EventView
    at: datetime


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    user_id: int
    name: str
    status: str  # signed | waiting
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    attended: bool


@dataclass(frozen=True, slots=True)
class Attendance:
    event: EventView
    rows: list[AttendanceRow]

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.attended)


def window(app: AppContext, event: Event | EventView) -> tuple[datetime, datetime]:
    opens = event.starts_at - timedelta(
        minutes=setting(app, "checkin_opens_minutes", DEFAULT_OPENS_MINUTES)
    )
    return opens, event.ends_at


def outside_window(app: AppContext, event: Event) -> UserError:
    opens, closes = (moment.astimezone(app.settings.tz) for moment in window(app, event))
    return UserError(
        "events.checkin.outside_window",
        title=event.title,
        opens=f"{opens:%m-%d %H:%M}",
        closes=f"{closes:%m-%d %H:%M}",
    )


def is_pin(text: str) -> bool:
    return len(text) == PIN_DIGITS and text.isascii() and text.isdigit()


def typed_pin(text: str) -> str | None:
    """A pin as a person types it (full-width digits, spaces between them); None if not one."""
    pin = "".join(unicodedata.normalize("NFKC", text).split())
    return pin if is_pin(pin) else None


# --- staff: codes --------------------------------------------------------------------------


async def _open_event(app: AppContext, session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    if event.status != "open":
        raise UserError("events.checkin.event_over", title=event.title)
    opens, closes = window(app, event)
    if not opens <= app.now() < closes:
        raise outside_window(app, event)
    return event


async def issue_code(
    app: AppContext, session: AsyncSession, staff_user_id: int, event_id: int
) -> CodeView:
    """A fresh code for the event; only during its check-in window."""
    await begin_write(session)
    event = await _open_event(app, session, event_id)
    now = app.now()
    minutes = setting(app, "checkin_code_minutes", DEFAULT_CODE_MINUTES)
    pin = await fresh_pin(session, EventCheckinCode.pin, EventCheckinCode.expires_at, now, minutes)
    code = EventCheckinCode(
        event_id=event_id,
        token=secrets.token_urlsafe(9),
        pin=pin,
        issued_by=staff_user_id,
        issued_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(code)
    await session.commit()
    return CodeView(view(event), code.token, code.pin, code.expires_at)


def _random_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


async def fresh_pin(
    session: AsyncSession,
    pin: InstrumentedAttribute[str],
    expires_at: InstrumentedAttribute[datetime],
    now: datetime,
    minutes: int,
) -> str:
    """A new pin for a check-in code table (events', patrols'). A pin is never handed out
    while another code with it is alive or just expired, so "expired" and "wrong" stay
    accurate answers."""
    since = now - timedelta(minutes=minutes)
    recent = set((await session.scalars(select(pin).where(expires_at > since))).all())
    return next(p for p in iter(_random_pin, None) if p not in recent)


# --- volunteers: check in and out ----------------------------------------------------------


async def _find_code(
    session: AsyncSession, token: str | None, pin: str | None
) -> EventCheckinCode | None:
    if token is not None:
        return await session.scalar(select(EventCheckinCode).where(EventCheckinCode.token == token))
    if pin is not None and is_pin(pin):
        return await session.scalar(
            select(EventCheckinCode)
            .where(EventCheckinCode.pin == pin)
            .order_by(EventCheckinCode.issued_at.desc(), EventCheckinCode.id.desc())
            .limit(1)
        )
    return None


async def check_in(
    app: AppContext,
    session: AsyncSession,
    user_id: int,
    *,
    token: str | None = None,
    pin: str | None = None,
) -> CheckinResult:
    """Check a volunteer in with a scanned token or a typed pin; refuse anything doubtful."""
    await begin_write(session)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None or volunteer.status != "approved":
        raise UserError("events.volunteers_only")
    code = await _find_code(session, token, pin)
    now = app.now()
    if code is None:
        raise UserError("events.checkin.wrong_code")
    if code.expires_at <= now:
        raise UserError("events.checkin.expired_code")
    event = await session.get(Event, code.event_id)
    assert event is not None  # a code always belongs to an event (foreign key)
    opens, closes = window(app, event)
    if event.status != "open" or not opens <= now < closes:
        raise UserError("events.checkin.event_over", title=event.title)
    signup = await session.scalar(
        select(EventSignup).where(EventSignup.event_id == event.id, EventSignup.user_id == user_id)
    )
    if signup is None or signup.status not in (SIGNED, WAITING):
        raise UserError("events.checkin.not_your_event", title=event.title)
    if signup.status == WAITING:
        raise UserError("events.checkin.on_waiting_list", title=event.title)
    if signup.checked_in_at is not None:
        raise UserError(
            "events.checkin.already", title=event.title, time=_clock(app, signup.checked_in_at)
        )
    signup.checked_in_at = now
    signup.checkin_method = "qr" if token is not None else "code"
    signup.attended = True
    audit.record(session, user_id, "event.checkin", "event", event.id, method=signup.checkin_method)
    await session.commit()
    return CheckinResult(view(event), now)


async def check_out(
    app: AppContext, session: AsyncSession, user_id: int, event_id: int
) -> CheckinResult:
    await begin_write(session)
    event = await session.get(Event, event_id)
    signup = await session.scalar(
        select(EventSignup).where(EventSignup.event_id == event_id, EventSignup.user_id == user_id)
    )
    if event is None or signup is None or signup.checked_in_at is None:
        raise UserError("events.checkin.not_checked_in")
    if signup.checked_out_at is not None:
        raise UserError("events.checkin.already_out", time=_clock(app, signup.checked_out_at))
    if event.status != "open":
        raise UserError("events.checkin.event_over", title=event.title)
    now = app.now()
    signup.checked_out_at = now
    audit.record(session, user_id, "event.checkout", "event", event_id)
    await session.commit()
    return CheckinResult(view(event), now)


def _clock(app: AppContext, moment: datetime) -> str:
    return moment.astimezone(app.settings.tz).strftime("%H:%M")


# --- staff: attendance and points ----------------------------------------------------------


async def attendance(session: AsyncSession, event_id: int) -> Attendance:
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    rows = (
        await session.execute(
            select(EventSignup, Volunteer.name)
            .join(Volunteer, Volunteer.user_id == EventSignup.user_id, isouter=True)
            .where(EventSignup.event_id == event_id, EventSignup.status.in_((SIGNED, WAITING)))
            .order_by(EventSignup.status, EventSignup.queued_at, EventSignup.id)
        )
    ).all()
    return Attendance(
        view(event),
        [
            AttendanceRow(
                user_id=s.user_id,
                name=name or "—",
                status=s.status,
                checked_in_at=s.checked_in_at,
                checked_out_at=s.checked_out_at,
                attended=s.attended,
            )
            for s, name in rows
        ],
    )


async def mark(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    event_id: int,
    user_id: int,
    attended: bool,
) -> Attendance:
    """Staff set someone present or absent by hand (a forgotten phone, a walk-in from the line)."""
    await begin_write(session)
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    if event.status != "open":
        raise UserError("events.attendance.already_confirmed", title=event.title)
    if app.now() < window(app, event)[0]:
        raise outside_window(app, event)
    signup = await session.scalar(
        select(EventSignup).where(
            EventSignup.event_id == event_id,
            EventSignup.user_id == user_id,
            EventSignup.status.in_((SIGNED, WAITING)),
        )
    )
    if signup is None:
        raise UserError("errors.stale_button")
    signup.attended = attended
    if attended and signup.checked_in_at is None:
        signup.checked_in_at, signup.checkin_method = app.now(), "staff"
    audit.record(
        session, staff_user_id, "event.mark", "event", event_id, user=user_id, attended=attended
    )
    await session.commit()
    return await attendance(session, event_id)


async def confirm(
    app: AppContext, session: AsyncSession, staff_user_id: int, event_id: int
) -> tuple[Attendance, list[int]]:
    """After the event: close it and award the attendance points, once per person.

    Closing is a conditional UPDATE (open → closed), so two staff pressing Confirm at once
    award nothing twice; the ledger's own idempotency key is the second guard.
    """
    await begin_write(session)
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    if event.status == "open" and app.now() < event.ends_at:
        raise UserError("events.attendance.too_early", title=event.title)
    closed = await session.execute(
        update(Event)
        .where(Event.id == event_id, Event.status == "open")
        .values(status="closed", closed_by=staff_user_id, closed_at=app.now())
        .execution_options(synchronize_session=False)
    )
    if not closed.rowcount:  # type: ignore[attr-defined]
        raise UserError("events.attendance.already_confirmed", title=event.title)
    present = (
        await session.scalars(
            select(EventSignup).where(EventSignup.event_id == event_id, EventSignup.attended)
        )
    ).all()
    reason = ledger.record_language(app)("events.points_reason", id=event_id, title=event.title)
    by_amount: dict[int, list[int]] = {}
    for signup in present if event.points > 0 else ():
        entry = await ledger.award(
            app,
            session,
            user_id=signup.user_id,
            amount=event.points,
            reason=reason,
            source_type="event",
            source_id=f"{event_id}",
            approved_by=staff_user_id,
        )
        if entry is not None:  # None: this person already has this event's points
            signup.points_awarded = entry.amount
            by_amount.setdefault(entry.amount, []).append(signup.user_id)
    for amount, user_ids in by_amount.items():  # the daily/weekly caps may trim some awards
        await outbox.enqueue(
            session,
            notice=Notice("events.points_awarded", {"title": event.title, "points": amount}),
            user_ids=user_ids,
            batch_key=f"ev:{event_id}:points:{amount}",
        )
    awarded = [uid for user_ids in by_amount.values() for uid in user_ids]
    await ratings.enqueue_prompts(session, event_id)  # those marked present by hand too
    audit.record(session, staff_user_id, "event.confirm", "event", event_id, present=len(present))
    await session.commit()
    await session.refresh(event)
    return await attendance(session, event_id), awarded
