"""The points ledger (积分): awards by rule and cap, balances, periods, points for a task.

Every point is a row of ``ledger_entries`` pointing at its source; the balance is the sum of a
person's rows. Rows are only ever inserted. The unique key (user, source_type, source_id, kind)
makes each award or charge happen once; ``INSERT ... ON CONFLICT DO NOTHING`` lets a retry or a
racing worker find out without an error. Whoever reads a balance to decide a write first locks
the person's ``users`` row (``lock_account``), so caps and "no negative balance" hold under
concurrency on PostgreSQL; on SQLite a write transaction (BEGIN IMMEDIATE) is already alone.

Reasons are stored in the community's default language: the ledger is a record that staff,
reports and CSV files read as written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, and_, exists, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User, Wish
from bot.db.models.points import (
    KIND_ADJUST,
    KIND_AWARD,
    KINDS,
    LedgerEntry,
)
from bot.db.tx import begin_write
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.notices import Notice

log = logging.getLogger(__name__)

Period = Literal["day", "week", "month", "quarter", "year"]
Scope = Literal["grid", "community", "all"]
BOARD_PERIODS: tuple[Period, ...] = ("month", "quarter", "year")
BOARD_SCOPES: tuple[Scope, ...] = ("grid", "community", "all")

# Sources that count as one service (for leaderboard ties and the "first of the year" bonus).
SERVICE_SOURCES = ("wish", "event", "declaration")
# "Verified points" (leaderboards, period totals): what was earned, not reduced by spending.
EARNING_KINDS = (KIND_AWARD, KIND_ADJUST)
ADJUST_MAX = 1000
REASON_MAX = 200
LATEST_ENTRIES = 10


# --- the ledger itself ----------------------------------------------------------------------


def record_language(app: AppContext) -> Translator:
    """The language ledger reasons are written in."""
    return Translator(app.settings.community.default_language)


async def lock_account(session: AsyncSession, user_id: int) -> None:
    """Serialise balance-deciding writes for one person (PostgreSQL row lock on users).

    FOR NO KEY UPDATE, not FOR UPDATE: inserting rows that reference the user (ledger,
    redemptions) takes a KEY SHARE lock, which must not wait on this one.
    """
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def balance(session: AsyncSession, user_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.user_id == user_id)
    )
    return int(total or 0)


async def entry_exists(
    session: AsyncSession, user_id: int, source_type: str, source_id: str, kind: str
) -> bool:
    found = await session.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.source_type == source_type,
            LedgerEntry.source_id == source_id,
            LedgerEntry.kind == kind,
        )
    )
    return found is not None


async def insert_entry(
    app: AppContext,
    session: AsyncSession,
    *,
    user_id: int,
    amount: int,
    kind: str,
    reason: str,
    source_type: str,
    source_id: str,
    category: str | None = None,
    approved_by: int | None = None,
) -> LedgerEntry | None:
    """Append one row; None (and nothing written) if that (user, source, kind) exists."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    values: dict[str, Any] = {
        "user_id": user_id,
        "amount": amount,
        "kind": kind,
        "reason": reason,
        "category": category,
        "source_type": source_type,
        "source_id": source_id,
        "approved_by": approved_by,
        "created_at": app.now(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(LedgerEntry)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "source_type", "source_id", "kind"])
        .returning(LedgerEntry.id)
    )
    new_id = await session.scalar(stmt)
    if new_id is None:
        return None
    return await session.get(LedgerEntry, new_id)


async def award(
    app: AppContext,
    session: AsyncSession,
    *,
    user_id: int,
    amount: int,
    reason: str,
    source_type: str,
    source_id: str,
    approved_by: int | None = None,
    category: str | None = None,
    kind: str = "award",
) -> LedgerEntry | None:
    """Credit (or debit) points once per (user, source, kind); does not commit.

    Call it inside a write transaction (``bot.db.tx.begin_write``); if the session has none,
    one is started. Awards (kind "award") are trimmed by the daily and weekly caps and the
    reason says so; a fully capped award is still written (0 points) so it is never retried.
    Returns None, changing nothing, when that entry already exists.
    """
    if not session.in_transaction():
        await begin_write(session)
    await lock_account(session, user_id)
    if await entry_exists(session, user_id, source_type, source_id, kind):
        return None
    if kind == KIND_AWARD and amount > 0:
        amount, reason = await _apply_caps(app, session, user_id, amount, reason)
    return await insert_entry(
        app,
        session,
        user_id=user_id,
        amount=amount,
        kind=kind,
        reason=reason,
        source_type=source_type,
        source_id=source_id,
        category=category,
        approved_by=approved_by,
    )


async def _apply_caps(
    app: AppContext, session: AsyncSession, user_id: int, amount: int, reason: str
) -> tuple[int, str]:
    cfg = app.settings.points
    t = record_language(app)
    now = app.now()
    caps: tuple[tuple[Period, int, str], ...] = (
        ("day", cfg.cap_per_day, "points.reason.capped_day"),
        ("week", cfg.cap_per_week, "points.reason.capped_week"),
    )
    for period, cap, key in caps:
        if cap <= 0:
            continue
        start, end = period_bounds(app, now, period)
        already = await sum_points(
            session, user_id, start, end, kinds=(KIND_AWARD,), positive_only=True
        )
        room = max(0, cap - already)
        if amount > room:
            reason = f"{reason}；{t(key, cap=cap, amount=room)}"
            amount = room
    return amount, reason


async def sum_points(
    session: AsyncSession,
    user_id: int,
    start: datetime | None,
    end: datetime | None,
    *,
    kinds: Sequence[str],
    positive_only: bool = False,
) -> int:
    conditions = [LedgerEntry.user_id == user_id, LedgerEntry.kind.in_(kinds)]
    if start is not None:
        conditions.append(LedgerEntry.created_at >= start)
    if end is not None:
        conditions.append(LedgerEntry.created_at < end)
    if positive_only:
        conditions.append(LedgerEntry.amount > 0)
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(*conditions)
    )
    return int(total or 0)


# --- periods in the community's timezone --------------------------------------------------


def period_bounds(app: AppContext, at: datetime, period: Period) -> tuple[datetime, datetime]:
    """[start, end) of the day / week / month / quarter / year containing ``at``, local time."""
    local = at.astimezone(app.settings.tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        return start, _add_months(start, 1)
    if period == "quarter":
        start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return start, _add_months(start, 3)
    start = day.replace(month=1, day=1)
    return start, start.replace(year=start.year + 1)


def _add_months(start: datetime, months: int) -> datetime:
    index = start.month - 1 + months
    return start.replace(year=start.year + index // 12, month=index % 12 + 1)


# --- points for a task -----------------------------------------------------------------------


def wish_is_awardable(wish: Wish) -> bool:
    if wish.volunteer_id is None:
        return False
    return wish.status == "verified" or (wish.status == "closed" and wish.rating is not None)


def wish_points(app: AppContext, wish: Wish, *, first_of_year: bool) -> tuple[int, str]:
    """Category × difficulty plus bonuses, and the reason saying how it adds up."""
    t = record_language(app)
    cfg = app.settings.points
    category = app.settings.categories.get(wish.category)
    difficulty = wish.difficulty if wish.difficulty in ("easy", "normal", "hard") else "normal"
    base = category.points.get(difficulty, 0) if category else 0  # type: ignore[call-overload]
    parts = [
        t(
            "points.reason.wish",
            id=wish.id,
            category=category.name(t.lang) if category else wish.category,
            difficulty=t(f"difficulty.{difficulty}"),
            points=base,
        )
    ]
    amount = base
    for on, bonus, key in (
        (wish.urgent, cfg.bonus_urgent, "points.reason.bonus_urgent"),
        (wish.rating == 5, cfg.bonus_five_star, "points.reason.bonus_five_star"),
        (first_of_year, cfg.bonus_first_of_year, "points.reason.bonus_first_of_year"),
    ):
        if on and bonus > 0:
            amount += bonus
            parts.append(t(key, points=bonus))
    return amount, "；".join(parts)


async def award_for_wish(
    app: AppContext, session: AsyncSession, wish_id: int
) -> LedgerEntry | None:
    """Award a verified (or rated and closed) task to its volunteer, once. Commits, then tells
    the volunteer. None if the wish is not awardable or was awarded already."""
    await begin_write(session)
    wish = await session.get(Wish, wish_id, populate_existing=True)
    # Ending with commit, not rollback: nothing was written, and a rollback would expire the
    # caller's loaded objects (this may be the caller's session).
    if wish is None or not wish_is_awardable(wish):
        await session.commit()
        return None
    volunteer_id = wish.volunteer_id
    assert volunteer_id is not None
    await lock_account(session, volunteer_id)
    if await entry_exists(session, volunteer_id, "wish", str(wish.id), KIND_AWARD):
        await session.commit()
        return None
    year_start, year_end = period_bounds(app, app.now(), "year")
    first_of_year = not await _has_service(session, volunteer_id, year_start, year_end)
    amount, reason = wish_points(app, wish, first_of_year=first_of_year)
    entry = await award(
        app,
        session,
        user_id=volunteer_id,
        amount=amount,
        reason=reason,
        source_type="wish",
        source_id=str(wish.id),
        category=wish.category,
    )
    await session.commit()
    if entry is not None:
        log.info("points: wish=%s user=%s +%s", wish.id, volunteer_id, entry.amount)
        await notify_award(app, session, entry)
    return entry


async def _has_service(session: AsyncSession, user_id: int, start: datetime, end: datetime) -> bool:
    found = await session.scalar(
        select(LedgerEntry.id)
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.kind == KIND_AWARD,
            LedgerEntry.source_type.in_(SERVICE_SOURCES),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .limit(1)
    )
    return found is not None


async def notify_award(app: AppContext, session: AsyncSession, entry: LedgerEntry) -> None:
    total = await balance(session, entry.user_id)
    await session.commit()  # end the read transaction before the (slow) network call
    await app.notifier.notify(
        entry.user_id,
        Notice(
            "points.awarded",
            {"amount": entry.amount, "reason": entry.reason, "balance": total},
        ),
    )


async def award_missing(app: AppContext) -> int:
    """Safety net (scheduled): award every awardable task that has no award yet."""
    missing = (
        select(LedgerEntry.id)
        .where(
            LedgerEntry.user_id == Wish.volunteer_id,
            LedgerEntry.source_type == "wish",
            LedgerEntry.source_id == sql_cast(Wish.id, String),
            LedgerEntry.kind == KIND_AWARD,
        )
        .correlate(Wish)
    )
    async with app.sessions() as session:
        wish_ids = list(
            (
                await session.scalars(
                    select(Wish.id)
                    .where(
                        Wish.volunteer_id.is_not(None),
                        or_(
                            Wish.status == "verified",
                            and_(Wish.status == "closed", Wish.rating.is_not(None)),
                        ),
                        ~exists(missing),
                    )
                    .order_by(Wish.id)
                )
            ).all()
        )
    awarded = 0
    for wish_id in wish_ids:
        async with app.sessions() as session:
            try:
                if await award_for_wish(app, session, wish_id) is not None:
                    awarded += 1
            except Exception:  # one bad wish must not stop the others; it is logged with its id
                log.exception("points: award_missing failed for wish=%s", wish_id)
    if awarded:
        log.info("points: award_missing awarded %d task(s)", awarded)
    return awarded
