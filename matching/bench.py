"""Matching benchmark: rank synthetic wishes against a synthetic district, vectorised vs naive.

Run alone with ``python -m matching.bench --volunteers 30000 --wishes 500 --seed 1``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from matching import synthetic
from matching.ranking import Ranked, VolunteerPool, Weights, WishQuery, rank, rank_naive

__all__ = ["MatchMismatchError", "run_match_bench"]

TOP_K = 10
NAIVE_SAMPLE = 30  # the naive loop is ~100x slower: time it on a sample only
SCORE_TOLERANCE = 1e-9

Ranker = Callable[[VolunteerPool, WishQuery, Weights, int], list[Ranked]]


class MatchMismatchError(RuntimeError):
    """rank and rank_naive disagree: the vectorised engine is wrong."""


def _timed(
    ranker: Ranker, pool: VolunteerPool, wishes: Sequence[WishQuery], weights: Weights
) -> tuple[list[float], list[list[Ranked]]]:
    durations_ms: list[float] = []
    results: list[list[Ranked]] = []
    for wish in wishes:
        started = time.perf_counter()
        results.append(ranker(pool, wish, weights, TOP_K))
        durations_ms.append((time.perf_counter() - started) * 1000.0)
    return durations_ms, results


def _check_agreement(wish_no: int, fast: list[Ranked], naive: list[Ranked]) -> None:
    fast_ids = [r.volunteer_id for r in fast]
    naive_ids = [r.volunteer_id for r in naive]
    if fast_ids != naive_ids:
        raise MatchMismatchError(f"wish #{wish_no}: rank {fast_ids} != rank_naive {naive_ids}")
    for a, b in zip(fast, naive, strict=True):
        if abs(a.score - b.score) > SCORE_TOLERANCE:
            raise MatchMismatchError(
                f"wish #{wish_no}, volunteer {a.volunteer_id}: score {a.score} != {b.score}"
            )


def _percentile(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 4)


def run_match_bench(volunteers: int, wishes: int, seed: int) -> dict[str, Any]:
    """Time ranking each wish against every volunteer (k=10); pool building is not timed.

    Raises MatchMismatchError if the vectorised and naive rankings differ on the sampled wishes.
    """
    pool = synthetic.district(volunteers, seed)
    queries = synthetic.wishes(wishes, seed + 1, volunteers=volunteers)
    weights = Weights()
    if queries:
        rank(pool, queries[0], weights, TOP_K)  # warm-up: first-call allocations, imports
    fast_ms, fast_results = _timed(rank, pool, queries, weights)
    sampled = queries[: min(wishes, NAIVE_SAMPLE)]
    naive_ms, naive_results = _timed(rank_naive, pool, sampled, weights)
    for wish_no, (fast, naive) in enumerate(zip(fast_results, naive_results, strict=False)):
        _check_agreement(wish_no, fast, naive)
    return {
        "volunteers": volunteers,
        "wishes": wishes,
        "p50_ms": _percentile(fast_ms, 50) if fast_ms else None,
        "p95_ms": _percentile(fast_ms, 95) if fast_ms else None,
        "naive_p50_ms": _percentile(naive_ms, 50) if naive_ms else None,
        "naive_p95_ms": _percentile(naive_ms, 95) if naive_ms else None,
        "naive_sampled": len(sampled),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=30_000)
    parser.add_argument("--wishes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(run_match_bench(args.volunteers, args.wishes, args.seed)))


if __name__ == "__main__":
    main()
