"""A resident's "谢谢" after a finished task reaches the volunteer who did it, once per task."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Wish, WishEvent
from bot.db.tx import begin_write, transactional
from bot.services.context import AppContext
from bot.services.intake import wish_states
from bot.services.intake.history_notes import encode as history_note
from bot.services.notices import Notice

THANKS_WINDOW = timedelta(days=7)
FINISHED = ("done", "confirmed", "verified", "closed")


@transactional
async def thank_volunteer(app: AppContext, session: AsyncSession, resident_id: int) -> int | None:
    """Pass the thanks on for the resident's task finished in the last 7 days, if any.

    The volunteer gets a fixed, kind text naming only the task number (nothing about the
    resident); a second "谢谢" for the same task is not passed on again. Returns the wish id
    the thanks belong to, or None when no task was finished recently.
    """
    await begin_write(session)
    now = app.now()
    wish = await session.scalar(
        select(Wish)
        .where(
            Wish.resident_id == resident_id,
            Wish.status.in_(FINISHED),
            Wish.volunteer_id.is_not(None),
            Wish.done_at >= now - THANKS_WINDOW,
        )
        .order_by(Wish.done_at.desc(), Wish.id.desc())
        .limit(1)
    )
    if wish is None or wish.volunteer_id is None:
        await session.commit()
        return None
    thanked = history_note("thanked")
    already = await session.scalar(
        select(WishEvent.id).where(WishEvent.wish_id == wish.id, WishEvent.note == thanked)
    )
    volunteer_id, wish_id = wish.volunteer_id, wish.id
    if already is None:
        wish_states.note(session, wish, thanked, actor_id=resident_id, at=now)
    await session.commit()
    if already is None:
        await app.notifier.notify(volunteer_id, Notice("task.thanked", {"id": wish_id}))
    return wish_id
