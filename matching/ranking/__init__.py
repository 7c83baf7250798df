"""Rank volunteers for one wish: hard filters, nine weighted components, deterministic top-k.

Two implementations compute the very same scores:

* :func:`rank` works on the columnar :class:`VolunteerPool` with numpy; it is the one to use.
* :func:`rank_naive` loops over the volunteers one record at a time in plain Python. It exists
  as an executable specification, and the tests and the benchmark check that both agree.

Agreement is exact, not approximate: every component is built from IEEE-exact operations
(+ - * /, min, max) applied in the same order in both paths, and the only transcendental
function (the availability decay) is evaluated once per slot, in shared code. That makes equal
scores equal in both paths, so the tie-break (lower volunteer id first) orders them alike.

Each component is normalised to 0..1 and multiplied by its weight; the score is the sum of the
weighted components in :data:`COMPONENTS` order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

__all__ = [
    "COMPONENTS",
    "ExplainResult",
    "Ranked",
    "VolunteerPool",
    "VolunteerRecord",
    "Weights",
    "WishQuery",
    "explain",
    "normalize_text",
    "rank",
    "rank_naive",
    "specialty_fit",
]

IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

COMPONENTS: tuple[str, ...] = (
    "skill",
    "specialty",
    "availability",
    "nearness",
    "load",
    "fairness",
    "reliability",
    "duty",
    "newcomer",
)

# Reasons a volunteer cannot be offered a wish ("not_approved" is decided by the caller).
OWN_WISH = "own_wish"
FULL = "full"
EXCLUDED = "excluded"
OTHER_AREA = "other_area"

# Flexible wishes favour whoever is free soonest: e-folding time of the decay, in hours.
AVAILABILITY_DECAY_HOURS = 48.0
# partial_ratio below this is noise (one shared character of a two-character word scores 50).
SPECIALTY_CUTOFF = 60.0
# Fairness: half "few offers lately", half "low in this year's points table".
FAIRNESS_OFFERS_SHARE = 0.5
# Reliability: completion rate, rating and few recent declines/time-outs.
RELIABILITY_COMPLETION_SHARE = 0.5
RELIABILITY_RATING_SHARE = 0.3
RELIABILITY_DECLINES_SHARE = 0.2

MAX_BITS = 64  # skills and availability are uint64 bitmasks

_SEPARATORS = re.compile(r"[\s,，、;；/|]+")


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class VolunteerRecord:
    """One volunteer as plain scalars; the row form of :class:`VolunteerPool`."""

    id: int
    skills: int  # bitmask of category indices
    specialties: str  # free text, e.g. "水电维修 家电"; may be ""
    availability: int  # slot bitmask
    grid: int
    community: int
    building: str  # "" = unknown
    active_tasks: int
    max_tasks: int
    recent_offers: int  # offers in the last 30 days
    points_year: float
    services_total: int  # 0 = newcomer
    completion_rate: float  # 0..1; the caller supplies a prior for newcomers
    rating_avg: float  # 1..5
    declines_recent: int  # declines + time-outs in the last 90 days
    served_this_year: bool
    user_id: int  # Telegram user id


def _column(values: Any, dtype: type[np.generic]) -> Any:
    """A private read-only copy: the pool is a snapshot, and derived columns depend on it."""
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


@dataclass(slots=True)
class VolunteerPool:
    """Columnar volunteer data, built once and reused for many wishes.

    It is an immutable snapshot: the arrays are copied and made read-only, because rank-wide
    derived columns (points percentile, distinct specialties...) are computed at build time.
    Build a new pool when the underlying data changes.
    """

    ids: IntArray
    skills: UIntArray
    specialties: list[str]
    availability: UIntArray
    grid: IntArray
    community: IntArray
    building: list[str] | npt.NDArray[Any]  # "" = unknown; compared only within the same grid
    active_tasks: IntArray
    max_tasks: IntArray
    recent_offers: IntArray
    points_year: FloatArray
    services_total: IntArray
    completion_rate: FloatArray
    rating_avg: FloatArray
    declines_recent: IntArray
    served_this_year: BoolArray
    user_ids: IntArray

    # Derived at build time (wish- and weight-independent).
    _specialty_code: IntArray = field(init=False, repr=False)
    _specialty_distinct: list[str] = field(init=False, repr=False)
    _specialty_tokens: list[str] = field(init=False, repr=False)
    _specialty_token_matrix: IntArray = field(init=False, repr=False)
    _building_code: IntArray = field(init=False, repr=False)
    _building_index: dict[str, int] = field(init=False, repr=False)
    _availability_distinct: UIntArray = field(init=False, repr=False)
    _availability_code: IntArray = field(init=False, repr=False)
    _points_percentile: FloatArray = field(init=False, repr=False)
    _static: dict[str, FloatArray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ids = _column(self.ids, np.int64)
        self.skills = _column(self.skills, np.uint64)
        self.availability = _column(self.availability, np.uint64)
        self.grid = _column(self.grid, np.int64)
        self.community = _column(self.community, np.int64)
        self.active_tasks = _column(self.active_tasks, np.int64)
        self.max_tasks = _column(self.max_tasks, np.int64)
        self.recent_offers = _column(self.recent_offers, np.int64)
        self.points_year = _column(self.points_year, np.float64)
        self.services_total = _column(self.services_total, np.int64)
        self.completion_rate = _column(self.completion_rate, np.float64)
        self.rating_avg = _column(self.rating_avg, np.float64)
        self.declines_recent = _column(self.declines_recent, np.int64)
        self.served_this_year = _column(self.served_this_year, np.bool_)
        self.user_ids = _column(self.user_ids, np.int64)
        self.specialties = [str(s) for s in self.specialties]
        self.building = [str(b) for b in self.building]
        self._check_lengths()
        self._derive()

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def _check_lengths(self) -> None:
        n = len(self)
        for f in fields(self):
            if f.init and len(getattr(self, f.name)) != n:
                rows = len(getattr(self, f.name))
                raise ValueError(f"VolunteerPool.{f.name} has {rows} rows, ids has {n}")
        if len(np.unique(self.ids)) != n:
            raise ValueError("VolunteerPool.ids must be unique")

    def _derive(self) -> None:
        n = len(self)
        # Few distinct specialty strings: fuzzy-score each distinct token once per wish.
        self._specialty_distinct, self._specialty_code = _encode(self.specialties)
        token_index: dict[str, int] = {}
        per_string = [
            [token_index.setdefault(t, len(token_index)) for t in _specialty_tokens(s)]
            for s in self._specialty_distinct
        ]
        self._specialty_tokens = list(token_index)
        # Pad with a sentinel column that always scores 0 (strings with fewer or no tokens).
        width = max((len(p) for p in per_string), default=0) or 1
        sentinel = len(token_index)
        matrix = np.full((len(per_string), width), sentinel, dtype=np.int64)
        for row, tokens in enumerate(per_string):
            matrix[row, : len(tokens)] = tokens
        self._specialty_token_matrix = matrix

        # Buildings are compared as integer codes; "" (unknown) never matches anything.
        labels, self._building_code = _encode([str(b) for b in self.building])
        self._building_index = {b: i for i, b in enumerate(labels) if b}
        if "" in labels:
            self._building_code = np.where(
                self._building_code == labels.index(""), -1, self._building_code
            )

        distinct, inverse = np.unique(self.availability, return_inverse=True)
        self._availability_distinct = distinct.astype(np.uint64)
        self._availability_code = inverse.reshape(-1).astype(np.int64)

        # Share of the pool with strictly fewer points this year (0 for the lowest).
        ordered = np.sort(self.points_year)
        self._points_percentile = np.searchsorted(ordered, self.points_year, side="left") / max(
            n, 1
        )

        safe_max = np.maximum(self.max_tasks, 1)  # full volunteers are filtered out anyway
        self._static = {
            "load": 1.0 - self.active_tasks / safe_max,
            "fairness": _fairness(self.recent_offers, self._points_percentile),
            "reliability": _reliability_vector(
                self.completion_rate, self.rating_avg, self.declines_recent
            ),
            "duty": np.where(self.served_this_year, 0.0, 1.0),
            "newcomer": np.where(self.services_total == 0, 1.0, 0.0),
        }

    @classmethod
    def from_records(cls, records: Sequence[VolunteerRecord]) -> VolunteerPool:
        return cls(
            ids=np.array([r.id for r in records], dtype=np.int64),
            skills=np.array([r.skills for r in records], dtype=np.uint64),
            specialties=[r.specialties for r in records],
            availability=np.array([r.availability for r in records], dtype=np.uint64),
            grid=np.array([r.grid for r in records], dtype=np.int64),
            community=np.array([r.community for r in records], dtype=np.int64),
            building=[r.building for r in records],
            active_tasks=np.array([r.active_tasks for r in records], dtype=np.int64),
            max_tasks=np.array([r.max_tasks for r in records], dtype=np.int64),
            recent_offers=np.array([r.recent_offers for r in records], dtype=np.int64),
            points_year=np.array([r.points_year for r in records], dtype=np.float64),
            services_total=np.array([r.services_total for r in records], dtype=np.int64),
            completion_rate=np.array([r.completion_rate for r in records], dtype=np.float64),
            rating_avg=np.array([r.rating_avg for r in records], dtype=np.float64),
            declines_recent=np.array([r.declines_recent for r in records], dtype=np.int64),
            served_this_year=np.array([r.served_this_year for r in records], dtype=np.bool_),
            user_ids=np.array([r.user_id for r in records], dtype=np.int64),
        )

    def to_records(self) -> list[VolunteerRecord]:
        columns = zip(
            self.ids.tolist(),
            self.skills.tolist(),
            self.specialties,
            self.availability.tolist(),
            self.grid.tolist(),
            self.community.tolist(),
            self.building,
            self.active_tasks.tolist(),
            self.max_tasks.tolist(),
            self.recent_offers.tolist(),
            self.points_year.tolist(),
            self.services_total.tolist(),
            self.completion_rate.tolist(),
            self.rating_avg.tolist(),
            self.declines_recent.tolist(),
            self.served_this_year.tolist(),
            self.user_ids.tolist(),
            strict=True,
        )
        return [VolunteerRecord(*row) for row in columns]

    def index_of(self, volunteer_id: int) -> int:
        hits = np.flatnonzero(self.ids == volunteer_id)
        if hits.size == 0:
            raise KeyError(volunteer_id)
        return int(hits[0])


@dataclass(frozen=True, slots=True)
class WishQuery:
    category_index: int  # index of the wish's category in the category list
    text: str  # the wish text, for specialty fit
    slot_mask: int  # slots overlapping its window; 0 = flexible
    slot_hours_until: Sequence[float]  # per slot, hours until it next begins
    grid: int
    community: int
    building: str
    resident_user_id: int
    exclude_ids: frozenset[int] = frozenset()  # volunteers already offered / declined

    def __post_init__(self) -> None:
        # Bitmasks are uint64 columns: a category or slot beyond bit 63 cannot be represented.
        if not 0 <= self.category_index < MAX_BITS:
            raise ValueError(f"category_index must be in 0..{MAX_BITS - 1}")
        if self.slot_mask < 0 or self.slot_mask >> MAX_BITS:
            raise ValueError(f"slot_mask must fit in {MAX_BITS} bits")
        if len(self.slot_hours_until) > MAX_BITS:
            raise ValueError(f"at most {MAX_BITS} slots are supported")


@dataclass(frozen=True, slots=True)
class Weights:
    skill: float = 3.0
    specialty: float = 1.5
    availability: float = 2.0
    nearness: float = 2.0
    load: float = 1.0
    fairness: float = 1.0
    reliability: float = 1.5
    duty: float = 1.0
    newcomer: float = 0.5
    # nearness tiers, each 0..1
    same_building: float = 1.0
    same_grid: float = 0.8
    same_community: float = 0.5
    elsewhere: float = 0.1


@dataclass(frozen=True, slots=True)
class Ranked:
    volunteer_id: int
    score: float
    breakdown: dict[str, float]  # component -> weighted contribution


@dataclass(frozen=True, slots=True)
class ExplainResult:
    volunteer_id: int
    eligible: bool
    reason: str | None  # OWN_WISH, FULL, EXCLUDED, OTHER_AREA; None when eligible
    score: float
    breakdown: dict[str, float]


# --------------------------------------------------------------------------------------------
# Shared pieces: text, specialty fit, per-slot decay, component formulas
# --------------------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """NFKC, lower case, letters and digits only: full-width forms and punctuation vanish."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def _specialty_tokens(specialties: str) -> list[str]:
    tokens = (normalize_text(t) for t in _SEPARATORS.split(specialties))
    return list(dict.fromkeys(t for t in tokens if t))


def specialty_fit(normalized_wish_text: str, specialties: str) -> float:
    """0..1: best partial match of any of the volunteer's specialty words inside the wish text."""
    best = 0.0
    for token in _specialty_tokens(specialties):
        score = fuzz.partial_ratio(token, normalized_wish_text, score_cutoff=SPECIALTY_CUTOFF)
        best = max(best, score)
    return best / 100.0


def _slot_decays(slot_hours_until: Sequence[float]) -> list[float]:
    """Availability credit of each slot for a flexible wish (computed once, used by both paths)."""
    return [math.exp(-max(float(h), 0.0) / AVAILABILITY_DECAY_HOURS) for h in slot_hours_until]


def _fairness(recent_offers: Any, points_percentile: Any) -> Any:
    """Works on scalars and arrays alike, with the same operation order."""
    offers = 1.0 / (1.0 + recent_offers)
    return FAIRNESS_OFFERS_SHARE * offers + (1.0 - FAIRNESS_OFFERS_SHARE) * (
        1.0 - points_percentile
    )


def _reliability_vector(completion: FloatArray, rating: FloatArray, declines: IntArray) -> Any:
    return (
        RELIABILITY_COMPLETION_SHARE * np.minimum(np.maximum(completion, 0.0), 1.0)
        + RELIABILITY_RATING_SHARE * np.minimum(np.maximum((rating - 1.0) / 4.0, 0.0), 1.0)
        + RELIABILITY_DECLINES_SHARE * (1.0 / (1.0 + declines))
    )


def _reliability_scalar(completion: float, rating: float, declines: int) -> float:
    return (
        RELIABILITY_COMPLETION_SHARE * min(max(completion, 0.0), 1.0)
        + RELIABILITY_RATING_SHARE * min(max((rating - 1.0) / 4.0, 0.0), 1.0)
        + RELIABILITY_DECLINES_SHARE * (1.0 / (1.0 + declines))
    )


def _encode(values: Sequence[str]) -> tuple[list[str], IntArray]:
    """Distinct values (first-seen order) and each row's index into them."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    return list(index), codes


# --------------------------------------------------------------------------------------------
# Vectorised ranking
# --------------------------------------------------------------------------------------------


def _eligible(pool: VolunteerPool, wish: WishQuery, allowed_grids: Any) -> BoolArray:
    ok: BoolArray = (pool.active_tasks < pool.max_tasks) & (pool.user_ids != wish.resident_user_id)
    if wish.exclude_ids:
        excluded = np.fromiter(wish.exclude_ids, np.int64, len(wish.exclude_ids))
        ok &= ~np.isin(pool.ids, excluded)
    if allowed_grids is not None:
        ok &= np.isin(pool.grid, np.asarray(allowed_grids, dtype=np.int64))
    return ok


def _specialty_vector(pool: VolunteerPool, wish: WishQuery) -> FloatArray:
    text = normalize_text(wish.text)
    token_scores = np.zeros(len(pool._specialty_tokens) + 1, dtype=np.float64)  # + sentinel
    if pool._specialty_tokens and text:
        token_scores[:-1] = process.cdist(
            pool._specialty_tokens,
            [text],
            scorer=fuzz.partial_ratio,
            score_cutoff=SPECIALTY_CUTOFF,
            dtype=np.float64,
        )[:, 0]
    per_distinct: FloatArray = token_scores[pool._specialty_token_matrix].max(axis=1) / 100.0
    return per_distinct[pool._specialty_code]


def _availability_vector(pool: VolunteerPool, wish: WishQuery) -> FloatArray:
    masks = pool._availability_distinct  # scored once per distinct mask, then gathered
    if wish.slot_mask:
        per_mask = np.where((masks & np.uint64(wish.slot_mask)) != 0, 1.0, 0.0)
    else:
        per_mask = np.zeros(masks.shape, dtype=np.float64)
        for bit, decay in enumerate(_slot_decays(wish.slot_hours_until)):
            has_slot = (masks & np.uint64(1 << bit)) != 0
            per_mask = np.maximum(per_mask, np.where(has_slot, decay, 0.0))
    return per_mask[pool._availability_code]


def _nearness_vector(pool: VolunteerPool, wish: WishQuery, weights: Weights) -> FloatArray:
    same_grid = pool.grid == wish.grid
    building = pool._building_index.get(wish.building, -2) if wish.building else -2
    same_building = same_grid & (pool._building_code == building)
    same_community = pool.community == wish.community
    return np.select(
        [same_building, same_grid, same_community],
        [weights.same_building, weights.same_grid, weights.same_community],
        default=weights.elsewhere,
    ).astype(np.float64)


def _component_vectors(
    pool: VolunteerPool, wish: WishQuery, weights: Weights
) -> dict[str, FloatArray]:
    skill_bit = (pool.skills >> np.uint64(wish.category_index)) & np.uint64(1)
    return {
        "skill": skill_bit.astype(np.float64),
        "specialty": _specialty_vector(pool, wish),
        "availability": _availability_vector(pool, wish),
        "nearness": _nearness_vector(pool, wish, weights),
        **pool._static,
    }


def _top_k(scores: FloatArray, ids: IntArray, eligible: BoolArray, k: int) -> IntArray:
    """Indices of the k best eligible rows: score descending, then id ascending."""
    n = scores.shape[0]
    if np.count_nonzero(eligible) > k:
        masked = np.where(eligible, scores, -np.inf)
        # argpartition on the ascending order is ~2x faster than on negated scores.
        best = np.argpartition(masked, n - k)[n - k :]
        # Keep everyone tied with the k-th score, so the id tie-break decides, not argpartition.
        candidates = np.flatnonzero(masked >= masked[best].min())
    else:
        candidates = np.flatnonzero(eligible)
    order = np.lexsort((ids[candidates], -scores[candidates]))
    top: IntArray = candidates[order[:k]]
    return top


def rank(
    pool: VolunteerPool,
    wish: WishQuery,
    weights: Weights,
    k: int,
    *,
    allowed_grids: npt.ArrayLike | None = None,
) -> list[Ranked]:
    """The k best eligible volunteers for the wish, best first (ties: lower id first)."""
    if k <= 0 or len(pool) == 0:
        return []
    eligible = _eligible(pool, wish, allowed_grids)
    weighted = {
        name: getattr(weights, name) * column
        for name, column in _component_vectors(pool, wish, weights).items()
    }
    scores = np.zeros(len(pool), dtype=np.float64)
    for name in COMPONENTS:  # fixed order: rank_naive sums in the same order
        scores += weighted[name]
    top = _top_k(scores, pool.ids, eligible, k)
    return [
        Ranked(
            volunteer_id=int(pool.ids[i]),
            score=float(scores[i]),
            breakdown={name: float(weighted[name][i]) for name in COMPONENTS},
        )
        for i in top.tolist()
    ]


# --------------------------------------------------------------------------------------------
# Record-at-a-time reference implementation
# --------------------------------------------------------------------------------------------


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
        return cls(wish, normalize_text(wish.text), _slot_decays(wish.slot_hours_until), allowed)


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
        "fairness": _fairness(rec.recent_offers, points_percentile),
        "reliability": _reliability_scalar(
            rec.completion_rate, rec.rating_avg, rec.declines_recent
        ),
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
