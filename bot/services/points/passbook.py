"""Points expiry (points.expiry = "end_of_next_year"): reminders, then the expiry entries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Volunteer
from bot.db.models.points import (
    KIND_AWARD,
    REDEMPTION_HELD,
    LedgerEntry,
    Redemption,
)
from bot.db.tx import begin_write
from bot.delivery import outbox
from bot.i18n import Translator
from bot.services import audit, exports
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.points.ledger import (
    BOARD_PERIODS,
    EARNING_KINDS,
    LATEST_ENTRIES,
    SERVICE_SOURCES,
    balance,
    period_bounds,
    sum_points,
)

log = logging.getLogger(__name__)


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
        earned[period] = await sum_points(session, user_id, start, end, kinds=EARNING_KINDS)
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
    header = [
        t("points.csv.time"),
        t("points.csv.kind"),
        t("points.csv.amount"),
        t("points.csv.balance"),
        t("points.csv.reason"),
        t("points.csv.source"),
    ]
    tz = app.settings.tz
    lines: list[list[exports.Cell]] = [
        [
            row.entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            t(f"points.kind.{row.entry.kind}"),
            f"{row.entry.amount:+d}",
            row.balance_after,
            row.entry.reason,
            f"{row.entry.source_type}:{row.entry.source_id}",
        ]
        for row in rows
    ]
    return exports.csv_bytes(header, lines)


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
