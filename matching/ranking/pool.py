"""The columnar volunteer pool: an immutable snapshot with the wish-independent columns
derived once at build time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.ranking.features import fairness_score, reliability_vector, specialty_words
from matching.ranking.model import BoolArray, FloatArray, IntArray, UIntArray, VolunteerRecord


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
            [token_index.setdefault(t, len(token_index)) for t in specialty_words(s)]
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
            "fairness": fairness_score(self.recent_offers, self._points_percentile),
            "reliability": reliability_vector(
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


def _encode(values: Sequence[str]) -> tuple[list[str], IntArray]:
    """Distinct values (first-seen order) and each row's index into them."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    return list(index), codes
