"""After the claim: agree a time, talk through the bot, finish, confirm, verify (报到·服务·报告)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Offer, RelayMessage, Resident, Staff, Wish
from bot.db.tx import begin_write, transactional
from bot.scheduler.timers import cancel_timers, schedule
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import wish_states
from bot.services.intake.duplicates import notify_merged
from bot.services.intake.history_notes import encode as history_note
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid
from bot.services.tasks import task_timers  # noqa: F401  (registers the task's timers)

log = logging.getLogger(__name__)
RELAY_OPEN = ("claimed", "in_progress", "done", "disputed")
RELEASE_REASONS = ("busy", "sick", "cannot", "other")
RELAY_MAX = 1000
NOTE_MAX = 500


async def _wish(session: AsyncSession, wish_id: int) -> Wish:
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        raise UserError("wish.unknown", id=wish_id)
    return wish


def _clean(text: str, max_len: int) -> str:
    text = text.strip()
    if not text or len(text) > max_len:
        raise UserError("errors.text_length", max=max_len)
    return text


async def _residents_wish(session: AsyncSession, wish_id: int, resident_id: int) -> Wish:
    wish = await _wish(session, wish_id)
    if wish.resident_id != resident_id:
        raise UserError("wish.not_yours", id=wish_id)
    return wish


async def _volunteers_task(
    session: AsyncSession, wish_id: int, user_id: int, *statuses: str
) -> Wish:
    wish = await _wish(session, wish_id)
    if wish.volunteer_id != user_id:
        raise UserError("task.not_yours", id=wish_id)
    if statuses and wish.status not in statuses:
        raise UserError("task.state_changed", id=wish_id)
    return wish


async def my_tasks(session: AsyncSession, user_id: int) -> list[Wish]:
    """Claimed, in progress, and awaiting confirmation or verification."""
    rows = await session.scalars(
        select(Wish)
        .where(
            Wish.volunteer_id == user_id,
            Wish.status.in_(("claimed", "in_progress", "done", "confirmed", "disputed")),
        )
        .order_by(Wish.id)
    )
    return list(rows)


@transactional
async def resident_phone(session: AsyncSession, wish_id: int, user_id: int) -> str:
    """The resident's phone, for the volunteer holding the task, only while they hold it."""
    wish = await _volunteers_task(session, wish_id, user_id, "claimed", "in_progress")
    resident = await session.get(Resident, wish.resident_id)
    if resident is None or not resident.share_phone or not resident.phone:
        raise UserError("task.no_phone")
    return resident.phone


@transactional
async def set_agreed_time(
    app: AppContext, session: AsyncSession, wish_id: int, user_id: int, when: datetime
) -> Wish:
    await begin_write(session)
    wish = await _volunteers_task(session, wish_id, user_id, "claimed", "in_progress")
    now = app.now()
    if when < now - timedelta(hours=1):
        raise UserError("task.time_in_past")
    wish.agreed_at = when
    if wish.status == "claimed":
        wish_states.move(
            session, wish, "in_progress", actor_id=user_id, at=now, note=history_note("time_agreed")
        )
    else:
        wish_states.note(session, wish, history_note("time_changed"), actor_id=user_id, at=now)
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:remind:")
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:overdue:agreed")
    stamp = int(when.timestamp())
    for minutes in app.settings.tasks.reminder_minutes:
        due = when - timedelta(minutes=minutes)
        if due > now:
            schedule(
                session,
                kind="task.reminder",
                key=f"wish:{wish_id}:remind:{minutes}:{stamp}",
                due_at=due,
                payload={"wish_id": wish_id, "agreed": stamp},
            )
    schedule(
        session,
        kind="task.overdue",
        key=f"wish:{wish_id}:overdue:agreed:{stamp}",
        due_at=when + timedelta(hours=app.settings.tasks.overdue_hours),
        payload={"wish_id": wish_id, "volunteer_id": user_id},
    )
    await session.commit()
    await app.notifier.notify(
        wish.resident_id, Notice("task.time_set_resident", {"id": wish_id, "when": stamp})
    )
    return wish


@transactional
async def release(
    app: AppContext, session: AsyncSession, wish_id: int, user_id: int, reason: str
) -> Wish:
    """The volunteer gives the task back; it goes back to offers (without them)."""
    if reason not in RELEASE_REASONS:
        raise UserError("errors.stale_button")
    await begin_write(session)
    wish = await _volunteers_task(session, wish_id, user_id, "claimed", "in_progress")
    now = app.now()
    wish_states.move(
        session,
        wish,
        "offered",
        actor_id=user_id,
        at=now,
        note=history_note("released", reason=reason),
    )
    wish.volunteer_id, wish.claimed_at, wish.agreed_at = None, None, None
    await session.execute(
        update(Offer)
        .where(Offer.wish_id == wish_id, Offer.volunteer_id == user_id)
        .values(status="released")
    )
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:")
    audit.record(session, user_id, "task.release", "wish", wish_id, reason=reason)
    await session.commit()
    await app.notifier.notify(wish.resident_id, Notice("task.released_resident", {"id": wish_id}))
    from bot.services.tasks.offers import next_round, refresh_group_post

    await refresh_group_post(app, wish_id)
    await next_round(app, wish_id, actor_id=user_id)
    return wish


@transactional
async def relay(
    app: AppContext, session: AsyncSession, wish_id: int, sender_id: int, text: str
) -> int:
    """Pass a message to the other side of the task; returns the recipient's user id."""
    text = _clean(text, RELAY_MAX)
    await begin_write(session)
    wish = await _wish(session, wish_id)
    if sender_id not in (wish.resident_id, wish.volunteer_id) or wish.volunteer_id is None:
        raise UserError("relay.not_yours", id=wish_id)
    if wish.status not in RELAY_OPEN:
        raise UserError("relay.closed", id=wish_id)
    to_id = wish.volunteer_id if sender_id == wish.resident_id else wish.resident_id
    session.add(
        RelayMessage(
            wish_id=wish_id, from_user_id=sender_id, to_user_id=to_id, text=text, at=app.now()
        )
    )
    await session.commit()
    role = "resident" if sender_id == wish.resident_id else "volunteer"
    await app.notifier.notify(
        to_id, Notice("relay.message", {"id": wish_id, "from": role, "text": text})
    )
    return to_id


@transactional
async def mark_done(
    app: AppContext,
    session: AsyncSession,
    wish_id: int,
    user_id: int,
    note: str | None,
    photo_file_id: str | None,
) -> Wish:
    if note is not None and len(note) > NOTE_MAX:
        raise UserError("errors.text_length", max=NOTE_MAX)
    await begin_write(session)
    wish = await _volunteers_task(session, wish_id, user_id, "claimed", "in_progress")
    now = app.now()
    wish.done_note, wish.done_photo_file_id, wish.done_at = note, photo_file_id, now
    wish_states.move(
        session,
        wish,
        "done",
        actor_id=user_id,
        at=now,
        note=history_note("text", text=note) if note else None,
    )
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:")
    tasks = app.settings.tasks
    schedule(
        session,
        kind="task.confirm_reminder",
        key=f"wish:{wish_id}:confirm_reminder",
        due_at=now + timedelta(hours=tasks.confirm_reminder_hours),
        payload={"wish_id": wish_id},
    )
    schedule(
        session,
        kind="task.confirm_timeout",
        key=f"wish:{wish_id}:confirm_timeout",
        due_at=now + timedelta(days=tasks.confirm_timeout_days),
        payload={"wish_id": wish_id},
    )
    audit.record(session, user_id, "task.done", "wish", wish_id)
    await session.commit()
    await app.notifier.notify(wish.resident_id, Notice("task.done_resident", {"id": wish_id}))
    from bot.services.tasks.offers import refresh_group_post

    await refresh_group_post(app, wish_id)
    return wish


@transactional
async def confirm(
    app: AppContext,
    session: AsyncSession,
    wish_id: int,
    resident_id: int,
    rating: int,
    *,
    actor_id: int | None = None,
) -> Wish:
    """The resident confirms with 1-5 stars; verification or the award follows.

    ``actor_id``: who pressed, when not the resident (their 代办 filer, with them in person).
    """
    if not 1 <= rating <= 5:
        raise UserError("errors.stale_button")
    await begin_write(session)
    wish = await _residents_wish(session, wish_id, resident_id)
    if wish.status != "done":
        raise UserError("task.state_changed", id=wish_id)
    now = app.now()
    wish.rating = rating
    wish_states.move(
        session,
        wish,
        "confirmed",
        actor_id=actor_id or resident_id,
        at=now,
        note=history_note("rated", stars=rating),
    )
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:confirm_")
    category = app.settings.categories.get(wish.category)
    needs_staff = category is None or category.verify
    reviewers = await staff_for_grid(session, wish.grid_id) if needs_staff else []
    await session.commit()
    if wish.volunteer_id is not None:
        await app.notifier.notify(
            wish.volunteer_id, Notice("task.confirmed_volunteer", {"id": wish_id, "rating": rating})
        )
    if needs_staff:
        for staff_id in reviewers:
            await app.notifier.notify(staff_id, Notice("staff.verify_card", {"id": wish_id}))
    else:
        await _verify_and_award(app, wish_id, actor_id=None)
    return wish


@transactional
async def add_comment(
    app: AppContext, session: AsyncSession, wish_id: int, resident_id: int, text: str
) -> None:
    text = _clean(text, NOTE_MAX)
    await begin_write(session)
    wish = await _residents_wish(session, wish_id, resident_id)
    wish.rating_comment = text
    await session.commit()


@transactional
async def dispute(
    app: AppContext, session: AsyncSession, wish_id: int, resident_id: int, reason: str
) -> Wish:
    reason = _clean(reason, NOTE_MAX)
    await begin_write(session)
    wish = await _residents_wish(session, wish_id, resident_id)
    if wish.status != "done":
        raise UserError("task.state_changed", id=wish_id)
    wish_states.move(
        session,
        wish,
        "disputed",
        actor_id=resident_id,
        at=app.now(),
        note=history_note("text", text=reason),
    )
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:confirm_")
    reviewers = await staff_for_grid(session, wish.grid_id)
    await session.commit()
    for staff_id in reviewers:
        await app.notifier.notify(staff_id, Notice("staff.dispute_card", {"id": wish_id}))
    return wish


async def _require_staff_for(session: AsyncSession, staff_user_id: int, wish: Wish) -> None:
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    if staff.scope == "grid" and staff.grid_id != wish.grid_id:
        raise UserError("staff.not_your_grid", id=wish.id)


@transactional
async def verify(app: AppContext, session: AsyncSession, wish_id: int, staff_user_id: int) -> None:
    """社区核实: staff confirm the service happened; points follow."""
    await begin_write(session)
    wish = await _wish(session, wish_id)
    await _require_staff_for(session, staff_user_id, wish)
    if wish.status not in ("confirmed", "done"):
        raise UserError("staff.wish_state_changed", id=wish_id)
    if wish.status == "done":  # the resident never answered: staff decide it was done
        wish_states.move(
            session,
            wish,
            "confirmed",
            actor_id=staff_user_id,
            at=app.now(),
            note=history_note("by_staff"),
        )
        await cancel_timers(session, key_prefix=f"wish:{wish_id}:confirm_")
    await session.commit()
    await _verify_and_award(app, wish_id, actor_id=staff_user_id)


@transactional
async def resolve_dispute(
    app: AppContext, session: AsyncSession, wish_id: int, staff_user_id: int, outcome: str
) -> None:
    """A disputed task: count it as done, offer it again, or close it."""
    if outcome not in ("accept", "redo", "close"):
        raise UserError("errors.stale_button")
    await begin_write(session)
    wish = await _wish(session, wish_id)
    await _require_staff_for(session, staff_user_id, wish)
    if wish.status != "disputed":
        raise UserError("staff.wish_state_changed", id=wish_id)
    now = app.now()
    volunteer_id, resident_id = wish.volunteer_id, wish.resident_id
    if outcome == "accept":
        wish_states.move(
            session,
            wish,
            "confirmed",
            actor_id=staff_user_id,
            at=now,
            note=history_note("dispute_accepted"),
        )
    elif outcome == "redo":
        wish_states.move(
            session,
            wish,
            "offered",
            actor_id=staff_user_id,
            at=now,
            note=history_note("dispute_redo"),
        )
        wish.volunteer_id, wish.claimed_at, wish.agreed_at, wish.done_at = None, None, None, None
    else:
        wish_states.move(
            session,
            wish,
            "closed",
            actor_id=staff_user_id,
            at=now,
            note=history_note("dispute_closed"),
        )
    audit.record(session, staff_user_id, f"task.dispute_{outcome}", "wish", wish_id)
    await session.commit()
    for uid in (resident_id, volunteer_id):
        if uid is not None:
            await app.notifier.notify(uid, Notice(f"task.dispute_{outcome}", {"id": wish_id}))
    if outcome == "accept":
        await _verify_and_award(app, wish_id, actor_id=staff_user_id)
    elif outcome == "redo":
        from bot.services.tasks.offers import next_round

        await next_round(app, wish_id, actor_id=staff_user_id)


async def _verify_and_award(app: AppContext, wish_id: int, actor_id: int | None) -> None:
    """confirmed → verified → (points) → closed; the award is recorded once whatever happens."""
    async with app.sessions() as session:
        await begin_write(session)
        wish = await _wish(session, wish_id)
        if wish.status != "confirmed":
            return
        now = app.now()
        wish_states.move(session, wish, "verified", actor_id=actor_id, at=now)
        audit.record(session, actor_id, "task.verify", "wish", wish_id)
        await session.commit()
        await award_points(app, session, wish_id)
        await begin_write(session)
        wish = await _wish(session, wish_id)
        wish_states.move(session, wish, "closed", actor_id=actor_id, at=app.now())
        await session.commit()
        volunteer_id, resident_id = wish.volunteer_id, wish.resident_id
    from bot.services.tasks.offers import refresh_group_post

    await refresh_group_post(app, wish_id)
    await app.notifier.notify(resident_id, Notice("task.closed_resident", {"id": wish_id}))
    if volunteer_id is not None:
        await app.notifier.notify(volunteer_id, Notice("task.verified_volunteer", {"id": wish_id}))
    await notify_merged(app, wish_id)  # neighbours who reported the same thing


async def award_points(app: AppContext, session: AsyncSession, wish_id: int) -> None:
    """The ledger's award for a verified task (idempotent there; a scheduled sweep retries)."""
    try:
        from bot.services.points.ledger import award_for_wish
    except ImportError:  # the ledger is not part of this build
        return
    try:
        await award_for_wish(app, session, wish_id)
    except Exception:
        log.exception("award for wish %s failed; the sweep will retry", wish_id)
