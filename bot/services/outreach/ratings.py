"""Event evaluation: after an event, those who attended rate it 1–5 and may add a comment.

The prompt goes through the outbox once per person and event (batch ``ev:<id>:rate``): when
the event ends (a timer set when it is created) to everyone checked in, and again when staff
confirm the attendance, which reaches those marked present by hand; the batch key makes the
second pass skip whoever was asked already. A rating is one row per (event, person): a second
press is refused kindly and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EventRating
from bot.db.models.events import Event, EventSignup
from bot.db.tx import begin_write, transactional
from bot.delivery import outbox
from bot.scheduler.timers import schedule, timer_handler
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice

COMMENT_MAX = 300
STARS = range(1, 6)


def schedule_prompt(session: AsyncSession, event: Event) -> None:
    """Ask the attendees when the event ends (the caller commits)."""
    schedule(
        session,
        kind="event.rate_prompt",
        key=f"event:{event.id}:rate",
        due_at=event.ends_at,
        payload={"event_id": event.id},
    )


async def enqueue_prompts(session: AsyncSession, event_id: int) -> int:
    """Queue the rating prompt for everyone present not asked yet (the caller commits)."""
    present = (
        await session.scalars(
            select(EventSignup.user_id).where(
                EventSignup.event_id == event_id, EventSignup.attended.is_(True)
            )
        )
    ).all()
    return await outbox.enqueue(
        session,
        notice=Notice("events.rate_prompt", {"event_id": event_id}),
        user_ids=list(present),
        batch_key=f"ev:{event_id}:rate",
        priority=outbox.INTERACTIVE,
    )


@timer_handler("event.rate_prompt")
async def _prompt(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    event_id = int(payload["event_id"])
    async with app.sessions() as session:
        await begin_write(session)
        event = await session.get(Event, event_id)
        if event is None or event.status == "cancelled":
            await session.commit()
            return
        await enqueue_prompts(session, event_id)
        await session.commit()


async def _attended(session: AsyncSession, event_id: int, user_id: int) -> Event:
    event = await session.get(Event, event_id)
    attended = await session.scalar(
        select(EventSignup.id).where(
            EventSignup.event_id == event_id,
            EventSignup.user_id == user_id,
            EventSignup.attended.is_(True),
        )
    )
    if event is None or attended is None:
        raise UserError("events.rating.not_attended")
    return event


@transactional
async def rate(
    app: AppContext, session: AsyncSession, event_id: int, user_id: int, stars: int
) -> int:
    """Record an attendee's stars (once). Returns the stars."""
    if stars not in STARS:
        raise UserError("errors.stale_button")
    await begin_write(session)
    event = await _attended(session, event_id, user_id)
    if app.now() < event.ends_at and event.status != "closed":
        raise UserError("events.rating.too_early", title=event.title)
    existing = await session.scalar(
        select(EventRating.stars).where(
            EventRating.event_id == event_id, EventRating.user_id == user_id
        )
    )
    if existing is not None:
        raise UserError("events.rating.already", stars=existing)
    session.add(EventRating(event_id=event_id, user_id=user_id, stars=stars, created_at=app.now()))
    try:
        await session.flush()
    except IntegrityError as exc:  # the same person pressed twice at once: one row wins
        await session.rollback()
        raise UserError("events.rating.already", stars=stars) from exc
    audit.record(session, user_id, "event.rate", "event", event_id, stars=stars)
    await session.commit()
    return stars


@transactional
async def comment(
    app: AppContext, session: AsyncSession, event_id: int, user_id: int, text: str
) -> None:
    """The optional comment, once, after the stars."""
    words = " ".join(text.split())
    if not 1 <= len(words) <= COMMENT_MAX or words.startswith("/"):
        raise UserError("events.rating.comment_length", max=COMMENT_MAX)
    await begin_write(session)
    rating = await session.scalar(
        select(EventRating).where(EventRating.event_id == event_id, EventRating.user_id == user_id)
    )
    if rating is None:
        raise UserError("events.rating.not_attended")
    if rating.comment:
        raise UserError("events.rating.comment_already")
    rating.comment = words
    await session.commit()


@dataclass(frozen=True, slots=True)
class RatingSummary:
    event_id: int
    title: str
    present: int
    count: int
    average: float | None
    histogram: dict[int, int]  # stars → how many
    comments: list[str]


async def results(session: AsyncSession, event_id: int) -> RatingSummary:
    """What the organisers see: count, average, the spread and the comments (no names)."""
    event = await session.get(Event, event_id)
    if event is None:
        raise UserError("events.not_found", id=event_id)
    present = await session.scalar(
        select(func.count(EventSignup.id)).where(
            EventSignup.event_id == event_id, EventSignup.attended.is_(True)
        )
    )
    rows = (
        await session.execute(
            select(EventRating.stars, EventRating.comment)
            .where(EventRating.event_id == event_id)
            .order_by(EventRating.id)
        )
    ).all()
    histogram = dict.fromkeys(STARS, 0)
    for stars, _ in rows:
        histogram[int(stars)] += 1
    count = len(rows)
    average = sum(int(s) for s, _ in rows) / count if count else None
    return RatingSummary(
        event_id,
        event.title,
        int(present or 0),
        count,
        average,
        histogram,
        [c for _, c in rows if c],
    )


@dataclass(frozen=True, slots=True)
class EventAverage:
    event_id: int
    title: str
    starts_at: datetime
    count: int
    average: float


async def averages(
    session: AsyncSession, start: datetime, end: datetime, grids: Collection[int] | None = None
) -> list[EventAverage]:
    """Rated events that started in [start, end), with their average; a grid's staff see the
    events of their grid (community-wide events have no grid and are left out for them)."""
    query = (
        select(
            Event.id,
            Event.title,
            Event.starts_at,
            func.count(EventRating.id),
            func.avg(EventRating.stars),
        )
        .join(EventRating, EventRating.event_id == Event.id)
        .where(Event.starts_at >= start, Event.starts_at < end)
        .group_by(Event.id, Event.title, Event.starts_at)
        .order_by(Event.starts_at, Event.id)
    )
    if grids is not None:
        query = query.where(Event.grid_id.in_(list(grids)))
    return [
        EventAverage(int(i), str(t), s, int(n), float(a))
        for i, t, s, n, a in (await session.execute(query)).all()
    ]


def overall(rows: list[EventAverage]) -> float | None:
    """The average over every rating of these events (weighted by how many rated each)."""
    total = sum(r.count for r in rows)
    return sum(r.average * r.count for r in rows) / total if total else None
