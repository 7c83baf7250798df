"""The monthly rates (报到率 · 活动率): registered ÷ expected on the roster, active ÷ registered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Volunteer
from bot.db.models.roster import RosterEntry
from bot.services.context import AppContext
from bot.services.people.helpers import KIND_MEMBER
from bot.services.people.roster import link_registrations
from bot.services.reports.evaluations import month_period, service_counts


@dataclass(frozen=True, slots=True)
class RateLine:
    community: str
    grid_code: str | None  # None: the community as a whole
    grid_name: str | None
    expected: int  # on the roster
    registered: int  # on the roster and an approved volunteer
    active: int  # registered and served at least once in the month

    @property
    def registration_rate(self) -> float | None:
        return self.registered / self.expected if self.expected else None

    @property
    def activity_rate(self) -> float | None:
        return self.active / self.registered if self.registered else None


@dataclass(frozen=True, slots=True)
class RatesReport:
    period: str
    communities: list[RateLine]
    grids: list[RateLine]


async def rates(app: AppContext, session: AsyncSession, year: int, month: int) -> RatesReport:
    """报到率 = registered ÷ expected (the roster); 活动率 = active this month ÷ registered."""
    await link_registrations(app, session)
    report = await rate_lines(app, session, year, month)
    await session.commit()
    return report


async def rate_lines(app: AppContext, session: AsyncSession, year: int, month: int) -> RatesReport:
    """The rates from the links made so far (read only: the dashboard calls it on every view)."""
    period = month_period(app.settings.tz, year, month)
    rows = list(
        await session.execute(
            select(Grid, RosterEntry.matched_user_id, Volunteer.status)
            .join(RosterEntry, RosterEntry.grid_id == Grid.id)
            .outerjoin(
                Volunteer,
                (Volunteer.user_id == RosterEntry.matched_user_id)
                & (Volunteer.kind == KIND_MEMBER),  # resident volunteers have no duty to count
            )
        )
    )
    # No roster, no rates: spare counting a month of services (the dashboard asks every view).
    served = await service_counts(session, period) if rows else Counter[int]()
    tallies: dict[int, list[int]] = {}
    grids: dict[int, Grid] = {}
    for grid, user_id, status in rows:
        grids[grid.id] = grid
        tally = tallies.setdefault(grid.id, [0, 0, 0])
        tally[0] += 1
        if user_id is not None and status == "approved":
            tally[1] += 1
            tally[2] += served.get(user_id, 0) > 0
    grid_lines = [
        RateLine(grids[gid].community, grids[gid].code, grids[gid].name, *tallies[gid])
        for gid in sorted(tallies, key=lambda g: (grids[g].community, grids[g].code))
    ]
    per_community: dict[str, list[int]] = {}
    for line in grid_lines:
        total = per_community.setdefault(line.community, [0, 0, 0])
        total[0] += line.expected
        total[1] += line.registered
        total[2] += line.active
    community_lines = [
        RateLine(name, None, None, *total) for name, total in sorted(per_community.items())
    ]
    return RatesReport(period.label, community_lines, grid_lines)
