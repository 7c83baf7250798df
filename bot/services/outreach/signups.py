"""Signing up for an event, cancelling, the waiting list and the reminders to those signed.

No overbooking under concurrency: a sign-up takes a place with one conditional UPDATE of the
event's ``taken`` counter (``taken < slots``), after locking the event row (FOR UPDATE on
PostgreSQL; BEGIN IMMEDIATE serialises writers on SQLite). The same lock makes a cancellation
and a concurrent sign-up agree on who gets a freed place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Volunteer
from bot.db.models.events import Event, EventSignup
from bot.db.tx import begin_write
from bot.delivery import outbox
from bot.scheduler.timers import timer_handler
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach.events import (
    CANCELLED,
    LIST_LIMIT,
    SIGNED,
    WAITING,
    Segment,
    SignupState,
    locked_event,
    view,
)

# --- reading -------------------------------------------------------------------------------


async def _position(session: AsyncSession, signup: EventSignup) -> int:
    ahead = await session.scalar(
        select(func.count())
        .select_from(EventSignup)
        .where(
            EventSignup.event_id == signup.event_id,
            EventSignup.status == WAITING,
            (EventSignup.queued_at < signup.queued_at)
            | ((EventSignup.queued_at == signup.queued_at) & (EventSignup.id < signup.id)),
        )
    )
    return int(ahead or 0) + 1


async def _state(session: AsyncSession, event: Event, signup: EventSignup | None) -> SignupState:
    if signup is None or signup.status == CANCELLED:
        return SignupState(view(event), None)
    position = await _position(session, signup) if signup.status == WAITING else None
    return SignupState(view(event), signup.status, position, signup.checked_in_at)


async def signup_state(session: AsyncSession, event_id: int, user_id: int) -> SignupState:
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    signup = await session.scalar(
        select(EventSignup).where(EventSignup.event_id == event_id, EventSignup.user_id == user_id)
    )
    return await _state(session, event, signup)


def _invited(event: Event, volunteer: Volunteer) -> bool:
    segment = Segment.from_dict(event.segment)
    if segment.kind == "grid":
        return volunteer.grid_id == segment.grid_id
    if segment.kind == "community":
        return volunteer.grid.community == segment.community
    in_grid = segment.grid_id is None or volunteer.grid_id == segment.grid_id
    return in_grid and bool(set(event.skills) & set(volunteer.skills))


async def upcoming_for(app: AppContext, session: AsyncSession, user_id: int) -> list[SignupState]:
    """Events a volunteer is in, or is invited to and can still join; soonest first."""
    volunteer = await session.get(Volunteer, user_id)
    now = app.now()
    mine = {
        s.event_id: s
        for s in (
            await session.scalars(
                select(EventSignup).where(
                    EventSignup.user_id == user_id, EventSignup.status != CANCELLED
                )
            )
        ).all()
    }
    events = (
        await session.scalars(
            select(Event)
            .where(Event.status == "open", Event.ends_at > now)
            .order_by(Event.starts_at, Event.id)
        )
    ).all()
    states = []
    for event in events:
        signup = mine.get(event.id)
        open_to_me = (
            volunteer is not None and event.signup_deadline > now and _invited(event, volunteer)
        )
        if signup is not None or open_to_me:
            states.append(await _state(session, event, signup))
    return states[:LIST_LIMIT]


# --- signing up and cancelling ---------------------------------------------------------------


async def _take_place(session: AsyncSession, event_id: int) -> bool:
    result = await session.execute(
        update(Event)
        .where(Event.id == event_id, Event.taken < Event.slots)
        .values(taken=Event.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def sign_up(
    app: AppContext, session: AsyncSession, event_id: int, user_id: int
) -> SignupState:
    """Take a place, or a place in the waiting line when the event is full."""
    await begin_write(session)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None or volunteer.status != "approved":
        raise UserError("events.volunteers_only")
    event = await locked_event(session, event_id)
    now = app.now()
    if event.status != "open" or event.starts_at <= now:
        raise UserError("events.closed", title=event.title)
    if event.signup_deadline <= now:
        raise UserError("events.deadline_passed", title=event.title)
    signup = await session.scalar(
        select(EventSignup).where(EventSignup.event_id == event_id, EventSignup.user_id == user_id)
    )
    if signup is not None and signup.status == SIGNED:
        raise UserError("events.already_signed", title=event.title)
    if signup is not None and signup.status == WAITING:
        raise UserError("events.already_waiting", title=event.title)
    if signup is not None:  # signing up again after cancelling: a new row, back of the line
        await session.delete(signup)
        await session.flush()
    status = SIGNED if await _take_place(session, event_id) else WAITING
    signup = EventSignup(event_id=event_id, user_id=user_id, status=status, queued_at=now)
    session.add(signup)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same person pressed twice at once: one row wins
        await session.rollback()
        raise UserError("events.already_signed", title=event.title) from exc
    audit.record(session, user_id, f"event.{status}", "event", event_id)
    await session.commit()
    await session.refresh(event)
    return await _state(session, event, signup)


async def _promote(session: AsyncSession, event: Event) -> int | None:
    """Give a freed place to the first in line; None (and one place fewer taken) if nobody."""
    candidates = (
        await session.scalars(
            select(EventSignup.id)
            .where(EventSignup.event_id == event.id, EventSignup.status == WAITING)
            .order_by(EventSignup.queued_at, EventSignup.id)
            .limit(5)
        )
    ).all()
    for signup_id in candidates:
        result = await session.execute(
            update(EventSignup)
            .where(EventSignup.id == signup_id, EventSignup.status == WAITING)
            .values(status=SIGNED)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return await session.scalar(
                select(EventSignup.user_id).where(EventSignup.id == signup_id)
            )
    await session.execute(
        update(Event)
        .where(Event.id == event.id, Event.taken > 0)
        .values(taken=Event.taken - 1)
        .execution_options(synchronize_session=False)
    )
    return None


async def cancel_signup(
    app: AppContext, session: AsyncSession, event_id: int, user_id: int
) -> SignupState:
    """Give up a place (the first in line gets it, and is told) or leave the waiting line."""
    await begin_write(session)
    event = await locked_event(session, event_id)
    if event.status != "open" or event.starts_at <= app.now():
        raise UserError("events.too_late_to_cancel", title=event.title)
    signup = await session.scalar(
        select(EventSignup).where(EventSignup.event_id == event_id, EventSignup.user_id == user_id)
    )
    if signup is None or signup.status == CANCELLED:
        raise UserError("events.not_signed", title=event.title)
    had_place = signup.status == SIGNED
    signup.status = CANCELLED
    await session.flush()
    promoted = await _promote(session, event) if had_place else None
    audit.record(session, user_id, "event.cancel_signup", "event", event_id, promoted=promoted)
    await session.commit()
    await session.refresh(event)
    if promoted is not None:
        await app.notifier.notify(promoted, Notice("events.promoted", {"event_id": event_id}))
    return SignupState(view(event), None, promoted=[promoted] if promoted else [])


# --- reminders -----------------------------------------------------------------------------


@timer_handler("event.remind")
async def remind(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    """The day before and an hour before: everyone with a place gets a reminder."""
    event_id, which = int(payload["event_id"]), str(payload["which"])
    async with app.sessions() as session:
        await begin_write(session)
        event = await session.get(Event, event_id)
        if event is None or event.status != "open" or event.starts_at <= app.now():
            return
        people = (
            await session.scalars(
                select(EventSignup.user_id).where(
                    EventSignup.event_id == event_id, EventSignup.status == SIGNED
                )
            )
        ).all()
        await outbox.enqueue(
            session,
            notice=Notice("events.reminder", {"event_id": event_id, "which": which}),
            user_ids=list(people),
            batch_key=f"ev:{event_id}:remind:{which}",
            priority=outbox.INTERACTIVE,
        )
        await session.commit()
