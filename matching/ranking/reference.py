"""One volunteer at a time in plain Python: `rank_naive`, the executable specification the
tests and the benchmark hold `rank` to, and `explain` (a volunteer's breakdown, or why they
are not offered the wish)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.ranking.features import (
    fairness_score,
    normalize_text,
    reliability_scalar,
    slot_decays,
    specialty_fit,
)
from matching.ranking.model import (
    COMPONENTS,
    EXCLUDED,
    FULL,
    OTHER_AREA,
    OWN_WISH,
    ExplainResult,
    Ranked,
    VolunteerRecord,
    Weights,
    WishQuery,
)
from matching.ranking.pool import VolunteerPool


@dataclass(frozen=True, slots=True)
class _WishContext:
    """What one wish needs for scoring, computed once per wish (shared by both paths)."""

    wish: WishQuery
    text: str
    decays: list[float]
    allowed_grids: frozenset[int] | None

    @classmethod
    def build(cls, wish: WishQuery, allowed_grids: npt.ArrayLike | None) -> _WishContext:
        allowed = (
            None
            if allowed_grids is None
            else frozenset(int(g) for g in np.asarray(allowed_grids).reshape(-1).tolist())
        )
        return cls(wish, normalize_text(wish.text), slot_decays(wish.slot_hours_until), allowed)


def _ineligibility(rec: VolunteerRecord, ctx: _WishContext) -> str | None:
    if rec.user_id == ctx.wish.resident_user_id:
        return OWN_WISH
    if rec.active_tasks >= rec.max_tasks:
        return FULL
    if rec.id in ctx.wish.exclude_ids:
        return EXCLUDED
    if ctx.allowed_grids is not None and rec.grid not in ctx.allowed_grids:
        return OTHER_AREA
    return None


def _availability_scalar(availability: int, ctx: _WishContext) -> float:
    if ctx.wish.slot_mask:
        return 1.0 if availability & ctx.wish.slot_mask else 0.0
    best = 0.0
    for bit, decay in enumerate(ctx.decays):
        if availability >> bit & 1:
            best = max(best, decay)
    return best


def _nearness_scalar(rec: VolunteerRecord, wish: WishQuery, weights: Weights) -> float:
    if rec.grid == wish.grid:
        if wish.building and rec.building == wish.building:
            return weights.same_building
        return weights.same_grid
    if rec.community == wish.community:
        return weights.same_community
    return weights.elsewhere


def _weighted_components(
    rec: VolunteerRecord, points_percentile: float, ctx: _WishContext, weights: Weights
) -> dict[str, float]:
    safe_max = max(rec.max_tasks, 1)
    raw = {
        "skill": float(rec.skills >> ctx.wish.category_index & 1),
        "specialty": specialty_fit(ctx.text, rec.specialties),
        "availability": _availability_scalar(rec.availability, ctx),
        "nearness": _nearness_scalar(rec, ctx.wish, weights),
        "load": 1.0 - rec.active_tasks / safe_max,
        "fairness": fairness_score(rec.recent_offers, points_percentile),
        "reliability": reliability_scalar(rec.completion_rate, rec.rating_avg, rec.declines_recent),
        "duty": 0.0 if rec.served_this_year else 1.0,
        "newcomer": 1.0 if rec.services_total == 0 else 0.0,
    }
    return {name: getattr(weights, name) * raw[name] for name in COMPONENTS}


def _total(breakdown: dict[str, float]) -> float:
    total = 0.0
    for name in COMPONENTS:
        total += breakdown[name]
    return total


def rank_naive(
    pool: VolunteerPool,
    wish: WishQuery,
    weights: Weights,
    k: int,
    *,
    allowed_grids: npt.ArrayLike | None = None,
) -> list[Ranked]:
    """Same contract and scores as :func:`rank`, one volunteer at a time in plain Python."""
    if k <= 0:
        return []
    ctx = _WishContext.build(wish, allowed_grids)
    records = pool.to_records()
    ordered_points = sorted(r.points_year for r in records)
    ranked: list[Ranked] = []
    for rec in records:
        if _ineligibility(rec, ctx) is not None:
            continue
        percentile = bisect_left(ordered_points, rec.points_year) / len(records)
        breakdown = _weighted_components(rec, percentile, ctx, weights)
        ranked.append(Ranked(rec.id, _total(breakdown), breakdown))
    ranked.sort(key=lambda r: (-r.score, r.volunteer_id))
    return ranked[:k]


def explain(
    pool: VolunteerPool,
    wish: WishQuery,
    weights: Weights,
    volunteer_id: int,
    *,
    allowed_grids: npt.ArrayLike | None = None,
) -> ExplainResult:
    """Why a volunteer ranks where they do, or why they are not offered the wish at all.

    The breakdown is given even for an ineligible volunteer. Raises KeyError for an unknown id.
    """
    i = pool.index_of(volunteer_id)
    rec = _record_at(pool, i)
    ctx = _WishContext.build(wish, allowed_grids)
    reason = _ineligibility(rec, ctx)
    breakdown = _weighted_components(rec, float(pool._points_percentile[i]), ctx, weights)
    return ExplainResult(volunteer_id, reason is None, reason, _total(breakdown), breakdown)


def _record_at(pool: VolunteerPool, i: int) -> VolunteerRecord:
    return VolunteerRecord(
        id=int(pool.ids[i]),
        skills=int(pool.skills[i]),
        specialties=pool.specialties[i],
        availability=int(pool.availability[i]),
        grid=int(pool.grid[i]),
        community=int(pool.community[i]),
        building=pool.building[i],
        active_tasks=int(pool.active_tasks[i]),
        max_tasks=int(pool.max_tasks[i]),
        recent_offers=int(pool.recent_offers[i]),
        points_year=float(pool.points_year[i]),
        services_total=int(pool.services_total[i]),
        completion_rate=float(pool.completion_rate[i]),
        rating_avg=float(pool.rating_avg[i]),
        declines_recent=int(pool.declines_recent[i]),
        served_this_year=bool(pool.served_this_year[i]),
        user_id=int(pool.user_ids[i]),
    )
