"""What ranking takes and gives: one volunteer as a record, the wish, the weights, the
results, the component names and the reasons a volunteer is not offered a wish."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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

MAX_BITS = 64  # skills and availability are uint64 bitmasks


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
