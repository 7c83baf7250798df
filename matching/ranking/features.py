"""The component formulas both ranking paths share: text folding, specialty fit, the
availability decay of a flexible wish, fairness and reliability."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from matching.ranking.model import FloatArray, IntArray

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

_SEPARATORS = re.compile(r"[\s,，、;；/|]+")


def normalize_text(text: str) -> str:
    """NFKC, lower case, letters and digits only: full-width forms and punctuation vanish."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def specialty_words(specialties: str) -> list[str]:
    tokens = (normalize_text(t) for t in _SEPARATORS.split(specialties))
    return list(dict.fromkeys(t for t in tokens if t))


def specialty_fit(normalized_wish_text: str, specialties: str) -> float:
    """0..1: best partial match of any of the volunteer's specialty words inside the wish text."""
    best = 0.0
    for token in specialty_words(specialties):
        score = fuzz.partial_ratio(token, normalized_wish_text, score_cutoff=SPECIALTY_CUTOFF)
        best = max(best, score)
    return best / 100.0


def slot_decays(slot_hours_until: Sequence[float]) -> list[float]:
    """Availability credit of each slot for a flexible wish (computed once, used by both paths)."""
    return [math.exp(-max(float(h), 0.0) / AVAILABILITY_DECAY_HOURS) for h in slot_hours_until]


def fairness_score(recent_offers: Any, points_percentile: Any) -> Any:
    """Works on scalars and arrays alike, with the same operation order."""
    offers = 1.0 / (1.0 + recent_offers)
    return FAIRNESS_OFFERS_SHARE * offers + (1.0 - FAIRNESS_OFFERS_SHARE) * (
        1.0 - points_percentile
    )


def reliability_vector(completion: FloatArray, rating: FloatArray, declines: IntArray) -> Any:
    return (
        RELIABILITY_COMPLETION_SHARE * np.minimum(np.maximum(completion, 0.0), 1.0)
        + RELIABILITY_RATING_SHARE * np.minimum(np.maximum((rating - 1.0) / 4.0, 0.0), 1.0)
        + RELIABILITY_DECLINES_SHARE * (1.0 / (1.0 + declines))
    )


def reliability_scalar(completion: float, rating: float, declines: int) -> float:
    return (
        RELIABILITY_COMPLETION_SHARE * min(max(completion, 0.0), 1.0)
        + RELIABILITY_RATING_SHARE * min(max((rating - 1.0) / 4.0, 0.0), 1.0)
        + RELIABILITY_DECLINES_SHARE * (1.0 / (1.0 + declines))
    )
