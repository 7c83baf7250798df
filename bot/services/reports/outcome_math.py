"""The service's outcome figures as pure math over plain records (no database, no web).

The dashboard, `/stats` and the community simulator all feed :func:`outcomes` with
:class:`WishRecord` rows, so the figures mean the same everywhere.

Definitions (one wish = one record; the cohort is whatever the caller selected):

- *approved*: the wish was ever opened to volunteers (``approved_at`` set).
- time to claim / to done: ``claimed_at - approved_at`` / ``done_at - approved_at`` in hours,
  over the approved wishes that reached that point. Median is the usual middle value (mean of
  the two middle ones for an even count); p90 is the nearest-rank 90th percentile
  (the ``ceil(0.9·n)``-th smallest value), so it is always a value that happened.
- claimed within 2 h / 24 h: share of the approved wishes claimed that soon after approval.
- *finished*: approved and no longer moving (done or later, or closed, expired, cancelled).
  unserved share = finished without any volunteer ÷ finished (nobody took it, or it timed out);
  completion = finished with the work done ÷ finished.
- satisfaction: mean of the ratings given (1–5) and the share of 4–5 stars.
- tasks per volunteer: tasks done per volunteer, counting the volunteers of the pool who did
  none as zeros; Gini coefficient of that distribution (0 = everyone did the same, →1 = one
  person did everything) and the most any one person did.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

DONE_STATES = frozenset({"done", "confirmed", "verified", "disputed"})
ENDED_STATES = frozenset({"closed", "expired", "cancelled"})


@dataclass(frozen=True, slots=True)
class WishRecord:
    id: int
    grid_id: int
    category: str
    status: str
    created_at: datetime
    approved_at: datetime | None = None
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    volunteer_id: int | None = None
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Outcomes:
    wishes: int
    approved: int
    claimed: int
    done: int
    finished: int
    claim_median_h: float | None
    claim_p90_h: float | None
    done_median_h: float | None
    done_p90_h: float | None
    claimed_2h_share: float | None
    claimed_24h_share: float | None
    unserved_share: float | None
    completion_share: float | None
    ratings: int
    satisfaction: float | None  # mean rating, 1–5
    satisfied_share: float | None  # 4 or 5 stars
    volunteers_serving: int  # volunteers with at least one task done
    tasks_per_volunteer_max: int
    tasks_gini: float | None


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..1]: the ceil(p·n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered)))
    return ordered[rank - 1]


def gini(counts: Sequence[int]) -> float | None:
    """Gini coefficient of non-negative counts; None when there is nobody or nothing."""
    n, total = len(counts), sum(counts)
    if n == 0 or total == 0:
        return None
    ordered = sorted(counts)
    weighted = sum((i + 1) * c for i, c in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def outcomes(records: Iterable[WishRecord], pool: Iterable[int] = (), idle: int = 0) -> Outcomes:
    """The figures of one cohort of wishes. ``pool``: volunteers who count even with no task
    (ids); ``idle``: that many more volunteers with no task (when only their number is known)."""
    rows = list(records)
    approved = [r for r in rows if r.approved_at is not None]
    to_claim = [
        _hours(r.claimed_at, r.approved_at)
        for r in approved
        if r.claimed_at is not None and r.approved_at is not None
    ]
    to_done = [
        _hours(r.done_at, r.approved_at)
        for r in approved
        if r.done_at is not None and r.approved_at is not None
    ]
    finished = [
        r
        for r in approved
        if r.status in DONE_STATES or r.status in ENDED_STATES or r.done_at is not None
    ]
    unserved = [r for r in finished if r.volunteer_id is None]
    completed = [r for r in finished if r.done_at is not None]
    ratings = [r.rating for r in rows if r.rating is not None]
    per_volunteer: Counter[int] = Counter(
        r.volunteer_id for r in rows if r.done_at is not None and r.volunteer_id is not None
    )
    for vid in pool:
        per_volunteer.setdefault(vid, 0)
    counts = list(per_volunteer.values()) + [0] * idle
    return Outcomes(
        wishes=len(rows),
        approved=len(approved),
        claimed=len(to_claim),
        done=len(to_done),
        finished=len(finished),
        claim_median_h=median(to_claim),
        claim_p90_h=percentile(to_claim, 0.9),
        done_median_h=median(to_done),
        done_p90_h=percentile(to_done, 0.9),
        claimed_2h_share=_share(sum(h <= 2 for h in to_claim), len(approved)),
        claimed_24h_share=_share(sum(h <= 24 for h in to_claim), len(approved)),
        unserved_share=_share(len(unserved), len(finished)),
        completion_share=_share(len(completed), len(finished)),
        ratings=len(ratings),
        satisfaction=sum(ratings) / len(ratings) if ratings else None,
        satisfied_share=_share(sum(r >= 4 for r in ratings), len(ratings)),
        volunteers_serving=sum(1 for c in counts if c > 0),
        tasks_per_volunteer_max=max(counts, default=0),
        tasks_gini=gini(counts),
    )
