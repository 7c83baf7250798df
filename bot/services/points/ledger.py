"""The points ledger (积分): awards by rule and cap, adjustments, balances, passbook,
statements, leaderboards and expiry.

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

import csv
import io
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, and_, case, exists, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, User, Volunteer, Wish
from bot.db.models.points import (
    KIND_ADJUST,
    KIND_AWARD,
    KIND_EXPIRE,
    KINDS,
    REDEMPTION_HELD,
    LedgerEntry,
    Redemption,
)
from bot.db.tx import begin_write
from bot.delivery import outbox
from bot.i18n import Translator
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
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
        already = await _sum(session, user_id, start, end, kinds=(KIND_AWARD,), positive_only=True)
        room = max(0, cap - already)
        if amount > room:
            reason = f"{reason}；{t(key, cap=cap, amount=room)}"
            amount = room
    return amount, reason


async def _sum(
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


# --- staff adjustments -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolunteerPick:
    user_id: int
    name: str
    grid_name: str
    balance: int


async def find_volunteers(
    session: AsyncSession, staff_user_id: int, query: str, limit: int = 8
) -> list[VolunteerPick]:
    """Volunteers whose name contains ``query`` (grid staff: in their grid only)."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    needle = " ".join(query.split())
    if not needle:
        return []
    stmt = (
        select(Volunteer.user_id, Volunteer.name, Grid.name)
        .join(Grid, Grid.id == Volunteer.grid_id)
        .where(Volunteer.name.contains(needle, autoescape=True), Volunteer.status == "approved")
        .order_by(Volunteer.name, Volunteer.user_id)
        .limit(limit)
    )
    if staff.scope == "grid":
        stmt = stmt.where(Volunteer.grid_id == staff.grid_id)
    rows = (await session.execute(stmt)).all()
    return [
        VolunteerPick(uid, name, grid_name, await balance(session, uid))
        for uid, name, grid_name in rows
    ]


async def volunteer_pick(session: AsyncSession, staff_user_id: int, user_id: int) -> VolunteerPick:
    """One volunteer a staff member may adjust, with their balance."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None:
        raise UserError("points.no_such_volunteer")
    if staff.scope == "grid" and volunteer.grid_id != staff.grid_id:
        raise UserError("points.not_your_grid")
    grid = await session.get(Grid, volunteer.grid_id)
    return VolunteerPick(
        user_id, volunteer.name, grid.name if grid else "", await balance(session, user_id)
    )


def new_request_id() -> str:
    """Names one adjustment form: pressing "confirm" twice still adjusts once."""
    return secrets.token_hex(6)


def clean_reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason or len(reason) > REASON_MAX or reason.startswith("/"):
        raise UserError("points.reason_invalid", max=REASON_MAX)
    return reason


def parse_adjust_amount(text: str) -> int:
    cleaned = text.strip().replace("＋", "+").replace("－", "-").replace(" ", "")
    try:
        amount = int(cleaned)
    except ValueError:
        raise UserError("points.adjust_amount_invalid", max=ADJUST_MAX) from None
    if amount == 0 or abs(amount) > ADJUST_MAX:
        raise UserError("points.adjust_amount_invalid", max=ADJUST_MAX)
    return amount


async def adjust(
    app: AppContext,
    session: AsyncSession,
    *,
    staff_user_id: int,
    user_id: int,
    amount: int,
    reason: str,
    request_id: str,
) -> LedgerEntry | None:
    """A staff correction (±), audited; never takes a balance below zero. Commits, notifies.
    None if this request was already applied."""
    reason = clean_reason(reason)
    if amount == 0 or abs(amount) > ADJUST_MAX:
        raise UserError("points.adjust_amount_invalid", max=ADJUST_MAX)
    await begin_write(session)
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None:
        raise UserError("points.no_such_volunteer")
    if staff.scope == "grid" and volunteer.grid_id != staff.grid_id:
        raise UserError("points.not_your_grid")
    await lock_account(session, user_id)
    current = await balance(session, user_id)
    if current + amount < 0:
        await session.rollback()
        raise UserError("points.adjust_below_zero", balance=current)
    entry = await award(
        app,
        session,
        user_id=user_id,
        amount=amount,
        reason=reason,
        source_type="adjustment",
        source_id=f"{staff_user_id}:{request_id}",
        approved_by=staff_user_id,
        kind=KIND_ADJUST,
    )
    if entry is None:
        await session.rollback()
        return None
    audit.record(
        session, staff_user_id, "points.adjust", "user", user_id, amount=amount, reason=reason
    )
    await session.commit()
    await app.notifier.notify(
        user_id,
        Notice(
            "points.adjusted",
            {"amount": f"{amount:+d}", "reason": reason, "balance": current + amount},
        ),
    )
    return entry


# --- passbook and statements -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryView:
    at: datetime
    kind: str
    amount: int
    reason: str
    source_type: str
    source_id: str


@dataclass(frozen=True, slots=True)
class Passbook:
    balance: int
    held: int  # points held by redemptions not yet handed over (already out of the balance)
    month: int  # verified points earned this month / quarter / year (community timezone)
    quarter: int
    year: int
    services_year: int
    latest: list[EntryView]
    public_board: bool


def _view(entry: LedgerEntry) -> EntryView:
    return EntryView(
        entry.created_at, entry.kind, entry.amount, entry.reason, entry.source_type, entry.source_id
    )


async def passbook(app: AppContext, session: AsyncSession, user_id: int) -> Passbook:
    now = app.now()
    earned: dict[str, int] = {}
    for period in BOARD_PERIODS:
        start, end = period_bounds(app, now, period)
        earned[period] = await _sum(session, user_id, start, end, kinds=EARNING_KINDS)
    year_start, year_end = period_bounds(app, now, "year")
    services = await session.scalar(
        select(func.count(LedgerEntry.id)).where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.kind == KIND_AWARD,
            LedgerEntry.source_type.in_(SERVICE_SOURCES),
            LedgerEntry.created_at >= year_start,
            LedgerEntry.created_at < year_end,
        )
    )
    held = await session.scalar(
        select(func.coalesce(func.sum(Redemption.price), 0)).where(
            Redemption.user_id == user_id, Redemption.status == REDEMPTION_HELD
        )
    )
    latest = (
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.user_id == user_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            .limit(LATEST_ENTRIES)
        )
    ).all()
    volunteer = await session.get(Volunteer, user_id)
    return Passbook(
        balance=await balance(session, user_id),
        held=int(held or 0),
        month=earned["month"],
        quarter=earned["quarter"],
        year=earned["year"],
        services_year=int(services or 0),
        latest=[_view(e) for e in latest],
        public_board=volunteer.public_board if volunteer is not None else True,
    )


@dataclass(frozen=True, slots=True)
class StatementRow:
    entry: EntryView
    balance_after: int


async def statement(session: AsyncSession, user_id: int) -> list[StatementRow]:
    """Every entry, oldest first, with the running balance."""
    entries = (
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.user_id == user_id)
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
    ).all()
    running = 0
    rows = []
    for entry in entries:
        running += entry.amount
        rows.append(StatementRow(_view(entry), running))
    return rows


def statement_csv(app: AppContext, rows: Sequence[StatementRow], t: Translator) -> bytes:
    """The statement as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            t("points.csv.time"),
            t("points.csv.kind"),
            t("points.csv.amount"),
            t("points.csv.balance"),
            t("points.csv.reason"),
            t("points.csv.source"),
        ]
    )
    tz = app.settings.tz
    for row in rows:
        e = row.entry
        writer.writerow(
            [
                e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                t(f"points.kind.{e.kind}"),
                f"{e.amount:+d}",
                row.balance_after,
                e.reason,
                f"{e.source_type}:{e.source_id}",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def set_public_board(session: AsyncSession, user_id: int, public: bool) -> bool:
    """Show (or hide, anonymised) a volunteer on public leaderboards. Returns the new value."""
    await begin_write(session)
    volunteer = await session.get(Volunteer, user_id, populate_existing=True)
    if volunteer is None:
        raise UserError("points.volunteers_only")
    volunteer.public_board = public
    audit.record(session, user_id, "points.public_board", "user", user_id, public=public)
    await session.commit()
    return public


async def monthly_statements(app: AppContext, month: date) -> int:
    """Send each volunteer with activity that month, or points left, a short statement.
    ``month`` is any day of the month to report (the lead schedules it early next month)."""
    at = datetime(month.year, month.month, 1, 12, tzinfo=app.settings.tz)
    start, end = period_bounds(app, at, "month")
    earned = func.sum(
        case(
            (
                and_(
                    LedgerEntry.kind.in_(EARNING_KINDS),
                    LedgerEntry.created_at >= start,
                    LedgerEntry.created_at < end,
                ),
                LedgerEntry.amount,
            ),
            else_=0,
        )
    )
    spent = func.sum(
        case(
            (
                and_(
                    LedgerEntry.kind == "spend",
                    LedgerEntry.created_at >= start,
                    LedgerEntry.created_at < end,
                ),
                -LedgerEntry.amount,
            ),
            else_=0,
        )
    )
    active = func.sum(
        case((and_(LedgerEntry.created_at >= start, LedgerEntry.created_at < end), 1), else_=0)
    )
    closing = func.sum(case((LedgerEntry.created_at < end, LedgerEntry.amount), else_=0))
    async with app.sessions() as session:
        rows = (
            await session.execute(
                select(LedgerEntry.user_id, earned, spent, active, closing)
                .join(Volunteer, Volunteer.user_id == LedgerEntry.user_id)
                .group_by(LedgerEntry.user_id)
                .order_by(LedgerEntry.user_id)
            )
        ).all()
    # Bulk: through the outbox at Telegram's pace; one batch per month, so a re-run (or a
    # second process) adds nobody twice.
    queued = 0
    async with app.sessions() as session:
        await begin_write(session)
        for user_id, got, used, moves, left in rows:
            if not moves and not left:
                continue
            notice = Notice(
                "points.monthly_statement",
                {
                    "year": start.year,
                    "month": start.month,
                    "earned": int(got or 0),
                    "spent": int(used or 0),
                    "balance": int(left or 0),
                },
            )
            queued += await outbox.enqueue(
                session, notice=notice, user_ids=[user_id], batch_key=f"stmt:{start:%Y-%m}"
            )
        await session.commit()
    return queued


# --- leaderboards ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardRow:
    place: int
    user_id: int
    name: str | None  # None: the volunteer opted out and this is someone else's view
    points: int
    services: int
    is_viewer: bool


@dataclass(frozen=True, slots=True)
class Board:
    scope: Scope
    period: Period
    scope_name: str  # the grid's or community's name; "" for all
    start: date  # first day of the period, local
    rows: list[BoardRow]  # the top of the board
    me: BoardRow | None  # the viewer's own row (also when below the top), None if unranked
    total: int  # how many are ranked
    viewer_public: bool  # False: the viewer opted out (others see them anonymised)


async def _viewer(session: AsyncSession, user_id: int) -> tuple[Grid | None, bool]:
    """The viewer's grid (as a volunteer, else as grid staff) and their public-board flag."""
    volunteer = await session.get(Volunteer, user_id, populate_existing=True)
    grid_id = volunteer.grid_id if volunteer is not None else None
    if grid_id is None:
        staff = await session.get(Staff, user_id)
        grid_id = staff.grid_id if staff is not None else None
    grid = await session.get(Grid, grid_id) if grid_id is not None else None
    return grid, volunteer.public_board if volunteer is not None else True


async def leaderboard(
    app: AppContext,
    session: AsyncSession,
    *,
    viewer_id: int,
    scope: str,
    period: str,
    top: int = 10,
) -> Board:
    """Ranked by verified points in the period, ties by number of services; equal on both
    share a place. Opted-out volunteers are anonymised except in their own view.
    ``scope`` is one of BOARD_SCOPES, ``period`` one of BOARD_PERIODS (from a button)."""
    if scope not in BOARD_SCOPES or period not in BOARD_PERIODS:
        raise UserError("errors.stale_button")
    start, end = period_bounds(app, app.now(), period)
    grid, viewer_public = await _viewer(session, viewer_id)
    community = grid.community if grid is not None else app.settings.community.name
    # Community-wide staff have no grid of their own: their "grid" board is the community's.
    board_scope: Scope = "community" if scope == "grid" and grid is None else scope
    points = func.sum(case((LedgerEntry.kind.in_(EARNING_KINDS), LedgerEntry.amount), else_=0))
    services = func.sum(
        case(
            (
                and_(
                    LedgerEntry.kind == KIND_AWARD,
                    LedgerEntry.source_type.in_(SERVICE_SOURCES),
                ),
                1,
            ),
            else_=0,
        )
    )
    stmt = (
        select(Volunteer.user_id, Volunteer.name, Volunteer.public_board, points, services)
        .join(LedgerEntry, LedgerEntry.user_id == Volunteer.user_id)
        .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(Volunteer.user_id, Volunteer.name, Volunteer.public_board)
    )
    scope_name = ""
    if board_scope == "grid":
        assert grid is not None
        stmt = stmt.where(Volunteer.grid_id == grid.id)
        scope_name = grid.name
    elif board_scope == "community":
        stmt = stmt.join(Grid, Grid.id == Volunteer.grid_id).where(Grid.community == community)
        scope_name = community
    raw = [
        (uid, name, public, int(p or 0), int(s or 0))
        for uid, name, public, p, s in (await session.execute(stmt)).all()
    ]
    raw = [r for r in raw if r[3] > 0 or r[4] > 0]
    raw.sort(key=lambda r: (-r[3], -r[4], r[0]))
    ranked: list[BoardRow] = []
    for index, (uid, name, public, p, s) in enumerate(raw):
        same_as_previous = ranked and (ranked[-1].points, ranked[-1].services) == (p, s)
        place = ranked[-1].place if same_as_previous else index + 1
        mine = uid == viewer_id
        visible = name if (public or mine) else None
        ranked.append(BoardRow(place, uid, visible, p, s, mine))
    me = next((row for row in ranked if row.is_viewer), None)
    return Board(
        scope=board_scope,
        period=period,
        scope_name=scope_name,
        start=start.date(),
        rows=ranked[:top],
        me=me,
        total=len(ranked),
        viewer_public=viewer_public,
    )


# --- expiry (points.expiry = "end_of_next_year") ----------------------------------------------


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
