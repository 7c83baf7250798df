"""The claim (党员接单): the first valid press wins, then everyone else is told.

A conditional UPDATE on the wish decides between presses (and processes), so two can never both
win; a press on a wish already held is refused from a plain read before any write lock, and the
presser is answered before the other cards are redrawn (:func:`take`, then
:func:`announce_claim`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Offer, Volunteer, Wish, WishEvent
from bot.db.tx import begin_write, end_read, transactional
from bot.scheduler.timers import cancel_timers, schedule
from bot.services import audit
from bot.services.authz import HOLDER_SEEN
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice, SentRef
from bot.services.tasks import holders, task_refs
from bot.services.tasks.offers import refresh_group_post
from bot.services.tasks.volunteer_pool import ACTIVE


async def _volunteer_may_claim(session: AsyncSession, wish: Wish, user_id: int) -> Volunteer:
    volunteer = await session.get(Volunteer, user_id, populate_existing=True)
    if volunteer is None:
        raise UserError("task.not_volunteer")
    if volunteer.status == "pending":
        raise UserError("task.not_approved_yet")
    if volunteer.status != "approved":
        raise UserError("task.suspended")
    if wish.resident_id == user_id:
        raise UserError("task.own_wish")
    active = await session.scalar(
        select(func.count())
        .select_from(Wish)
        .where(Wish.volunteer_id == user_id, Wish.status.in_(ACTIVE))
    )
    if (active or 0) >= volunteer.max_active_tasks:
        raise UserError("task.full", max=volunteer.max_active_tasks)
    return volunteer


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claim that won, and whose offer cards must now say "taken"."""

    wish: Wish
    volunteer_id: int
    losers: list[tuple[int, int, int]]  # (chat id, message id, volunteer user id)


# Presses on one wish in this process take turns here, woken as soon as the one before is
# done, instead of all polling SQLite's write lock (its busy handler sleeps up to 100 ms a
# try). The database's conditional UPDATE still decides between processes.
_claim_turns: dict[int, tuple[asyncio.Lock, list[int]]] = {}  # wish id -> (lock, [pressers])


async def take(app: AppContext, session: AsyncSession, wish_id: int, user_id: int) -> Claimed:
    """The first valid claim wins: the database part of a claim, nobody told yet.

    A press on a wish someone already holds is answered from a fresh plain read, without
    the write lock (50 presses at once used to take turns on it, the winner included).
    """
    await refuse_if_held(session, wish_id, user_id)  # losers answered without the turn
    turn, pressers = _claim_turns.setdefault(wish_id, (asyncio.Lock(), [0]))
    pressers[0] += 1
    try:
        async with turn:
            return await _take(app, session, wish_id, user_id)
    finally:
        pressers[0] -= 1
        if not pressers[0]:
            _claim_turns.pop(wish_id, None)


_HOLDER = select(Wish.status, Wish.volunteer_id).where(Wish.id == bindparam("wish_id"))


@transactional
async def refuse_if_held(session: AsyncSession, wish_id: int, user_id: int) -> str:
    """A plain read, no write lock: refuses a press on a wish someone already holds.

    The first call in an update may use what the authorization check just read of the wish
    (``authz.HOLDER_SEEN``, taken once); later calls read afresh."""
    seen = session.info.get(HOLDER_SEEN, {}).pop(wish_id, None)
    if seen is None:
        await end_read(session)  # a snapshot from before the last claim would not see it
        seen = (await session.execute(_HOLDER, {"wish_id": wish_id})).first()
        if seen is None:
            raise UserError("wish.unknown", id=wish_id)
    status, holder = seen
    if holder is not None and status in ACTIVE:
        raise UserError(
            "task.already_yours" if holder == user_id else "task.already_taken", id=wish_id
        )
    return str(status)


@transactional
async def _take(app: AppContext, session: AsyncSession, wish_id: int, user_id: int) -> Claimed:
    await refuse_if_held(session, wish_id, user_id)  # again: the one before us may have won
    await begin_write(session)
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        raise UserError("wish.unknown", id=wish_id)
    if wish.volunteer_id == user_id and wish.status in ACTIVE:
        raise UserError("task.already_yours", id=wish_id)
    await _volunteer_may_claim(session, wish, user_id)
    now = app.now()
    result = await session.execute(
        update(Wish)
        .where(
            Wish.id == wish_id,
            Wish.status.in_(("approved", "offered")),
            Wish.volunteer_id.is_(None),
        )
        .values(status="claimed", volunteer_id=user_id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise UserError("task.already_taken", id=wish_id)
    session.add(
        WishEvent(
            wish_id=wish_id, from_status=wish.status, to_status="claimed", actor_id=user_id, at=now
        )
    )
    await session.execute(
        update(Offer)
        .where(Offer.wish_id == wish_id, Offer.volunteer_id == user_id)
        .values(status="claimed", answered_at=now)
    )
    losers = (
        await session.execute(
            select(Offer.chat_id, Offer.message_id, Offer.volunteer_id).where(
                Offer.wish_id == wish_id, Offer.status == "sent", Offer.volunteer_id != user_id
            )
        )
    ).all()
    await session.execute(
        update(Offer).where(Offer.wish_id == wish_id, Offer.status == "sent").values(status="taken")
    )
    await cancel_timers(session, key_prefix=f"wish:{wish_id}:round:")
    schedule(
        session,
        kind="task.nudge",
        key=f"wish:{wish_id}:nudge:{int(now.timestamp())}",
        due_at=now + timedelta(hours=app.settings.tasks.nudge_hours),
        payload={"wish_id": wish_id, "volunteer_id": user_id},
    )
    if wish.deadline is not None:
        schedule(
            session,
            kind="task.overdue",
            key=f"wish:{wish_id}:overdue:deadline:{user_id}",
            due_at=wish.deadline + timedelta(hours=app.settings.tasks.overdue_hours),
            payload={"wish_id": wish_id, "volunteer_id": user_id},
        )
    audit.record(session, user_id, "task.claim", "wish", wish_id)
    await session.commit()
    wish = await session.get(Wish, wish_id, populate_existing=True)
    assert wish is not None
    # Everyone else still pressing Claim on the grid's post hears "taken" from memory.
    holders.of(session).held(
        wish_id, user_id, wish.grid_id, wish.group_chat_id, wish.group_message_id
    )
    return Claimed(
        wish,
        user_id,
        [(int(c), int(m), int(v)) for c, m, v in losers if c is not None and m is not None],
    )


async def announce_claim(app: AppContext, session: AsyncSession, claimed: Claimed) -> None:
    """Tell everyone else, after the presser has had their answer: the other offered
    volunteers' cards say "taken", the group post updates, the resident and the winner hear."""
    wish_id = claimed.wish.id
    languages = await _languages(app, [v for _, _, v in claimed.losers])
    for chat_id, message_id, volunteer_id in claimed.losers:
        await app.notifier.edit(
            SentRef(chat_id, message_id),
            Notice("offer.taken", {"id": wish_id}),
            lang=languages.get(volunteer_id, app.settings.community.default_language),
        )
    await refresh_group_post(app, wish_id)
    await app.notifier.notify(
        claimed.wish.resident_id, Notice("task.claimed_resident", {"id": wish_id})
    )
    ref = await app.notifier.notify(
        claimed.volunteer_id, Notice("task.card", {"id": wish_id, "intro": "claimed"})
    )
    if ref is not None:  # remembered, so the card can be redrawn when the wish changes
        await task_refs.remember(session, wish_id, claimed.volunteer_id, ref)


async def claim(app: AppContext, session: AsyncSession, wish_id: int, user_id: int) -> Wish:
    """Take the wish and tell everyone (callers that answer the presser first use
    :func:`take`, answer, then :func:`announce_claim`)."""
    claimed = await take(app, session, wish_id, user_id)
    await announce_claim(app, session, claimed)
    return claimed.wish


async def _languages(app: AppContext, user_ids: list[int]) -> dict[int, str]:
    from bot.db.models import User

    if not user_ids:
        return {}
    async with app.sessions() as session:
        rows = await session.execute(select(User.id, User.language).where(User.id.in_(user_ids)))
        return {int(uid): str(lang) for uid, lang in rows.all()}
