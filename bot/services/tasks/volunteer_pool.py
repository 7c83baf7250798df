"""Reads the volunteers and their record into the matching engine's columnar pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import Grid, Offer, User, Volunteer, Wish
from matching.ranking import VolunteerPool, VolunteerRecord, Weights
from matching.slots import Slot

ACTIVE = ("claimed", "in_progress")
SERVED = ("done", "confirmed", "verified", "closed")
NEWCOMER_COMPLETION = 0.8  # a prior: newcomers neither gain nor lose much on reliability
NEWCOMER_RATING = 4.0


@dataclass(frozen=True, slots=True)
class PoolContext:
    pool: VolunteerPool
    grid_community: dict[int, int]  # grid id -> community index
    grid_codes: dict[str, int]  # code -> grid id
    neighbours: dict[int, list[str]]  # grid id -> neighbour codes


def engine_slots(settings: Settings) -> list[Slot]:
    return [
        Slot(id=s.id, weekdays=frozenset(s.days), start=s.start, end=s.end)
        for s in settings.volunteers.slots
    ]


def engine_weights(settings: Settings) -> Weights:
    return Weights(**settings.matching.weights.model_dump())


def _bits(values: list[str], order: list[str]) -> int:
    index = {v: i for i, v in enumerate(order)}
    mask = 0
    for value in values:
        if value in index:
            mask |= 1 << index[value]
    return mask


async def _counts(session: AsyncSession, query: object) -> dict[int, int]:
    return {int(k): int(v) for k, v in (await session.execute(query)).all()}  # type: ignore[call-overload]


async def points_this_year(session: AsyncSession, since: datetime) -> dict[int, float]:
    """Verified points per volunteer since a date (0 for all while the ledger is absent)."""
    try:
        from bot.db.models.points import LedgerEntry
    except ImportError:
        return {}
    rows = await session.execute(
        select(LedgerEntry.user_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.kind.in_(("award", "adjust")), LedgerEntry.created_at >= since)
        .group_by(LedgerEntry.user_id)
    )
    return {int(k): float(v or 0) for k, v in rows.all()}


async def build_pool(session: AsyncSession, settings: Settings, now: datetime) -> PoolContext:
    """A snapshot of every volunteer who can be offered something right now."""
    volunteers = (
        await session.execute(
            select(Volunteer, Grid.community)
            .join(User, User.id == Volunteer.user_id)
            .join(Grid, Grid.id == Volunteer.grid_id)
            .where(
                Volunteer.status == "approved",
                User.is_blocked.is_(False),
                User.telegram_id.is_not(None),
                (Volunteer.paused_until.is_(None)) | (Volunteer.paused_until < now),
            )
        )
    ).all()
    grids = (
        await session.execute(select(Grid.id, Grid.code, Grid.community, Grid.neighbours))
    ).all()
    communities = {name: i for i, name in enumerate(sorted({g.community for g in grids}))}
    year_start = now.astimezone(settings.tz).replace(
        month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    active = await _counts(
        session,
        select(Wish.volunteer_id, func.count())
        .where(Wish.status.in_(ACTIVE))
        .group_by(Wish.volunteer_id),
    )
    served = await _counts(
        session,
        select(Wish.volunteer_id, func.count())
        .where(Wish.status.in_(SERVED))
        .group_by(Wish.volunteer_id),
    )
    served_year = await _counts(
        session,
        select(Wish.volunteer_id, func.count())
        .where(Wish.status.in_(SERVED), Wish.done_at >= year_start)
        .group_by(Wish.volunteer_id),
    )
    recent = await _counts(
        session,
        select(Offer.volunteer_id, func.count())
        .where(Offer.created_at >= now - timedelta(days=30))
        .group_by(Offer.volunteer_id),
    )
    declined = await _counts(
        session,
        select(Offer.volunteer_id, func.count())
        .where(
            Offer.status.in_(("declined", "expired", "released")),
            Offer.created_at >= now - timedelta(days=90),
        )
        .group_by(Offer.volunteer_id),
    )
    released = await _counts(
        session,
        select(Offer.volunteer_id, func.count())
        .where(Offer.status == "released")
        .group_by(Offer.volunteer_id),
    )
    ratings = {
        int(k): float(v)
        for k, v in (
            await session.execute(
                select(Wish.volunteer_id, func.avg(Wish.rating))
                .where(Wish.rating.is_not(None))
                .group_by(Wish.volunteer_id)
            )
        ).all()
    }
    points = await points_this_year(session, year_start)
    categories = settings.categories.ids
    slot_ids = [s.id for s in settings.volunteers.slots]
    records = []
    for volunteer, community in volunteers:
        uid = volunteer.user_id
        done = served.get(uid, 0)
        gave_back = released.get(uid, 0)
        records.append(
            VolunteerRecord(
                id=uid,
                skills=_bits(volunteer.skills, categories),
                specialties=volunteer.specialties or "",
                availability=_bits(volunteer.availability, slot_ids),
                grid=volunteer.grid_id,
                community=communities.get(community, -1),
                building=volunteer.building or "",
                active_tasks=active.get(uid, 0),
                max_tasks=volunteer.max_active_tasks,
                recent_offers=recent.get(uid, 0),
                points_year=points.get(uid, 0.0),
                services_total=done,
                completion_rate=done / (done + gave_back)
                if done + gave_back
                else NEWCOMER_COMPLETION,
                rating_avg=ratings.get(uid, NEWCOMER_RATING),
                declines_recent=declined.get(uid, 0),
                served_this_year=served_year.get(uid, 0) > 0,
                user_id=uid,
            )
        )
    return PoolContext(
        pool=VolunteerPool.from_records(records),
        grid_community={g.id: communities[g.community] for g in grids},
        grid_codes={g.code: g.id for g in grids},
        neighbours={g.id: list(g.neighbours or []) for g in grids},
    )
