"""Points expiry (points.expiry = "end_of_next_year"): reminders, then the expiry entries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.points import (
    KIND_EXPIRE,
    LedgerEntry,
)
from bot.db.tx import begin_write
from bot.services.context import AppContext
from bot.services.notices import Notice
from bot.services.points.ledger import (
    EARNING_KINDS,
    insert_entry,
    lock_account,
    period_bounds,
    record_language,
)

log = logging.getLogger(__name__)


async def _expiring(session: AsyncSession, user_id: int, earned_before: datetime) -> int:
    """Points earned before the cut that are still unspent, oldest spent first (FIFO).

    Everything that is not earning (spends, holds net of releases, earlier expiries, negative
    adjustments) consumes the oldest points first, so what remains of the old ones is
    earned_before_cut - consumed, never more than the balance.
    """
    old = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.kind.in_(EARNING_KINDS),
            LedgerEntry.amount > 0,
            LedgerEntry.created_at < earned_before,
        )
    )
    consumed = await session.scalar(
        select(func.coalesce(-func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.user_id == user_id,
            or_(~LedgerEntry.kind.in_(EARNING_KINDS), LedgerEntry.amount < 0),
        )
    )
    return max(0, int(old or 0) - int(consumed or 0))


async def _users_with_points(session: AsyncSession) -> list[int]:
    return list(
        (
            await session.scalars(
                select(LedgerEntry.user_id)
                .group_by(LedgerEntry.user_id)
                .having(func.sum(LedgerEntry.amount) > 0)
                .order_by(LedgerEntry.user_id)
            )
        ).all()
    )


async def expire_points(app: AppContext, now: datetime) -> int:
    """Yearly (early January): points earned two calendar years ago or earlier and still
    unspent lapse. Idempotent per year. Returns the number of people whose points lapsed."""
    if app.settings.points.expiry != "end_of_next_year":
        return 0
    year_start, _ = period_bounds(app, now, "year")
    cut = year_start.replace(year=year_start.year - 1)  # earned before last year began
    lapsed_year = cut.year - 1
    t = record_language(app)
    async with app.sessions() as session:
        user_ids = await _users_with_points(session)
    expired = 0
    for user_id in user_ids:
        async with app.sessions() as session:
            await begin_write(session)
            await lock_account(session, user_id)
            amount = await _expiring(session, user_id, cut)
            if amount <= 0:
                await session.rollback()
                continue
            entry = await insert_entry(
                app,
                session,
                user_id=user_id,
                amount=-amount,
                kind=KIND_EXPIRE,
                reason=t("points.reason.expired", year=lapsed_year),
                source_type="expiry",
                source_id=str(lapsed_year),
            )
            await session.commit()
            if entry is not None:
                expired += 1
                await app.notifier.notify(
                    user_id, Notice("points.expired", {"amount": amount, "year": lapsed_year})
                )
    return expired


async def remind_expiry(app: AppContext, now: datetime) -> int:
    """A month before the year ends: tell people how many points lapse on 31 December."""
    if app.settings.points.expiry != "end_of_next_year":
        return 0
    year_start, year_end = period_bounds(app, now, "year")
    cut = year_start  # earned before this year began: lapses when this year ends
    last_day = (year_end - timedelta(days=1)).date()
    reminded = 0
    async with app.sessions() as session:
        user_ids = await _users_with_points(session)
        due = [(uid, await _expiring(session, uid, cut)) for uid in user_ids]
    for user_id, amount in due:
        if amount <= 0:
            continue
        notice = Notice("points.expiry_reminder", {"amount": amount, "date": last_day.isoformat()})
        if await app.notifier.notify(user_id, notice) is not None:
            reminded += 1
    return reminded
