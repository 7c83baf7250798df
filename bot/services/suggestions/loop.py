"""社情民意: a resident's suggestion or complaint, answered and fixed by staff (反馈—整改—闭环).

A resident files one (`/suggest`, or "提建议" when the bot reads a message as a suggestion);
the grid's staff get a card. Staff answer it, start a fix (an owner and a due date: reminded
before, alerted after, like 吹哨), mark it fixed, or decline it with a reason. The resident is
told at every step and, after an answer or a fix, says whether they are satisfied. Every change
is committed before anyone is told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Resident, Staff, Suggestion, SuggestionEvent, User
from bot.db.tx import begin_write, transactional
from bot.scheduler.timers import cancel_timers, schedule, timer_handler
from bot.services import audit
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid
from bot.services.suggestions import states
from bot.services.suggestions.states import ANSWERED, DECLINED, FIXED, FIXING, OPEN, RATEABLE

log = logging.getLogger(__name__)

TEXT_MIN, TEXT_MAX = 4, 1000
REPLY_MAX = 500
FIX_DAYS = (3, 7, 14, 30)
QUEUE_LIMIT = 20
MAX_WAITING = 5  # a resident's suggestions not yet answered: more waits for an answer first


@dataclass(frozen=True, slots=True)
class SuggestionView:
    id: int
    resident_id: int
    grid_id: int
    grid_name: str
    text: str
    status: str
    answer: str | None
    owner_id: int | None
    owner_name: str | None
    due_at: datetime | None
    satisfied: bool | None
    created_at: datetime

    @property
    def overdue_at(self) -> datetime | None:
        return self.due_at if self.status == FIXING else None


async def view_of(session: AsyncSession, s: Suggestion) -> SuggestionView:
    grid = await session.get(Grid, s.grid_id)
    owner = await session.get(User, s.owner_id) if s.owner_id is not None else None
    return SuggestionView(
        id=s.id,
        resident_id=s.resident_id,
        grid_id=s.grid_id,
        grid_name=grid.name if grid else "?",
        text=s.text,
        status=s.status,
        answer=s.answer,
        owner_id=s.owner_id,
        owner_name=(owner.display_name or "—") if owner else None,
        due_at=s.due_at,
        satisfied=s.satisfied,
        created_at=s.created_at,
    )


def clean_text(text: str, low: int, high: int, key: str) -> str:
    cleaned = " ".join(text.split())
    if not low <= len(cleaned) <= high or cleaned.startswith("/"):
        raise UserError(key, low=low, high=high)
    return cleaned


# --- the resident ---------------------------------------------------------------------------


@transactional
async def file_suggestion(
    app: AppContext, session: AsyncSession, resident_id: int, text: str
) -> SuggestionView:
    """File a suggestion in the resident's grid; the grid's staff get its card."""
    body = clean_text(text, TEXT_MIN, TEXT_MAX, "suggest.length")
    await begin_write(session)
    resident = await session.get(Resident, resident_id)
    if resident is None:
        raise UserError("authz.residents_only")
    waiting = await session.scalar(
        select(func.count(Suggestion.id)).where(
            Suggestion.resident_id == resident_id, Suggestion.status == states.RECEIVED
        )
    )
    if int(waiting or 0) >= MAX_WAITING:
        raise UserError("suggest.too_many", n=MAX_WAITING)
    now = app.now()
    suggestion = Suggestion(
        resident_id=resident_id,
        grid_id=resident.grid_id,
        text=body,
        status=states.RECEIVED,
        created_at=now,
        updated_at=now,
    )
    session.add(suggestion)
    await session.flush()
    session.add(
        SuggestionEvent(
            suggestion_id=suggestion.id,
            from_status=states.RECEIVED,
            to_status=states.RECEIVED,
            actor_id=resident_id,
            at=now,
        )
    )
    audit.record(session, resident_id, "suggestion.file", "suggestion", suggestion.id)
    reviewers = await staff_for_grid(session, resident.grid_id)
    view = await view_of(session, suggestion)
    await session.commit()
    for staff_id in reviewers:
        await app.notifier.notify(staff_id, Notice("suggest.new", {"id": view.id}))
    return view


@transactional
async def rate(
    app: AppContext, session: AsyncSession, resident_id: int, suggestion_id: int, satisfied: bool
) -> SuggestionView:
    """The resident says whether the answer or the fix satisfied them (once per reply)."""
    await begin_write(session)
    s = await session.get(Suggestion, suggestion_id)
    if s is None or s.resident_id != resident_id:
        raise UserError("errors.stale_button")
    if s.status not in RATEABLE:
        raise UserError("suggest.not_rateable")
    if s.satisfied is not None:
        raise UserError("suggest.already_rated")
    s.satisfied, s.rated_at = satisfied, app.now()
    verdict = "satisfied" if satisfied else "not satisfied"
    states.note(session, s, verdict, actor_id=resident_id, at=app.now())
    audit.record(session, resident_id, "suggestion.rate", "suggestion", s.id, satisfied=satisfied)
    tell = [] if satisfied else await _responsible(session, s)
    view = await view_of(session, s)
    await session.commit()
    for staff_id in tell:
        await app.notifier.notify(staff_id, Notice("suggest.unsatisfied", {"id": view.id}))
    return view


async def mine(session: AsyncSession, resident_id: int, limit: int = 10) -> list[SuggestionView]:
    rows = await session.scalars(
        select(Suggestion)
        .where(Suggestion.resident_id == resident_id)
        .order_by(Suggestion.id.desc())
        .limit(limit)
    )
    return [await view_of(session, s) for s in rows]


# --- staff ----------------------------------------------------------------------------------


async def _scoped(session: AsyncSession, staff_id: int, suggestion_id: int) -> Suggestion:
    s = await session.get(Suggestion, suggestion_id)
    if s is None or not await staff_covers_grid(session, staff_id, s.grid_id):
        raise UserError("suggest.not_found", id=suggestion_id)
    return s


async def for_staff(session: AsyncSession, staff_id: int, suggestion_id: int) -> SuggestionView:
    return await view_of(session, await _scoped(session, staff_id, suggestion_id))


async def queue(session: AsyncSession, staff_id: int) -> list[SuggestionView]:
    """Open suggestions in the staff member's scope, oldest first."""
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise UserError("errors.staff_only")
    query = select(Suggestion).where(Suggestion.status.in_(sorted(OPEN)))
    if staff.scope == "grid" and not staff.is_admin:
        query = query.where(Suggestion.grid_id == staff.grid_id)
    rows = await session.scalars(query.order_by(Suggestion.id).limit(QUEUE_LIMIT))
    return [await view_of(session, s) for s in rows]


async def owners(session: AsyncSession, staff_id: int, suggestion_id: int) -> list[tuple[int, str]]:
    """Who may own the fix: the staff covering its grid (the asker first)."""
    s = await _scoped(session, staff_id, suggestion_id)
    rows = (
        await session.execute(
            select(Staff, User.display_name)
            .join(User, User.id == Staff.user_id)
            .where(User.telegram_id.is_not(None))
            .order_by(Staff.user_id)
        )
    ).all()
    found = [
        (st.user_id, name or "—")
        for st, name in rows
        if st.is_admin or st.scope != "grid" or st.grid_id == s.grid_id
    ]
    found.sort(key=lambda pair: pair[0] != staff_id)
    return found[:8]


def _move(
    app: AppContext,
    session: AsyncSession,
    s: Suggestion,
    to: str,
    staff_id: int,
    note: str | None = None,
) -> None:
    try:
        states.move(session, s, to, actor_id=staff_id, at=app.now(), note=note)
    except states.IllegalMove as exc:
        raise UserError("suggest.already_moved", id=s.id) from exc


async def _finish(
    app: AppContext, session: AsyncSession, s: Suggestion, kind: str, **extra: Any
) -> SuggestionView:
    view = await view_of(session, s)
    await session.commit()
    await app.notifier.notify(s.resident_id, Notice(kind, {"id": s.id, **extra}))
    return view


@transactional
async def answer(
    app: AppContext, session: AsyncSession, staff_id: int, suggestion_id: int, text: str
) -> SuggestionView:
    """已答复: a reply to the resident (the suggestion leaves staff's list)."""
    return await _move_with_text(
        app, session, staff_id, suggestion_id, text, ANSWERED, "answer", end_timers=False
    )


@transactional
async def start_fix(
    app: AppContext,
    session: AsyncSession,
    staff_id: int,
    suggestion_id: int,
    owner_id: int,
    days: int,
) -> SuggestionView:
    """整改中: an owner (staff covering the grid) and a due date; reminders as for 吹哨."""
    if days not in FIX_DAYS:
        raise UserError("errors.stale_button")
    await begin_write(session)
    s = await _scoped(session, staff_id, suggestion_id)
    if not await staff_covers_grid(session, owner_id, s.grid_id):
        raise UserError("suggest.owner_not_staff")
    _move(app, session, s, FIXING, staff_id, f"owner {owner_id}, {days} days")
    s.owner_id, s.due_at = owner_id, app.now() + timedelta(days=days)
    _schedule_timers(app, session, s)
    audit.record(session, staff_id, "suggestion.fix", "suggestion", s.id, owner=owner_id, days=days)
    due = int(s.due_at.timestamp())
    view = await _finish(app, session, s, "suggest.fixing", due=due)
    if owner_id != staff_id:
        await app.notifier.notify(owner_id, Notice("suggest.owner", {"id": s.id, "due": due}))
    return view


@transactional
async def mark_fixed(
    app: AppContext, session: AsyncSession, staff_id: int, suggestion_id: int, text: str
) -> SuggestionView:
    """已整改: what was done, told to the resident, who says whether it satisfied them."""
    return await _move_with_text(
        app, session, staff_id, suggestion_id, text, FIXED, "fixed", end_timers=True
    )


@transactional
async def decline(
    app: AppContext, session: AsyncSession, staff_id: int, suggestion_id: int, reason: str
) -> SuggestionView:
    """不予采纳, with the reason the resident is told."""
    return await _move_with_text(
        app, session, staff_id, suggestion_id, reason, DECLINED, "decline", end_timers=True
    )


async def _move_with_text(
    app: AppContext,
    session: AsyncSession,
    staff_id: int,
    suggestion_id: int,
    text: str,
    to: str,
    action: str,
    *,
    end_timers: bool,
) -> SuggestionView:
    """A move that tells the resident a text (the reply, what was done, why not): stored as the
    answer, audited as ``suggestion.<action>``, the resident told ``suggest.<to>``."""
    said = clean_text(text, 2, REPLY_MAX, "suggest.reply_length")
    await begin_write(session)
    s = await _scoped(session, staff_id, suggestion_id)
    _move(app, session, s, to, staff_id, said)
    s.answer = said
    if end_timers:
        await cancel_timers(session, key_prefix=_timer_key(s.id))
    audit.record(session, staff_id, f"suggestion.{action}", "suggestion", s.id)
    return await _finish(app, session, s, f"suggest.{to}")


# --- the fix's due date: reminded before, alerted after (like 吹哨) ----------------------------


def _timer_key(suggestion_id: int) -> str:
    return f"suggestion:{suggestion_id}:"


def _schedule_timers(app: AppContext, session: AsyncSession, s: Suggestion) -> None:
    assert s.due_at is not None
    payload = {"id": s.id, "due": int(s.due_at.timestamp())}
    remind_at = s.due_at - timedelta(hours=app.settings.tasks.escalation_reminder_hours)
    stamp = payload["due"]  # a new due date (reopened) gets new timers
    if remind_at > app.now():
        schedule(
            session,
            kind="suggestion.reminder",
            key=f"{_timer_key(s.id)}{stamp}:remind",
            due_at=remind_at,
            payload=payload,
        )
    schedule(
        session,
        kind="suggestion.overdue",
        key=f"{_timer_key(s.id)}{stamp}:overdue",
        due_at=s.due_at,
        payload=payload,
    )


async def _responsible(session: AsyncSession, s: Suggestion) -> list[int]:
    """The fix's owner while still staff, else the grid's reviewers."""
    if s.owner_id is not None and await session.get(Staff, s.owner_id) is not None:
        return [s.owner_id]
    return await staff_for_grid(session, s.grid_id)


async def _still_fixing(session: AsyncSession, payload: dict[str, Any]) -> Suggestion | None:
    s = await session.get(Suggestion, int(payload["id"]))
    if s is None or s.status != FIXING or s.due_at is None:
        return None
    if int(s.due_at.timestamp()) != int(payload["due"]):
        return None  # a timer of an earlier due date
    return s


@timer_handler("suggestion.reminder")
async def _reminder(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    async with app.sessions() as session:
        s = await _still_fixing(session, payload)
        if s is None:
            return
        people = await _responsible(session, s)
    for staff_id in people:
        await app.notifier.notify(
            staff_id, Notice("suggest.reminder", {"id": s.id, "due": payload["due"]})
        )


@timer_handler("suggestion.overdue")
async def _overdue(app: AppContext, payload: dict[str, Any], due_at: datetime) -> None:
    async with app.sessions() as session:
        s = await _still_fixing(session, payload)
        if s is None:
            return
        people = [*await _responsible(session, s), *await staff_for_grid(session, s.grid_id)]
    for staff_id in dict.fromkeys(people):
        await app.notifier.notify(
            staff_id, Notice("suggest.overdue", {"id": s.id, "due": payload["due"]})
        )
