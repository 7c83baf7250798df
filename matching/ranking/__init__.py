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

The package: `model` (inputs, outputs, component names), `features` (the shared component
formulas), `pool` (the columnar snapshot), `vectorised` (:func:`rank`) and `reference`
(:func:`rank_naive`, :func:`explain`). Import from the package itself: its names below are the
public API.
"""

from __future__ import annotations

from matching.ranking.features import normalize_text, specialty_fit
from matching.ranking.model import (
    COMPONENTS,
    ExplainResult,
    Ranked,
    VolunteerRecord,
    Weights,
    WishQuery,
)
from matching.ranking.pool import VolunteerPool
from matching.ranking.reference import explain, rank_naive
from matching.ranking.vectorised import rank

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
