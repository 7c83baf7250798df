"""The task's timers (reminders, nudges, overdue alerts, the wait for the resident's confirm).

Registered with the scheduler on import; ``lifecycle`` imports this module, so using the
lifecycle services is enough for the timers they schedule to have their handlers.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.models import Wish
from bot.scheduler.timers import timer_handler
from bot.services.context import AppContext
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid


@timer_handler("task.reminder")
async def _reminder(app: AppContext, payload: dict[str, object], due_at: datetime) -> None:
    wish_id = int(payload["wish_id"])  # type: ignore[call-overload]
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or wish.status not in ("claimed", "in_progress") or wish.agreed_at is None:
            return
        if int(wish.agreed_at.timestamp()) != payload.get("agreed") or wish.volunteer_id is None:
            return  # the time changed since: another reminder covers it
        volunteer_id, stamp = wish.volunteer_id, int(wish.agreed_at.timestamp())
    await app.notifier.notify(volunteer_id, Notice("task.reminder", {"id": wish_id, "when": stamp}))


@timer_handler("task.nudge")
async def _nudge(app: AppContext, payload: dict[str, object], due_at: datetime) -> None:
    wish_id = int(payload["wish_id"])  # type: ignore[call-overload]
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if (
            wish is None
            or wish.status != "claimed"
            or wish.volunteer_id != payload.get("volunteer_id")
        ):
            return
        volunteer_id = wish.volunteer_id
    if volunteer_id is None:
        return
    await app.notifier.notify(volunteer_id, Notice("task.nudge", {"id": wish_id}))


@timer_handler("task.overdue")
async def _overdue(app: AppContext, payload: dict[str, object], due_at: datetime) -> None:
    wish_id = int(payload["wish_id"])  # type: ignore[call-overload]
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or wish.status not in ("claimed", "in_progress"):
            return
        if wish.volunteer_id != payload.get("volunteer_id"):
            return
        reviewers = await staff_for_grid(session, wish.grid_id)
    for staff_id in reviewers:
        await app.notifier.notify(staff_id, Notice("staff.overdue", {"id": wish_id}))


@timer_handler("task.confirm_reminder")
async def _confirm_reminder(app: AppContext, payload: dict[str, object], due_at: datetime) -> None:
    wish_id = int(payload["wish_id"])  # type: ignore[call-overload]
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or wish.status != "done":
            return
        resident_id = wish.resident_id
    await app.notifier.notify(
        resident_id, Notice("task.done_resident", {"id": wish_id, "reminder": True})
    )


@timer_handler("task.confirm_timeout")
async def _confirm_timeout(app: AppContext, payload: dict[str, object], due_at: datetime) -> None:
    wish_id = int(payload["wish_id"])  # type: ignore[call-overload]
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or wish.status != "done":
            return
        reviewers = await staff_for_grid(session, wish.grid_id)
    for staff_id in reviewers:
        await app.notifier.notify(
            staff_id, Notice("staff.verify_card", {"id": wish_id, "unconfirmed": True})
        )
