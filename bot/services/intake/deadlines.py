"""吹哨 deadlines: remind the responsible staff before a department's deadline, alert after it.

An escalation records its deadline; these timers read it. The staff member who blew the
whistle is responsible; the grid's reviewers are told too when it runs over. An escalation
answered in the meantime (or a wish no longer escalated) makes both timers do nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Escalation, Staff, Wish
from bot.scheduler.timers import cancel_timers, schedule, timer_handler
from bot.services.context import AppContext
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid


def _key(wish_id: int) -> str:
    return f"wish:{wish_id}:escalation:"


def schedule_escalation_timers(
    app: AppContext, session: AsyncSession, escalation: Escalation
) -> None:
    """Add the reminder and the overdue alert for a new escalation (the caller commits)."""
    if escalation.deadline is None:
        return
    now = app.now()
    payload = {"wish_id": escalation.wish_id, "escalation_id": escalation.id}
    remind_at = escalation.deadline - timedelta(hours=app.settings.tasks.escalation_reminder_hours)
    if remind_at > now:
        schedule(
            session,
            kind="escalation.reminder",
            key=f"{_key(escalation.wish_id)}{escalation.id}:remind",
            due_at=remind_at,
            payload=payload,
        )
    schedule(
        session,
        kind="escalation.overdue",
        key=f"{_key(escalation.wish_id)}{escalation.id}:overdue",
        due_at=escalation.deadline,
        payload=payload,
    )


async def cancel_escalation_timers(session: AsyncSession, wish_id: int) -> None:
    await cancel_timers(session, key_prefix=_key(wish_id))


@dataclass(frozen=True, slots=True)
class Due:
    deadline: datetime
    overdue: bool


async def escalation_deadlines(
    app: AppContext, session: AsyncSession, wish_ids: Sequence[int]
) -> dict[int, Due]:
    """The open escalations' deadlines of these wishes (for the queue)."""
    if not wish_ids:
        return {}
    rows = (
        await session.execute(
            select(Escalation.wish_id, Escalation.deadline)
            .where(
                Escalation.wish_id.in_(list(wish_ids)),
                Escalation.status == "open",
                Escalation.deadline.is_not(None),
            )
            .order_by(Escalation.id)
        )
    ).all()
    now = app.now()
    return {
        int(wish_id): Due(deadline, deadline <= now)
        for wish_id, deadline in rows
        if deadline is not None
    }


async def _still_open(
    session: AsyncSession, payload: dict[str, Any]
) -> tuple[Wish, Escalation] | None:
    wish = await session.get(Wish, int(payload["wish_id"]))
    escalation = await session.get(Escalation, int(payload["escalation_id"]))
    if wish is None or escalation is None:
        return None
    if wish.status != "escalated" or escalation.status != "open" or escalation.deadline is None:
        return None
    return wish, escalation


def _params(app: AppContext, wish: Wish, escalation: Escalation) -> dict[str, Any]:
    departments = {d.id: d.name for d in app.settings.community.departments}
    assert escalation.deadline is not None
    return {
        "id": wish.id,
        "department": departments.get(escalation.department, escalation.department),
        "deadline": int(escalation.deadline.timestamp()),
    }


@timer_handler("escalation.reminder")
async def _reminder(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    async with app.sessions() as session:
        found = await _still_open(session, payload)
        if found is None:
            return
        wish, escalation = found
        responsible = [escalation.created_by]
        if await session.get(Staff, escalation.created_by) is None:  # no longer staff
            responsible = await staff_for_grid(session, wish.grid_id)
        params = _params(app, wish, escalation)
    for staff_id in responsible:
        await app.notifier.notify(staff_id, Notice("deadline.escalation_reminder", params))


@timer_handler("escalation.overdue")
async def _overdue(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    async with app.sessions() as session:
        found = await _still_open(session, payload)
        if found is None:
            return
        wish, escalation = found
        reviewers = await staff_for_grid(session, wish.grid_id)
        if await session.get(Staff, escalation.created_by) is not None:
            reviewers = [escalation.created_by, *reviewers]
        params = _params(app, wish, escalation)
    for staff_id in dict.fromkeys(reviewers):
        await app.notifier.notify(staff_id, Notice("deadline.escalation_overdue", params))
