"""The seeded model of a community: every parameter of the simulator lives here, documented.

Times are hours unless named otherwise. The wish texts (and so the category mix, urgency and
time windows, read by the real classifier and time extraction) are the shipped labelled
wishes (``bot/defaults/wishes_train.tsv``). Nothing here is tuned per policy: matching, the
group chat and random offers all run on the same people.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WISHES_FILE = Path(__file__).resolve().parent.parent / "defaults" / "wishes_train.tsv"

# Relative wish arrivals by local hour of day (0..23) and weekday (Monday 0 .. Sunday 6).
HOUR_WEIGHTS = (
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.3,
    0.8,
    1.5,
    2.2,
    2.6,
    2.5,
    2.0,
    1.6,
    1.5,
    1.8,
    2.0,
    2.0,
    1.9,
    2.0,
    2.4,
    2.3,
    1.6,
    0.9,
    0.4,
)
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 1.2)


@dataclass(frozen=True)
class CommunityModel:
    # --- residents and wishes
    wishes_per_resident_month: float = 0.35  # 2,000 residents: ~700 wishes a month
    hour_weights: tuple[float, ...] = HOUR_WEIGHTS
    weekday_weights: tuple[float, ...] = WEEKDAY_WEIGHTS
    # --- volunteers
    skills_min: int = 1  # categories a volunteer is good at (drawn from the wish mix)
    skills_max: int = 3
    slots_min: int = 1  # weekly free-time slots in their profile
    slots_max: int = 4
    max_active_tasks: int = 3
    awake_from: int = 7  # local hours in which people look at their phone
    awake_to: int = 23
    # Mean hours between two looks at the group chat, per volunteer: log-normal around this.
    look_median_h: float = 2.0
    look_sigma: float = 0.6
    # An offer is a private push: seen after this share of the volunteer's look interval
    # (1.0 would be "no faster than the group"; it is never slower).
    offer_push_factor: float = 0.5
    # Chance to take a wish once seen, before the factors below.
    accept_base: float = 0.55
    accept_skill_miss: float = 0.45  # multiplier when the wish is not in their skills
    accept_neighbour_grid: float = 0.7  # multiplier for a neighbouring grid's wish
    accept_other_grid: float = 0.45  # multiplier for another grid of the community
    accept_per_active_task: float = 0.7  # multiplier per task already in hand
    accept_evening: float = 0.8  # multiplier after 21:00
    decline_share: float = 0.6  # an offer not taken is declined with a reason (else ignored)
    # --- doing the task
    start_median_h: float = 18.0  # from claim to doing it (log-normal)
    start_sigma: float = 0.8
    duration_h: float = 1.5
    complete_fit: float = 0.95  # chance of completing, with / without the skill
    complete_miss: float = 0.8
    # --- residents' satisfaction: 1..5 stars
    rating_base: float = 3.7
    rating_fit: float = 0.9  # added when the volunteer had the skill
    rating_per_day_waited: float = 0.25  # taken off per day from approval to done
    rating_noise: float = 0.6
    confirm_share: float = 0.85  # residents who confirm and rate at all
    confirm_median_h: float = 5.0
    # --- staff
    review_median_h: float = 0.75  # staff review delay, within office hours
    office_from: int = 8
    office_to: int = 20
    verify_median_h: float = 8.0
    staff_close_days: float = 7.0  # a wish nobody took is closed (expired) after this
    tail_days: float = 10.0  # run on without new wishes, so late wishes can finish


def load_wishes(path: Path = WISHES_FILE) -> list[tuple[str, str]]:
    """(category, text) pairs of the shipped labelled wishes."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or "\t" not in line:
            continue
        category, text = line.split("\t", 1)
        rows.append((category.strip(), text.strip()))
    return rows
