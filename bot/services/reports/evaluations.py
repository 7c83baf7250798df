"""Quarterly evaluation (每季一评), annual awards (每年一奖) and the yearly duty reminder.

Definitions (shared with the rates in bot/services/roster.py):
- a *service* is a completed task — a wish a volunteer served that reached confirmed, verified
  or closed — counted when it was closed (or, for confirmed/verified wishes, which have no
  closed_at yet, when it was done); plus every award for an event, a declaration (党员申报),
  a patrol shift (治安巡查) or a month on a standing post (认领岗位);
- *points* are the award and adjust entries of the ledger (spending does not lower them);
- the *rating* is the mean of the residents' ratings of the services counted;
- the *response time* is the median time from a wish being opened to volunteers (its first
  "approved" or "offered" event) to the volunteer's claim, for claims in the period.
Periods are calendar periods in the community's timezone.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Volunteer, Wish, WishEvent
from bot.db.models.points import LedgerEntry
from bot.db.models.roster import DutyReminder
from bot.db.tx import begin_write
from bot.delivery import outbox
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.people.helpers import KIND_MEMBER

COMPLETED = ("confirmed", "verified", "closed")
OPENED_TO_VOLUNTEERS = ("approved", "offered")
POINT_KINDS = ("award", "adjust")
SERVICE_SOURCES = ("event", "declaration", "patrol", "post")  # awards that are services themselves

# Config keys proposed for a [reports] section (read with these defaults until it exists).
_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]([1-4])\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


def setting(app: AppContext, key: str) -> int:
    """A number from the [reports] section of the config."""
    return int(getattr(app.settings.reports, key))


# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC; ``label`` is how people write it: 2026Q4, 2026-11, 2026."""

    start: datetime
    end: datetime
    label: str

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _local_start(tz: ZoneInfo, year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=tz)


def month_period(tz: ZoneInfo, year: int, month: int) -> Period:
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return Period(_local_start(tz, year, month), _local_start(tz, *nxt), f"{year}-{month:02d}")


def quarter_period(tz: ZoneInfo, year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    nxt = (year + 1, 1) if quarter == 4 else (year, first + 3)
    return Period(_local_start(tz, year, first), _local_start(tz, *nxt), f"{year}Q{quarter}")


def year_period(tz: ZoneInfo, year: int) -> Period:
    return Period(_local_start(tz, year, 1), _local_start(tz, year + 1, 1), str(year))


def last_complete_quarter(now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    local = now.astimezone(tz)
    quarter = (local.month - 1) // 3 + 1
    return (local.year - 1, 4) if quarter == 1 else (local.year, quarter - 1)


def parse_quarter(text: str | None, now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """'2026Q4', '2026-q4' → (2026, 4); empty → the last complete quarter."""
    if not text or not text.strip():
        return last_complete_quarter(now, tz)
    found = _QUARTER.match(text)
    if found is None:
        raise UserError("reports.quarter_usage")
    year, quarter = int(found[1]), int(found[2])
    if quarter_period(tz, year, quarter).start > now:
        raise UserError("reports.period_future", period=f"{year}Q{quarter}")
    return year, quarter


def parse_year(text: str | None, now: datetime, tz: ZoneInfo) -> int:
    """'2026' → 2026; empty → the last complete year."""
    if not text or not text.strip():
        return now.astimezone(tz).year - 1
    found = _YEAR.match(text)
    if found is None:
        raise UserError("reports.year_usage")
    year = int(found[1])
    if year_period(tz, year).start > now:
        raise UserError("reports.period_future", period=str(year))
    return year


def parse_month(text: str | None, now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """'2026-11', '2026年11月' → (2026, 11); empty → this month."""
    if not text or not text.strip():
        local = now.astimezone(tz)
        return local.year, local.month
    found = _MONTH.match(text)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise UserError("reports.month_usage")
    year, month = int(found[1]), int(found[2])
    if month_period(tz, year, month).start > now:
        raise UserError("reports.period_future", period=f"{year}-{month:02d}")
    return year, month


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    user_id: int
    name: str
    unit: str
    branch: str
    community: str
    grid_code: str
    grid_name: str
    services: int
    points: int
    rating_avg: float | None  # None: nobody rated a service in the period
    ratings: int
    response_hours: float | None  # None: no claim in the period
    rank: int  # within the community: by points, then services (equal figures share a rank)


def _served_at() -> ColumnElement[datetime]:
    return func.coalesce(Wish.closed_at, Wish.done_at)


def _completed_in(period: Period) -> list[ColumnElement[bool]]:
    served_at = _served_at()
    return [
        Wish.volunteer_id.is_not(None),
        Wish.status.in_(COMPLETED),
        served_at >= period.start,
        served_at < period.end,
    ]


async def service_counts(session: AsyncSession, period: Period) -> Counter[int]:
    """Completed services per volunteer (user id) in the period."""
    counts: Counter[int] = Counter()
    wishes = await session.execute(
        select(Wish.volunteer_id, func.count())
        .where(*_completed_in(period))
        .group_by(Wish.volunteer_id)
    )
    for user_id, n in wishes:
        counts[int(user_id)] += int(n)  # type: ignore[arg-type]
    awards = await session.execute(
        select(LedgerEntry.user_id, func.count())
        .where(
            LedgerEntry.kind == "award",
            LedgerEntry.source_type.in_(SERVICE_SOURCES),
            LedgerEntry.created_at >= period.start,
            LedgerEntry.created_at < period.end,
        )
        .group_by(LedgerEntry.user_id)
    )
    for user_id, n in awards:
        counts[int(user_id)] += int(n)
    return counts


async def _points(session: AsyncSession, period: Period) -> dict[int, int]:
    rows = await session.execute(
        select(LedgerEntry.user_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.kind.in_(POINT_KINDS),
            LedgerEntry.created_at >= period.start,
            LedgerEntry.created_at < period.end,
        )
        .group_by(LedgerEntry.user_id)
    )
    return {int(user_id): int(total or 0) for user_id, total in rows}


async def _ratings(session: AsyncSession, period: Period) -> dict[int, tuple[float, int]]:
    rows = await session.execute(
        select(Wish.volunteer_id, func.avg(Wish.rating), func.count())
        .where(*_completed_in(period), Wish.rating.is_not(None))
        .group_by(Wish.volunteer_id)
    )
    return {int(uid): (float(avg), int(n)) for uid, avg, n in rows if uid is not None}


async def _response_hours(session: AsyncSession, period: Period) -> dict[int, float]:
    opened_at = func.min(WishEvent.at)
    rows = await session.execute(
        select(Wish.volunteer_id, Wish.claimed_at, opened_at)
        .join(WishEvent, WishEvent.wish_id == Wish.id)
        .where(
            Wish.volunteer_id.is_not(None),
            Wish.claimed_at >= period.start,
            Wish.claimed_at < period.end,
            WishEvent.to_status.in_(OPENED_TO_VOLUNTEERS),
        )
        .group_by(Wish.id, Wish.volunteer_id, Wish.claimed_at)
    )
    waits: dict[int, list[float]] = {}
    for user_id, claimed_at, opened in rows:
        if user_id is None or claimed_at is None or opened is None:
            continue
        hours = max((claimed_at - opened).total_seconds(), 0.0) / 3600
        waits.setdefault(int(user_id), []).append(hours)
    return {uid: statistics.median(values) for uid, values in waits.items()}


def rank_rows(rows: Iterable[EvaluationRow]) -> list[EvaluationRow]:
    """Rank within each community by points, then services; equal figures share a rank."""
    ordered = sorted(
        rows,
        key=lambda r: (r.community, -r.points, -r.services, -(r.rating_avg or 0), r.name),
    )
    ranked: list[EvaluationRow] = []
    position = 0
    for row in ordered:
        prev = ranked[-1] if ranked else None
        if prev is None or prev.community != row.community:
            position, rank = 1, 1
        else:
            position += 1
            same = (prev.points, prev.services) == (row.points, row.services)
            rank = prev.rank if same else position
        ranked.append(replace(row, rank=rank))
    return ranked


async def evaluate(app: AppContext, session: AsyncSession, period: Period) -> list[EvaluationRow]:
    """Every approved volunteer (and anyone else who served in the period), ranked."""
    services = await service_counts(session, period)
    points = await _points(session, period)
    ratings = await _ratings(session, period)
    response = await _response_hours(session, period)
    active = set(services) | set(points)
    people = await session.execute(
        select(Volunteer, Grid)
        .join(Grid, Grid.id == Volunteer.grid_id)
        .where(Volunteer.kind == KIND_MEMBER)  # resident volunteers: not a party evaluation
    )
    rows: list[EvaluationRow] = []
    for volunteer, grid in people:
        uid = volunteer.user_id
        if volunteer.status != "approved" and uid not in active:
            continue
        avg, n_ratings = ratings.get(uid, (None, 0))
        hours = response.get(uid)
        rows.append(
            EvaluationRow(
                user_id=uid,
                name=volunteer.name,
                unit=volunteer.unit,
                branch=volunteer.branch,
                community=grid.community,
                grid_code=grid.code,
                grid_name=grid.name,
                services=services.get(uid, 0),
                points=points.get(uid, 0),
                rating_avg=round(avg, 2) if avg is not None else None,
                ratings=n_ratings,
                response_hours=round(hours, 1) if hours is not None else None,
                rank=0,
            )
        )
    await session.commit()  # read-only: end the transaction (SQLite holds its lock otherwise)
    return rank_rows(rows)


async def quarterly_evaluation(
    app: AppContext, session: AsyncSession, year: int, quarter: int
) -> list[EvaluationRow]:
    return await evaluate(app, session, quarter_period(app.settings.tz, year, quarter))


async def annual_awards(app: AppContext, session: AsyncSession, year: int) -> list[EvaluationRow]:
    """每年一奖: per community, the best ``awards_top_n`` of the volunteers with at least
    ``awards_min_services`` services in the year; a tie at the last place is included."""
    top_n, min_services = setting(app, "awards_top_n"), setting(app, "awards_min_services")
    rows = await evaluate(app, session, year_period(app.settings.tz, year))
    eligible = rank_rows(r for r in rows if r.services >= max(min_services, 1))
    return [r for r in eligible if r.rank <= top_n]


def by_unit(rows: Iterable[EvaluationRow]) -> dict[str, list[EvaluationRow]]:
    """Rows grouped by home organisation (所在单位), units in name order, ranks kept."""
    grouped: dict[str, list[EvaluationRow]] = {}
    for row in sorted(rows, key=lambda r: (r.unit, r.community, r.rank, r.name)):
        grouped.setdefault(row.unit, []).append(row)
    return grouped


# --- the duty rule --------------------------------------------------------------------------


async def members_without_service(app: AppContext, session: AsyncSession, year: int) -> list[int]:
    """Approved volunteers with no service so far in the year."""
    period = year_period(app.settings.tz, year)
    served = await service_counts(session, period)
    approved = await session.scalars(
        select(Volunteer.user_id)
        .where(Volunteer.status == "approved", Volunteer.kind == KIND_MEMBER)
        .order_by(Volunteer.user_id)
    )
    return [uid for uid in approved if served.get(uid, 0) == 0]


async def duty_reminders(app: AppContext, year: int) -> list[int]:
    """Remind every member with no service this year (每年至少下沉社区1次), once per year.

    The marks are written and committed before anyone is told, so a second run (another
    process, a restart, a retry) reminds nobody twice; a crash in between loses a reminder
    rather than doubling it. Returns who was reminded by this call.
    """
    async with app.sessions() as session:
        await begin_write(session)  # read and mark in one write transaction
        due = await members_without_service(app, session, year)
        done = set(
            await session.scalars(select(DutyReminder.user_id).where(DutyReminder.year == year))
        )
        targets = [uid for uid in due if uid not in done]
        if not targets:
            await session.commit()
            return []
        now = app.now()
        session.add_all(DutyReminder(year=year, user_id=uid, sent_at=now) for uid in targets)
        try:
            await session.commit()
        except IntegrityError:  # a concurrent run marked (some of) them first: it tells them
            await session.rollback()
            return []
    notice = Notice(
        "reports.duty_reminder", {"year": year, "community": app.settings.community.name}
    )
    async with app.sessions() as session:  # bulk: through the outbox at Telegram's pace
        await begin_write(session)
        await outbox.enqueue(session, notice=notice, user_ids=targets, batch_key=f"duty:{year}")
        await session.commit()
    return targets
