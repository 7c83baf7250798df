"""The overview's figures of one window, summed by the database instead of in Python.

:func:`outcomes` over :func:`load_records` moves every wish of the window (8,000 rows of ten
columns for a month of a district) into Python to count them. Here the database counts, and
only what a quantile needs comes back row by row: the approval→claim and approval→done times
of the approved wishes, as seconds (one narrow row per wish, no other column). Everything else
is a handful of grouped rows. The same queries run on SQLite and PostgreSQL; only the seconds
differ: PostgreSQL subtracts (``extract(epoch …)``, exact to the microsecond like Python's
``total_seconds()``), SQLite returns the two moments and Python subtracts.

Same definitions and the same numbers as :mod:`outcome_math` (a test compares both on a random
district, on both databases).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Wish
from bot.services.reports.outcome_math import (
    DONE_STATES,
    ENDED_STATES,
    Outcomes,
    gini,
    median,
    percentile,
)
from bot.services.reports.outcomes import Grids, _approvals, _in_grids, _utc


@dataclass(frozen=True, slots=True)
class GridSums:
    filed: int
    claim_hours: list[float]
    rating_sum: int
    ratings: int


@dataclass(frozen=True, slots=True)
class WindowSums:
    figures: Outcomes
    by_status: dict[str, int]
    by_category: dict[str, int]
    per_grid: dict[int, GridSums]
    filed_per_day: list[int]
    done_per_day: list[int]


def _count(condition: Any) -> Any:
    return func.count(case((condition, 1)))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _seconds(later: datetime | None, earlier: datetime) -> float | None:
    end, begin = _utc(later), _utc(earlier)
    return None if end is None or begin is None else (end - begin).total_seconds()


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Largest first, ties by name (a fixed order for the charts)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _window(start: datetime, end: datetime, grids: Grids) -> list[Any]:
    return [Wish.created_at >= start, Wish.created_at < end, *_in_grids(Wish.grid_id, grids)]


def moments_query(start: datetime, end: datetime, grids: Grids, *, postgres: bool) -> Any:
    """Every approved wish of the window once (one join with the first approvals): its grid,
    its two durations and whether it is finished (1) and served by nobody (2). PostgreSQL
    gives the durations as seconds, exactly as timedelta.total_seconds(); SQLite the moments."""
    approvals = _approvals(start)
    at = approvals.c.at
    finished = or_(Wish.status.in_(sorted(DONE_STATES | ENDED_STATES)), Wish.done_at.is_not(None))
    if postgres:
        claim_s: Any = cast(extract("epoch", Wish.claimed_at - at), Float)
        done_s: Any = cast(extract("epoch", Wish.done_at - at), Float)
        moments = select(Wish.grid_id, claim_s, done_s)
    else:
        moments = select(Wish.grid_id, at, Wish.claimed_at, Wish.done_at)
    ended = case((finished, case((Wish.volunteer_id.is_(None), 2), else_=1)), else_=0)
    return (
        moments.add_columns(ended)
        .select_from(Wish)
        .join(approvals, approvals.c.wish_id == Wish.id)
        .where(*_window(start, end, grids))
    )


async def window_sums(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    grids: Grids,
    edges: list[datetime],
    idle: int,
) -> WindowSums:
    """Figures of the wishes filed in [start, end) in the scope. ``edges``: the UTC moments
    the local days of the trend start at, and the end of the last one (days = len - 1)."""
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    scope = _window(start, end, grids)
    rows: list[Any] = list(
        (await connection.execute(moments_query(start, end, grids, postgres=postgres))).all()
    )
    if not postgres:
        rows = [(g, _seconds(c, a), _seconds(d, a), e) for g, a, c, d, e in rows]
    n_approved = len(rows)
    n_finished = n_unserved = 0
    to_claim: list[float] = []
    to_done: list[float] = []
    claims_by_grid: dict[int, list[float]] = defaultdict(list)
    for grid_id, claim, done, end_state in rows:
        if end_state:
            n_finished += 1
            n_unserved += end_state == 2
        if claim is not None:
            hours = claim / 3600
            to_claim.append(hours)
            claims_by_grid[grid_id].append(hours)
        if done is not None:
            to_done.append(done / 3600)

    by_status: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for status, category, n in await connection.execute(
        select(Wish.status, Wish.category, func.count())
        .where(*scope)
        .group_by(Wish.status, Wish.category)
    ):
        by_status[status] += n
        by_category[category] += n

    per_grid: dict[int, GridSums] = {}
    n_satisfied = 0
    for g, n, rating_sum, ratings, satisfied in await connection.execute(
        select(
            Wish.grid_id,
            func.count(),
            func.sum(Wish.rating),
            func.count(Wish.rating),
            _count(Wish.rating >= 4),
        )
        .where(*scope)
        .group_by(Wish.grid_id)
    ):
        per_grid[int(g)] = GridSums(
            int(n), claims_by_grid.get(int(g), []), int(rating_sum or 0), int(ratings)
        )
        n_satisfied += int(satisfied)
    n_wishes = sum(g.filed for g in per_grid.values())
    n_ratings = sum(g.ratings for g in per_grid.values())
    rating_sum = sum(g.rating_sum for g in per_grid.values())

    # Filed and done per local day: each moment numbered by the day it falls in.
    days = len(edges) - 1

    def day_of(moment: Any) -> Any:
        return case(*[(moment < edges[i + 1], i) for i in range(days)], else_=days)

    filed_per_day, done_per_day = [0] * days, [0] * days
    for column, per_day in ((Wish.created_at, filed_per_day), (Wish.done_at, done_per_day)):
        moments_of_days = (
            select(day_of(column).label("day"))
            .where(*scope, column >= edges[0], column < edges[-1])
            .subquery()
        )
        for day, n in await connection.execute(
            select(moments_of_days.c.day, func.count()).group_by(moments_of_days.c.day)
        ):
            per_day[int(day)] += int(n)

    # Tasks per volunteer as a histogram (how many did n tasks): a few rows, not thousands.
    per_volunteer = (
        select(func.count().label("n"))
        .where(*scope, Wish.done_at.is_not(None), Wish.volunteer_id.is_not(None))
        .group_by(Wish.volunteer_id)
        .subquery()
    )
    counts: list[int] = []
    for n, people in await connection.execute(
        select(per_volunteer.c.n, func.count()).group_by(per_volunteer.c.n)
    ):
        counts.extend([int(n)] * int(people))
    counts.extend([0] * idle)

    figures = Outcomes(
        wishes=int(n_wishes),
        approved=int(n_approved),
        claimed=len(to_claim),
        done=len(to_done),
        finished=int(n_finished),
        claim_median_h=median(to_claim),
        claim_p90_h=percentile(to_claim, 0.9),
        done_median_h=median(to_done),
        done_p90_h=percentile(to_done, 0.9),
        claimed_2h_share=_share(sum(h <= 2 for h in to_claim), int(n_approved)),
        claimed_24h_share=_share(sum(h <= 24 for h in to_claim), int(n_approved)),
        unserved_share=_share(int(n_unserved), int(n_finished)),
        completion_share=_share(len(to_done), int(n_finished)),
        ratings=int(n_ratings),
        satisfaction=int(rating_sum) / int(n_ratings) if n_ratings else None,
        satisfied_share=_share(int(n_satisfied), int(n_ratings)),
        volunteers_serving=sum(1 for c in counts if c > 0),
        tasks_per_volunteer_max=max(counts, default=0),
        tasks_gini=gini(counts),
    )
    return WindowSums(
        figures=figures,
        by_status=_ordered(by_status),
        by_category=_ordered(by_category),
        per_grid=per_grid,
        filed_per_day=filed_per_day,
        done_per_day=done_per_day,
    )
