"""Dispatch (社区派单): staff approve, correct, reject, merge or escalate (吹哨) a wish."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CategoryCorrection, Escalation, Staff, Wish
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import wish_states
from bot.services.intake.classifier import classifier_of
from bot.services.intake.deadlines import cancel_escalation_timers, schedule_escalation_timers
from bot.services.intake.duplicates import notify_merged
from bot.services.intake.history_notes import encode as history_note
from bot.services.intake.routing import after_approval
from bot.services.intake.staff_cards import refresh_review_cards
from bot.services.notices import Notice

REASON_MAX = 300


async def staff_wish(session: AsyncSession, staff_user_id: int, wish_id: int) -> tuple[Staff, Wish]:
    """The wish, if this staff member may act on it (grid staff: their own grid only)."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    wish = await session.get(Wish, wish_id, populate_existing=True, with_for_update=True)
    if wish is None:
        raise UserError("wish.unknown", id=wish_id)
    if staff.scope == "grid" and wish.grid_id != staff.grid_id:
        raise UserError("staff.not_your_grid", id=wish_id)
    return staff, wish


def _require(wish: Wish, *statuses: str) -> None:
    if wish.status not in statuses:
        raise UserError("staff.wish_state_changed", id=wish.id)


@transactional
async def set_category(
    app: AppContext, session: AsyncSession, staff_user_id: int, wish_id: int, category: str
) -> Wish:
    """Correct a wish's category; the classifier learns from it at once."""
    await begin_write(session)
    if app.settings.categories.get(category) is None:
        raise UserError("errors.stale_button")
    _, wish = await staff_wish(session, staff_user_id, wish_id)
    _require(wish, "submitted", "approved", "escalated")
    if wish.category == category:
        return wish
    session.add(
        CategoryCorrection(
            wish_id=wish.id,
            text=wish.text,
            from_category=wish.category,
            to_category=category,
            corrected_by=staff_user_id,
            at=app.now(),
        )
    )
    wish_states.note(
        session,
        wish,
        history_note("recategorised", **{"from": wish.category, "to": category}),
        actor_id=staff_user_id,
        at=app.now(),
    )
    wish.category = category
    audit.record(session, staff_user_id, "wish.recategorise", "wish", wish_id, category=category)
    await session.commit()
    classifier_of(app).learn(wish.text, category)
    await refresh_review_cards(app, wish_id)
    return wish


@transactional
async def approve(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    wish_id: int,
    *,
    difficulty: str,
    deadline: datetime | None,
) -> Wish:
    await begin_write(session)
    if difficulty not in ("easy", "normal", "hard"):
        raise UserError("errors.stale_button")
    _, wish = await staff_wish(session, staff_user_id, wish_id)
    _require(wish, "submitted", "escalated")
    wish.difficulty = difficulty
    wish.deadline = deadline
    wish_states.move(session, wish, "approved", actor_id=staff_user_id, at=app.now())
    audit.record(session, staff_user_id, "wish.approve", "wish", wish_id, difficulty=difficulty)
    await session.commit()
    await refresh_review_cards(app, wish_id)
    await app.notifier.notify(wish.resident_id, Notice("wish.approved_notice", {"id": wish.id}))
    await after_approval(app, wish.id)
    return wish


@transactional
async def reject(
    app: AppContext, session: AsyncSession, staff_user_id: int, wish_id: int, reason: str
) -> Wish:
    await begin_write(session)
    reason = " ".join(reason.split())
    if not reason or len(reason) > REASON_MAX:
        raise UserError("errors.text_length", max=REASON_MAX)
    _, wish = await staff_wish(session, staff_user_id, wish_id)
    _require(wish, "submitted", "escalated", "approved")
    wish.reject_reason = reason
    wish_states.move(
        session,
        wish,
        "rejected",
        actor_id=staff_user_id,
        at=app.now(),
        note=history_note("text", text=reason),
    )
    audit.record(session, staff_user_id, "wish.reject", "wish", wish_id)
    await session.commit()
    await refresh_review_cards(app, wish_id)
    await app.notifier.notify(
        wish.resident_id, Notice("wish.rejected_notice", {"id": wish.id, "reason": reason})
    )
    return wish


@transactional
async def merge(
    app: AppContext, session: AsyncSession, staff_user_id: int, wish_id: int, into_id: int
) -> Wish:
    await begin_write(session)
    if wish_id == into_id:
        raise UserError("staff.merge_self")
    _, target = await staff_wish(session, staff_user_id, into_id)
    if target.status in wish_states.TERMINAL:
        raise UserError("staff.merge_target_closed", id=into_id)
    _, wish = await staff_wish(session, staff_user_id, wish_id)
    _require(wish, "submitted")
    wish.merged_into_id = into_id
    target.details = [*target.details, wish.text]
    now = app.now()
    wish_states.move(
        session,
        wish,
        "merged",
        actor_id=staff_user_id,
        at=now,
        note=history_note("merged_into", into=into_id),
    )
    wish_states.note(
        session, target, history_note("merged_from", id=wish_id), actor_id=staff_user_id, at=now
    )
    audit.record(session, staff_user_id, "wish.merge", "wish", wish_id, into=into_id)
    await session.commit()
    await refresh_review_cards(app, wish_id)
    await app.notifier.notify(
        wish.resident_id, Notice("wish.merged_notice", {"id": wish.id, "into": into_id})
    )
    return wish


@transactional
async def escalate(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    wish_id: int,
    *,
    department: str,
    note: str,
    deadline: datetime | None,
) -> Escalation:
    await begin_write(session)
    departments = {d.id: d.name for d in app.settings.community.departments}
    if department not in departments:
        raise UserError("errors.stale_button")
    _, wish = await staff_wish(session, staff_user_id, wish_id)
    _require(wish, "submitted", "approved")
    now = app.now()
    escalation = Escalation(
        wish_id=wish_id,
        department=department,
        note=note,
        deadline=deadline,
        created_by=staff_user_id,
        created_at=now,
    )
    session.add(escalation)
    await session.flush()
    schedule_escalation_timers(app, session, escalation)
    wish_states.move(
        session,
        wish,
        "escalated",
        actor_id=staff_user_id,
        at=now,
        note=history_note("text", text=departments[department]),
    )
    audit.record(session, staff_user_id, "wish.escalate", "wish", wish_id, department=department)
    await session.commit()
    await refresh_review_cards(app, wish_id)
    await app.notifier.notify(
        wish.resident_id,
        Notice("wish.escalated_notice", {"id": wish.id, "department": departments[department]}),
    )
    return escalation


async def open_escalation(session: AsyncSession, wish_id: int) -> Escalation | None:
    return await session.scalar(
        select(Escalation)
        .where(Escalation.wish_id == wish_id, Escalation.status == "open")
        .order_by(Escalation.id.desc())
    )


@transactional
async def answer_escalation(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    wish_id: int,
    *,
    answer: str,
    close: bool,
) -> Wish:
    """Record the department's answer; close the wish, or re-open it for volunteers."""
    await begin_write(session)
    answer = answer.strip()
    if not answer or len(answer) > 1000:
        raise UserError("errors.text_length", max=1000)
    _, wish = await staff_wish(session, staff_user_id, wish_id)
    _require(wish, "escalated")
    escalation = await open_escalation(session, wish_id)
    now = app.now()
    if escalation is not None:
        escalation.status, escalation.answer, escalation.answered_at = "answered", answer, now
    await cancel_escalation_timers(session, wish_id)
    wish_states.move(
        session,
        wish,
        "closed" if close else "approved",
        actor_id=staff_user_id,
        at=now,
        note=history_note("text", text=answer),
    )
    audit.record(session, staff_user_id, "wish.escalation_answer", "wish", wish_id, close=close)
    await session.commit()
    await refresh_review_cards(app, wish_id)
    kind = "wish.escalation_closed_notice" if close else "wish.escalation_reopened_notice"
    await app.notifier.notify(wish.resident_id, Notice(kind, {"id": wish.id, "answer": answer}))
    if close:
        await notify_merged(app, wish.id)  # neighbours who reported the same thing
    else:
        await after_approval(app, wish.id)
    return wish


async def review_queue(session: AsyncSession, staff_user_id: int, limit: int = 30) -> list[Wish]:
    """Wishes waiting for staff, oldest first (submitted, and escalations awaiting an answer)."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    query = (
        select(Wish).where(Wish.status.in_(("submitted", "escalated"))).order_by(Wish.created_at)
    )
    if staff.scope == "grid":
        query = query.where(Wish.grid_id == staff.grid_id)
    return list((await session.scalars(query.limit(limit))).all())
