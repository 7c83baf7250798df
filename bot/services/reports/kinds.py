"""Party members and resident volunteers (党群接单) side by side, for a period.

报到率 / 活动率 and the evaluations count members only; these figures show what resident
volunteers (群众志愿者) did, so they appear in the outcome reports without diluting the duty."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import LedgerEntry, Volunteer
from bot.services.people.helpers import KINDS
from bot.services.reports.evaluations import POINT_KINDS, Period, service_counts


@dataclass(frozen=True, slots=True)
class KindFigures:
    kind: str  # member | resident
    approved: int  # approved volunteers of this kind now
    active: int  # of them, served at least once in the period
    services: int  # services in the period (tasks, events, declarations)
    points: int  # points awarded or adjusted in the period


async def figures_by_kind(
    session: AsyncSession, period: Period, grids: Collection[int] | None = None
) -> dict[str, KindFigures]:
    """By kind, the approved volunteers (living in ``grids``; None: all) and what they did."""
    served = await service_counts(session, period)
    who = select(Volunteer.user_id, Volunteer.kind).where(Volunteer.status == "approved")
    if grids is not None:
        who = who.where(Volunteer.grid_id.in_(list(grids)))
    people = list(await session.execute(who))
    points = dict(
        (
            await session.execute(
                select(Volunteer.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
                .join(LedgerEntry, LedgerEntry.user_id == Volunteer.user_id)
                .where(
                    Volunteer.status == "approved",
                    *([] if grids is None else [Volunteer.grid_id.in_(list(grids))]),
                    LedgerEntry.kind.in_(POINT_KINDS),
                    LedgerEntry.created_at >= period.start,
                    LedgerEntry.created_at < period.end,
                )
                .group_by(Volunteer.kind)
            )
        ).all()
    )
    result: dict[str, KindFigures] = {}
    for kind in KINDS:
        ids = [uid for uid, k in people if k == kind]
        result[kind] = KindFigures(
            kind=kind,
            approved=len(ids),
            active=sum(1 for uid in ids if served.get(uid, 0) > 0),
            services=sum(served.get(uid, 0) for uid in ids),
            points=int(points.get(kind, 0)),
        )
    return result
