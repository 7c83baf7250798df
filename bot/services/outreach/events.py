"""Volunteer events (志愿服务招募): create and invite, call off, read.

Signing up, cancelling, the waiting list and the reminders are in
bot/services/outreach/signups.py; the check-in in checkin.py; the ratings in ratings.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff
from bot.db.models.events import Event, EventSignup
from bot.db.tx import begin_write
from bot.delivery import outbox, segments
from bot.scheduler.timers import cancel_timers, schedule
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.outreach import ratings

log = logging.getLogger(__name__)

TITLE_MAX = 40
DESCRIPTION_MAX = 500
PLACE_MAX = 64
DEFAULT_MAX_SLOTS = 500
DEFAULT_MAX_POINTS = 100
SIGNED, WAITING, CANCELLED = "signed", "waiting", "cancelled"
SEGMENT_KINDS = ("grid", "community", "skill")
REMINDERS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
LIST_LIMIT = 10
STAFF_LIST_LIMIT = 20


def setting(app: AppContext, key: str, default: int) -> int:
    """An ``[events]`` config value (``default`` only for a key the section lacks)."""
    return int(getattr(app.settings.events, key, default))


@dataclass(frozen=True, slots=True)
class Segment:
    """Who gets the invitation: a grid, a community, or volunteers with the wanted skills."""

    kind: str
    grid_id: int | None = None
    community: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "grid_id": self.grid_id, "community": self.community}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        grid_id = data.get("grid_id")
        return cls(str(data["kind"]), int(grid_id) if grid_id else None, data.get("community"))


@dataclass(frozen=True, slots=True)
class EventDraft:
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    slots: int
    skills: tuple[str, ...]
    points: int
    signup_deadline: datetime
    segment: Segment


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    slots: int
    taken: int
    skills: tuple[str, ...]
    points: int
    signup_deadline: datetime
    status: str
    grid_id: int | None

    @property
    def places_left(self) -> int:
        return max(0, self.slots - self.taken)


@dataclass(frozen=True, slots=True)
class SignupState:
    """A volunteer's place on an event: status None means not signed up."""

    event: EventView
    status: str | None
    position: int | None = None  # in the waiting line, from 1
    checked_in_at: datetime | None = None
    promoted: list[int] = field(default_factory=list)  # users who got a freed place


def view(event: Event) -> EventView:
    return EventView(
        id=event.id,
        title=event.title,
        description=event.description,
        place=event.place,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        slots=event.slots,
        taken=event.taken,
        skills=tuple(event.skills),
        points=event.points,
        signup_deadline=event.signup_deadline,
        status=event.status,
        grid_id=event.grid_id,
    )


# --- creating ------------------------------------------------------------------------------


def clean_line(value: str, max_len: int) -> str:
    value = " ".join(value.split())
    if not value or len(value) > max_len or value.startswith("/"):
        raise UserError("events.form.text_length", max=max_len)
    return value


def parse_count(value: str, low: int, high: int) -> int:
    text = value.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise UserError("events.form.number_range", low=low, high=high)
    return int(text)


def check_draft(app: AppContext, draft: EventDraft) -> None:
    """Everything a person could get wrong, checked before anything is written."""
    now = app.now()
    if draft.starts_at <= now or draft.ends_at <= draft.starts_at:
        raise UserError("events.form.in_the_past")
    if not now < draft.signup_deadline <= draft.starts_at:
        raise UserError("events.form.bad_deadline")
    max_slots = setting(app, "max_slots", DEFAULT_MAX_SLOTS)
    if not 1 <= draft.slots <= max_slots:
        raise UserError("events.form.number_range", low=1, high=max_slots)
    max_points = setting(app, "max_points", DEFAULT_MAX_POINTS)
    if not 0 <= draft.points <= max_points:
        raise UserError("events.form.number_range", low=0, high=max_points)
    unknown = set(draft.skills) - set(app.settings.categories.ids)
    if unknown or draft.segment.kind not in SEGMENT_KINDS:
        raise UserError("errors.stale_button")
    if draft.segment.kind == "skill" and not draft.skills:
        raise UserError("events.form.skill_segment_needs_skills")


async def recipients(
    app: AppContext, session: AsyncSession, segment: Segment, skills: Sequence[str]
) -> tuple[list[int], list[int]]:
    """(volunteer user ids, linked group chat ids) that an event for this segment reaches."""
    grid_ids = [segment.grid_id] if segment.grid_id is not None else None
    if segment.kind == "grid":
        users = await segments.volunteers(session, grid_ids=grid_ids)
        grids = select(Grid.group_chat_id).where(Grid.id == segment.grid_id)
    elif segment.kind == "community":
        users = await segments.volunteers(session, community=segment.community)
        grids = select(Grid.group_chat_id).where(Grid.community == segment.community, Grid.active)
    else:  # by skill: a targeted call, not posted to groups
        users = await segments.volunteers(session, grid_ids=grid_ids, skills=list(skills))
        return list(users), []
    chats = (await session.scalars(grids.where(Grid.group_chat_id.is_not(None)))).all()
    return list(users), [int(c) for c in chats if c is not None]


@dataclass(frozen=True, slots=True)
class Preview:
    event: EventView  # id 0: not filed yet
    volunteers: int
    groups: int


async def _check_scope(session: AsyncSession, staff_user_id: int, segment: Segment) -> None:
    """Grid staff invite their own grid only (by grid, or by skill within it)."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    if staff.scope == "grid" and (segment.kind == "community" or segment.grid_id != staff.grid_id):
        raise UserError("events.form.not_your_grid")


async def preview(
    app: AppContext, session: AsyncSession, staff_user_id: int, draft: EventDraft
) -> Preview:
    """What staff see before publishing: the card and how many it would reach."""
    check_draft(app, draft)
    await _check_scope(session, staff_user_id, draft.segment)
    users, chats = await recipients(app, session, draft.segment, draft.skills)
    event = EventView(
        id=0,
        title=draft.title,
        description=draft.description,
        place=draft.place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        slots=draft.slots,
        taken=0,
        skills=draft.skills,
        points=draft.points,
        signup_deadline=draft.signup_deadline,
        status="open",
        grid_id=draft.segment.grid_id,
    )
    return Preview(event, len(users), len(chats))


async def create_event(
    app: AppContext, session: AsyncSession, staff_user_id: int, draft: EventDraft
) -> tuple[EventView, tuple[int, int]]:
    """File the event, schedule its reminders, queue the invitations.

    Returns the event and its reach: (volunteers, group chats), counted apart because a person
    and a chat are different things to tell staff about."""
    check_draft(app, draft)
    await begin_write(session)
    await _check_scope(session, staff_user_id, draft.segment)
    event = Event(
        title=draft.title,
        description=draft.description,
        place=draft.place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        slots=draft.slots,
        taken=0,
        skills=list(draft.skills),
        points=draft.points,
        signup_deadline=draft.signup_deadline,
        segment=draft.segment.to_dict(),
        grid_id=draft.segment.grid_id if draft.segment.kind == "grid" else None,
        status="open",
        created_by=staff_user_id,
        created_at=app.now(),
    )
    session.add(event)
    await session.flush()
    for which, before in REMINDERS.items():
        due = draft.starts_at - before
        if due > app.now():
            schedule(
                session,
                kind="event.remind",
                key=f"event:{event.id}:remind:{which}",
                due_at=due,
                payload={"event_id": event.id, "which": which},
            )
    ratings.schedule_prompt(session, event)  # attendees are asked to rate it when it ends
    users, chats = await recipients(app, session, draft.segment, draft.skills)
    await outbox.enqueue(
        session,
        notice=Notice("events.invite", {"event_id": event.id}),
        user_ids=users,
        chat_ids=chats,
        batch_key=f"ev:{event.id}",
    )
    audit.record(
        session, staff_user_id, "event.create", "event", event.id, segment=draft.segment.to_dict()
    )
    await session.commit()
    return view(event), (len(users), len(chats))


async def cancel_event(
    app: AppContext, session: AsyncSession, staff_user_id: int, event_id: int
) -> EventView:
    """Staff call an event off: everyone signed up or waiting is told; reminders are dropped."""
    await begin_write(session)
    event = await locked_event(session, event_id)
    if event.status != "open" or event.starts_at <= app.now():
        raise UserError("events.cannot_cancel_event")
    event.status = "cancelled"
    people = (
        await session.scalars(
            select(EventSignup.user_id).where(
                EventSignup.event_id == event_id, EventSignup.status.in_((SIGNED, WAITING))
            )
        )
    ).all()
    await cancel_timers(session, key_prefix=f"event:{event_id}:")
    await outbox.enqueue(
        session,
        notice=Notice("events.called_off", {"event_id": event_id}),
        user_ids=list(people),
        batch_key=f"ev:{event_id}:off",
    )
    audit.record(session, staff_user_id, "event.cancel", "event", event_id)
    await session.commit()
    return view(event)


# --- reading -------------------------------------------------------------------------------


async def get_event(session: AsyncSession, event_id: int) -> EventView:
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    return view(event)


async def staff_events(app: AppContext, session: AsyncSession) -> list[EventView]:
    """Open events still to run, or ended in the last week (waiting for the attendance, or
    confirmed and collecting ratings)."""
    since = app.now() - timedelta(days=7)
    rows = await session.scalars(
        select(Event)
        .where(Event.status.in_(("open", "closed")), Event.ends_at > since)
        .order_by(Event.starts_at, Event.id)
        .limit(STAFF_LIST_LIMIT)
    )
    return [view(e) for e in rows]


async def locked_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise UserError("events.not_found", id=event_id)
    return event
