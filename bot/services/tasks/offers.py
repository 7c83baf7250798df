"""Offers (党员接单): the best-suited volunteers are offered an approved wish, round by round.

Round 1..grid_rounds look in the wish's grid, the next round adds the neighbouring grids,
the one after the whole community; when those are exhausted staff are alerted (吹哨). A round
that nobody claims before its time-out (by urgency) gives way to the next. The first valid
claim wins: a conditional UPDATE on the wish, so two presses can never both win.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Offer, Resident, Volunteer, Wish
from bot.db.tx import begin_write, transactional
from bot.scheduler.timers import schedule, timer_handler
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import wish_states
from bot.services.intake.history_notes import encode as history_note
from bot.services.notices import Notice, SentRef
from bot.services.people.registration import staff_for_grid
from bot.services.tasks.volunteer_pool import (
    build_pool,
    engine_slots,
    engine_weights,
    load_grids,
)
from matching.ranking import Ranked, WishQuery, rank
from matching.slots import hours_until_next, slots_overlapping

log = logging.getLogger(__name__)
DECLINE_REASONS = ("busy", "skill", "far", "other")
PAUSE_DAYS = 7


@dataclass(frozen=True, slots=True)
class RoundResult:
    wish_id: int
    round: int
    offered: list[int]  # volunteer user ids
    exhausted: bool  # no round left: staff were alerted


def _round_area(
    wish: Wish,
    round_no: int,
    grid_rounds: int,
    ctx_codes: dict[str, int],
    neighbours: dict[int, list[str]],
    grid_community: dict[int, int],
) -> np.ndarray | None:
    """The grids a round may offer to; None once every round is used up."""
    if round_no <= grid_rounds:
        return np.array([wish.grid_id], dtype=np.int64)
    if round_no == grid_rounds + 1:
        near = [ctx_codes[c] for c in neighbours.get(wish.grid_id, []) if c in ctx_codes]
        return np.array([wish.grid_id, *near], dtype=np.int64)
    if round_no == grid_rounds + 2:
        community = grid_community.get(wish.grid_id)
        return np.array([g for g, c in grid_community.items() if c == community], dtype=np.int64)
    return None


def wish_query(
    app: AppContext, wish: Wish, building: str, community: int, exclude: set[int]
) -> WishQuery:
    slots = engine_slots(app.settings)
    now = app.now().astimezone(app.settings.tz)
    mask = 0
    if wish.time_start is not None and wish.time_end is not None:
        tz = app.settings.tz
        mask = slots_overlapping(
            wish.time_start.astimezone(tz), wish.time_end.astimezone(tz), slots
        )
    ids = app.settings.categories.ids
    return WishQuery(
        category_index=ids.index(wish.category) if wish.category in ids else len(ids) - 1,
        text=wish.text,
        slot_mask=mask,
        slot_hours_until=hours_until_next(now, slots),
        grid=wish.grid_id,
        community=community,
        building=building,
        resident_user_id=wish.resident_id,
        exclude_ids=frozenset(exclude),
    )


def round_minutes(app: AppContext, wish: Wish) -> int:
    m = app.settings.matching
    return m.round_minutes_urgent if wish.urgent else m.round_minutes


async def next_round(
    app: AppContext, wish_id: int, *, actor_id: int | None = None
) -> RoundResult | None:
    """Offer the wish to the next best volunteers. None if the wish is not open for offers.

    Reads first, in a plain read transaction that blocks nobody (the volunteers of the round's
    grids only, see ``build_pool``), then writes in one short transaction that takes the
    round with a conditional UPDATE: if someone claimed the wish or another round started in
    between, this round is dropped rather than offered twice.
    """
    settings = app.settings
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id, populate_existing=True)
        if (
            wish is None
            or wish.status not in ("approved", "offered")
            or wish.volunteer_id is not None
        ):
            return None
        read_round = wish.offer_round
        grid_map = await load_grids(session)
        building = await session.scalar(
            select(Resident.building).where(Resident.user_id == wish.resident_id)
        )
        asked = set(
            (
                await session.scalars(select(Offer.volunteer_id).where(Offer.wish_id == wish_id))
            ).all()
        )
        chosen: list[Ranked] = []
        round_no = read_round
        while not chosen:
            round_no += 1
            area = _round_area(
                wish,
                round_no,
                settings.matching.grid_rounds,
                grid_map.grid_codes,
                grid_map.neighbours,
                grid_map.grid_community,
            )
            if area is None:
                break
            ctx = await build_pool(
                session, settings, app.now(), grids=area.tolist(), grid_map=grid_map
            )
            query = wish_query(
                app, wish, building or "", grid_map.grid_community.get(wish.grid_id, -1), asked
            )
            chosen = rank(
                ctx.pool,
                query,
                engine_weights(settings),
                settings.matching.offer_k,
                allowed_grids=area,
            )
        grid = await session.get(Grid, wish.grid_id)
        group_chat = grid.group_chat_id if grid is not None else None
        staff = [] if chosen else await staff_for_grid(session, wish.grid_id)
        await session.commit()  # end the read transaction before taking the write lock

        now = app.now()
        await begin_write(session)
        taken = await session.execute(
            update(Wish)
            .where(
                Wish.id == wish_id,
                Wish.offer_round == read_round,
                Wish.status.in_(("approved", "offered")),
                Wish.volunteer_id.is_(None),
            )
            .values(offer_round=round_no, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return None  # claimed, cancelled or moved on meanwhile
        wish = await session.get(Wish, wish_id, populate_existing=True)
        assert wish is not None
        first_offer = wish.status == "approved"
        offers: list[Offer] = []
        if chosen:
            if wish.status == "approved":
                wish_states.move(
                    session,
                    wish,
                    "offered",
                    actor_id=actor_id,
                    at=now,
                    note=history_note("offer_round", round=round_no),
                )
            else:
                wish_states.note(
                    session,
                    wish,
                    history_note("offer_round", round=round_no),
                    actor_id=actor_id,
                    at=now,
                )
            offers = [
                Offer(
                    wish_id=wish_id,
                    volunteer_id=r.volunteer_id,
                    round=round_no,
                    score=r.score,
                    breakdown=r.breakdown,
                    status="sent",
                    created_at=now,
                )
                for r in chosen
            ]
            session.add_all(offers)
            schedule(
                session,
                kind="offer.round_timeout",
                key=f"wish:{wish_id}:round:{round_no}",
                due_at=now + timedelta(minutes=round_minutes(app, wish)),
                payload={"wish_id": wish_id, "round": round_no},
            )
        else:
            wish_states.note(session, wish, history_note("no_volunteer"), actor_id=actor_id, at=now)
        await session.commit()
        offer_ids = [(o.id, o.volunteer_id) for o in offers]

    refs: list[tuple[int, SentRef]] = []
    for offer_id, volunteer_id in offer_ids:
        ref = await app.notifier.notify(volunteer_id, Notice("offer.card", {"offer_id": offer_id}))
        if ref is not None:
            refs.append((offer_id, ref))
    await _store_refs(app, refs)
    if first_offer and chosen and group_chat:
        await post_to_group(app, wish_id, group_chat)
    for staff_id in staff:
        await app.notifier.notify(staff_id, Notice("staff.no_taker", {"id": wish_id}))
    log.info("wish %s round %s offered to %s", wish_id, round_no, [v for _, v in offer_ids])
    return RoundResult(wish_id, round_no, [v for _, v in offer_ids], exhausted=not chosen)


async def _store_refs(app: AppContext, refs: list[tuple[int, SentRef]]) -> None:
    """Where each offer card landed (to edit it later), in one write transaction."""
    if not refs:
        return
    async with app.sessions() as session:
        await begin_write(session)
        for offer_id, ref in refs:
            await session.execute(
                update(Offer)
                .where(Offer.id == offer_id)
                .values(chat_id=ref.chat_id, message_id=ref.message_id)
            )
        await session.commit()


async def post_to_group(app: AppContext, wish_id: int, chat_id: int) -> None:
    """The grid's group chat (联络群) gets the wish, without personal data, with a Claim button."""
    ref = await app.notifier.notify_chat(chat_id, Notice("group.wish_post", {"id": wish_id}))
    if ref is None:
        return
    async with app.sessions() as session:
        await begin_write(session)
        await session.execute(
            update(Wish)
            .where(Wish.id == wish_id)
            .values(group_chat_id=ref.chat_id, group_message_id=ref.message_id)
        )
        await session.commit()


async def refresh_group_post(app: AppContext, wish_id: int) -> None:
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or wish.group_chat_id is None or wish.group_message_id is None:
            return
        ref = SentRef(wish.group_chat_id, wish.group_message_id)
    await app.notifier.edit(ref, Notice("group.wish_post", {"id": wish_id}))


@transactional
async def decline(
    app: AppContext, session: AsyncSession, wish_id: int, user_id: int, reason: str
) -> bool:
    """Record a decline (its reason feeds the engine). True if the round is now empty."""
    if reason not in DECLINE_REASONS:
        raise UserError("errors.stale_button")
    await begin_write(session)
    now = app.now()
    result = await session.execute(
        update(Offer)
        .where(Offer.wish_id == wish_id, Offer.volunteer_id == user_id, Offer.status == "sent")
        .values(status="declined", decline_reason=reason, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise UserError("offer.no_longer_open", id=wish_id)
    open_left = await session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(Offer.wish_id == wish_id, Offer.status == "sent")
    )
    audit.record(session, user_id, "offer.decline", "wish", wish_id, reason=reason)
    await session.commit()
    if not open_left:
        await next_round(app, wish_id)
        return True
    return False


@transactional
async def pause_week(app: AppContext, session: AsyncSession, user_id: int) -> datetime:
    await begin_write(session)
    until = app.now() + timedelta(days=PAUSE_DAYS)
    await session.execute(
        update(Volunteer).where(Volunteer.user_id == user_id).values(paused_until=until)
    )
    audit.record(session, user_id, "volunteer.pause", "user", user_id)
    await session.commit()
    return until


@transactional
async def resume_offers(app: AppContext, session: AsyncSession, user_id: int) -> None:
    await begin_write(session)
    await session.execute(
        update(Volunteer).where(Volunteer.user_id == user_id).values(paused_until=None)
    )
    await session.commit()


@timer_handler("offer.round_timeout")
async def _round_timed_out(app: AppContext, payload: dict[str, object], due_at: datetime) -> None:
    wish_id, round_no = int(payload["wish_id"]), int(payload["round"])  # type: ignore[call-overload]
    async with app.sessions() as session:
        await begin_write(session)
        wish = await session.get(Wish, wish_id)
        if wish is None or wish.status != "offered" or wish.offer_round != round_no:
            return  # claimed, cancelled or already moved on
        await session.execute(
            update(Offer)
            .where(Offer.wish_id == wish_id, Offer.round == round_no, Offer.status == "sent")
            .values(status="expired")
        )
        await session.commit()
    await next_round(app, wish_id)
