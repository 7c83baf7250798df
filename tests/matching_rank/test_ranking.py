"""Volunteer ranking: filters, component directions, tie-breaks, and vectorised == naive."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import bench, synthetic
from matching.ranking import (
    COMPONENTS,
    Ranked,
    VolunteerPool,
    VolunteerRecord,
    Weights,
    WishQuery,
    explain,
    rank,
    rank_naive,
    specialty_fit,
)

REPAIR, LEGAL = 0, 5
RESIDENT = 999_999
WEIGHTS = Weights()


def volunteer(id: int, **changes: Any) -> VolunteerRecord:
    """An ordinary, eligible volunteer in the wish's grid; tests change one thing at a time."""
    base = VolunteerRecord(
        id=id,
        skills=1 << REPAIR,
        specialties="",
        availability=0b1,
        grid=10,
        community=1,
        building="",
        active_tasks=0,
        max_tasks=2,
        recent_offers=0,
        points_year=10.0,
        services_total=3,
        completion_rate=0.9,
        rating_avg=4.5,
        declines_recent=0,
        served_this_year=True,
        user_id=100_000 + id,
    )
    return dataclasses.replace(base, **changes)


def wish(**changes: Any) -> WishQuery:
    base = WishQuery(
        category_index=REPAIR,
        text="厨房水管漏水了，周六上午有人能来修吗",
        slot_mask=0b1,
        slot_hours_until=(0.0, 5.0, 10.0),
        grid=10,
        community=1,
        building="3栋",
        resident_user_id=RESIDENT,
    )
    return dataclasses.replace(base, **changes)


def pool(*records: VolunteerRecord) -> VolunteerPool:
    return VolunteerPool.from_records(records)


def ids_of(ranked: list[Ranked]) -> list[int]:
    return [r.volunteer_id for r in ranked]


def assert_agree(fast: list[Ranked], naive: list[Ranked]) -> None:
    assert ids_of(fast) == ids_of(naive)
    for a, b in zip(fast, naive, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-9)
        assert a.breakdown == pytest.approx(b.breakdown, abs=1e-9)


def ranked_first(p: VolunteerPool, w: WishQuery | None = None, **kwargs: Any) -> list[int]:
    """Ids in rank order, checked against the naive implementation on the way."""
    w = w or wish()
    fast = rank(p, w, WEIGHTS, len(p), **kwargs)
    assert_agree(fast, rank_naive(p, w, WEIGHTS, len(p), **kwargs))
    return ids_of(fast)


# ---------------------------------------------------------------------------- hard filters


def test_the_residents_own_volunteer_account_is_not_offered_their_wish() -> None:
    p = pool(volunteer(1, user_id=RESIDENT), volunteer(2))
    assert ranked_first(p) == [2]
    assert explain(p, wish(), WEIGHTS, 1).reason == "own_wish"


def test_a_volunteer_at_capacity_is_excluded() -> None:
    p = pool(volunteer(1, active_tasks=2, max_tasks=2), volunteer(2, max_tasks=0), volunteer(3))
    assert ranked_first(p) == [3]
    assert explain(p, wish(), WEIGHTS, 1).reason == "full"
    assert explain(p, wish(), WEIGHTS, 2).reason == "full"


def test_volunteers_already_offered_or_declined_are_excluded() -> None:
    p = pool(volunteer(1), volunteer(2), volunteer(3))
    w = wish(exclude_ids=frozenset({1, 3}))
    assert ranked_first(p, w) == [2]
    assert explain(p, w, WEIGHTS, 3).reason == "excluded"


def test_only_allowed_grids_are_offered_when_an_offer_round_is_limited() -> None:
    p = pool(volunteer(1, grid=10), volunteer(2, grid=11), volunteer(3, grid=12))
    allowed = np.array([10, 11])
    assert ranked_first(p, allowed_grids=allowed) == [1, 2]
    assert explain(p, wish(), WEIGHTS, 3, allowed_grids=allowed).reason == "other_area"
    assert explain(p, wish(), WEIGHTS, 3).eligible  # no limit: eligible


def test_explain_reports_eligibility_and_the_same_breakdown_as_rank() -> None:
    p = pool(volunteer(1, specialties="水管 维修", building="3栋"), volunteer(2))
    [top, _] = rank(p, wish(), WEIGHTS, 2)
    why = explain(p, wish(), WEIGHTS, 1)
    assert why.eligible and why.reason is None
    assert (why.volunteer_id, why.score, why.breakdown) == (1, top.score, top.breakdown)
    assert list(why.breakdown) == list(COMPONENTS)
    with pytest.raises(KeyError):
        explain(p, wish(), WEIGHTS, 42)


# ---------------------------------------------------------------- component directions


def test_nearness_tiers_same_building_then_grid_then_community_then_elsewhere() -> None:
    p = pool(
        volunteer(1, grid=99, community=9),  # elsewhere
        volunteer(2, grid=11, community=1),  # same community
        volunteer(3, grid=10, building="5栋"),  # same grid
        volunteer(4, grid=10, building="3栋"),  # same building
        volunteer(5, grid=11, community=1, building="3栋"),  # a "3栋" in another grid
    )
    assert ranked_first(p) == [4, 3, 2, 5, 1]
    assert explain(p, wish(), WEIGHTS, 4).breakdown["nearness"] == WEIGHTS.same_building * 2.0


def test_unknown_building_never_counts_as_the_same_building() -> None:
    p = pool(volunteer(1, building=""), volunteer(2, building="3栋"))
    assert explain(p, wish(building=""), WEIGHTS, 1).breakdown == (
        explain(p, wish(building=""), WEIGHTS, 2).breakdown
    )
    assert ranked_first(p, wish(building="")) == [1, 2]  # equal scores: lower id first


def test_the_category_skill_ranks_first() -> None:
    p = pool(volunteer(1, skills=1 << LEGAL), volunteer(2, skills=1 << REPAIR | 1 << LEGAL))
    assert ranked_first(p) == [2, 1]
    assert ranked_first(p, wish(category_index=LEGAL)) == [1, 2]


def test_a_matching_specialty_beats_an_unrelated_one() -> None:
    p = pool(volunteer(1, specialties="书法 绘画"), volunteer(2, specialties="律师"))
    legal = wish(category_index=LEGAL, text="劳动合同纠纷，想咨询律师")
    assert ranked_first(p, legal) == [2, 1]
    assert explain(p, legal, WEIGHTS, 2).breakdown["specialty"] == WEIGHTS.specialty
    assert explain(p, legal, WEIGHTS, 1).breakdown["specialty"] == 0.0


def test_specialty_fit_normalises_and_ignores_noise() -> None:
    assert specialty_fit("劳动合同纠纷想咨询律师", "律师") == 1.0
    assert specialty_fit("wifipassword", "电脑 ＷｉＦｉ") == 1.0  # full-width folded by NFKC
    assert specialty_fit("厨房水管漏水了", "律师、会计") == 0.0
    assert specialty_fit("厨房水管漏水了", "") == 0.0
    assert specialty_fit("家里水电修理", "水电维修") == 0.75  # 3 of 4 characters in order
    assert specialty_fit("家里水管坏了", "水管维修") == 0.0  # half a word is below the cutoff


def test_availability_in_the_wishes_window_beats_none() -> None:
    p = pool(volunteer(1, availability=0b010), volunteer(2, availability=0b011))
    assert ranked_first(p, wish(slot_mask=0b001)) == [2, 1]
    assert ranked_first(p, wish(slot_mask=0b010)) == [1, 2]  # both free: lower id


def test_flexible_wishes_favour_whoever_is_free_soonest() -> None:
    p = pool(
        volunteer(1, availability=0b000),  # never free
        volunteer(2, availability=0b100),  # free in 10 h
        volunteer(3, availability=0b010),  # free in 5 h
        volunteer(4, availability=0b110),  # soonest of its slots: 5 h, same as 3
    )
    flexible = wish(slot_mask=0, slot_hours_until=(0.0, 5.0, 10.0))
    assert ranked_first(p, flexible) == [3, 4, 2, 1]
    assert explain(p, flexible, WEIGHTS, 1).breakdown["availability"] == 0.0


def test_lighter_load_ranks_higher() -> None:
    p = pool(volunteer(1, active_tasks=2, max_tasks=3), volunteer(2, active_tasks=0, max_tasks=3))
    assert ranked_first(p) == [2, 1]


def test_five_recent_offers_rank_below_an_otherwise_identical_volunteer_with_none() -> None:
    p = pool(volunteer(1, recent_offers=5), volunteer(2, recent_offers=0))
    assert ranked_first(p) == [2, 1]


def test_fewer_points_this_year_rank_higher() -> None:
    p = pool(volunteer(1, points_year=300.0), volunteer(2, points_year=0.0))
    assert ranked_first(p) == [2, 1]


def test_reliability_completion_rating_and_declines_each_count() -> None:
    reliable = volunteer(1)
    assert ranked_first(pool(volunteer(2, completion_rate=0.5), reliable)) == [1, 2]
    assert ranked_first(pool(volunteer(2, rating_avg=3.0), reliable)) == [1, 2]
    assert ranked_first(pool(volunteer(2, declines_recent=3), reliable)) == [1, 2]


def test_duty_volunteers_who_have_not_served_this_year_get_a_boost() -> None:
    p = pool(volunteer(1, served_this_year=True), volunteer(2, served_this_year=False))
    assert ranked_first(p) == [2, 1]
    assert explain(p, wish(), WEIGHTS, 2).breakdown["duty"] == WEIGHTS.duty


def test_newcomers_get_a_boost() -> None:
    p = pool(volunteer(1, services_total=4), volunteer(2, services_total=0))
    assert ranked_first(p) == [2, 1]
    assert explain(p, wish(), WEIGHTS, 2).breakdown["newcomer"] == WEIGHTS.newcomer


def test_a_zero_weight_switches_a_component_off() -> None:
    p = pool(volunteer(1, skills=0), volunteer(2))
    no_skill = Weights(skill=0.0)
    assert ids_of(rank(p, wish(), no_skill, 2)) == [1, 2]  # tie: lower id first


def test_components_are_normalised_so_weights_bound_the_score() -> None:
    p = synthetic.district(500, seed=3)
    for w in synthetic.wishes(10, seed=4, volunteers=500):
        for r in rank(p, w, WEIGHTS, 20):
            for name in COMPONENTS:
                assert 0.0 <= r.breakdown[name] <= getattr(WEIGHTS, name)
            assert r.score == pytest.approx(sum(r.breakdown.values()), abs=1e-12)


# ----------------------------------------------------------------------- top-k and ties


def test_ties_break_to_the_lower_id_even_at_the_k_boundary() -> None:
    p = pool(*(volunteer(i) for i in (50, 7, 31, 2, 19, 8)))
    assert ids_of(rank(p, wish(), WEIGHTS, 3)) == [2, 7, 8]
    assert ids_of(rank_naive(p, wish(), WEIGHTS, 3)) == [2, 7, 8]


def test_k_larger_than_the_eligible_set_returns_everyone_eligible_and_k_zero_nobody() -> None:
    p = pool(volunteer(1), volunteer(2, active_tasks=2))
    assert ids_of(rank(p, wish(), WEIGHTS, 10)) == [1]
    assert rank(p, wish(), WEIGHTS, 0) == []
    assert rank(pool(), wish(), WEIGHTS, 5) == []
    assert rank_naive(pool(), wish(), WEIGHTS, 5) == []


# ------------------------------------------------------------------------ the pool itself


def test_pool_round_trips_records_and_is_a_read_only_snapshot() -> None:
    records = [volunteer(1, building="3栋", specialties="律师"), volunteer(2, skills=1 << 40)]
    p = pool(*records)
    assert p.to_records() == records
    assert len(p) == 2
    with pytest.raises(ValueError, match="read-only"):
        p.active_tasks[0] = 5


def test_pool_rejects_ragged_columns_and_duplicate_ids() -> None:
    p = pool(volunteer(1), volunteer(2))
    with pytest.raises(ValueError, match="grid"):
        dataclasses.replace(p, grid=np.array([1]))
    with pytest.raises(ValueError, match="unique"):
        pool(volunteer(1), volunteer(1))


def test_wish_query_rejects_bits_beyond_64() -> None:
    with pytest.raises(ValueError, match="category_index"):
        wish(category_index=64)
    with pytest.raises(ValueError, match="slot_mask"):
        wish(slot_mask=1 << 64)


# --------------------------------------------------------------- vectorised == naive


def test_rank_agrees_with_naive_on_a_synthetic_district() -> None:
    p = synthetic.district(2000, seed=11)
    for w in synthetic.wishes(15, seed=12, volunteers=2000):
        assert_agree(rank(p, w, WEIGHTS, 25), rank_naive(p, w, WEIGHTS, 25))
        near = np.array([w.grid, w.grid + 1, w.grid + 2])
        assert_agree(
            rank(p, w, WEIGHTS, 25, allowed_grids=near),
            rank_naive(p, w, WEIGHTS, 25, allowed_grids=near),
        )


SPECIALTIES = ["", "律师", "水电维修 家电", "水管、管道疏通", "电脑 手机使用", "英语辅导"]
TEXTS = ["厨房水管漏水了", "想咨询律师", "教老人用手机", "", "孩子英语作业"]
small = st.integers(min_value=0, max_value=3)
unit = st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0])  # few values: many exact ties

records = st.builds(
    VolunteerRecord,
    id=st.integers(min_value=1, max_value=10_000),
    skills=st.integers(min_value=0, max_value=7),
    specialties=st.sampled_from(SPECIALTIES),
    availability=st.integers(min_value=0, max_value=7),
    grid=small,
    community=st.integers(min_value=0, max_value=1),
    building=st.sampled_from(["", "1栋", "2栋"]),
    active_tasks=small,
    max_tasks=small,
    recent_offers=small,
    points_year=st.sampled_from([0.0, 5.0, 12.5, 40.0]),
    services_total=small,
    completion_rate=unit,
    rating_avg=st.sampled_from([1.0, 3.0, 4.5, 5.0]),
    declines_recent=small,
    served_this_year=st.booleans(),
    user_id=st.integers(min_value=1, max_value=6),
)
wishes = st.builds(
    WishQuery,
    category_index=st.integers(min_value=0, max_value=3),
    text=st.sampled_from(TEXTS),
    slot_mask=st.integers(min_value=0, max_value=7),
    slot_hours_until=st.lists(
        st.floats(min_value=0, max_value=200, allow_nan=False), min_size=3, max_size=3
    ),
    grid=small,
    community=st.integers(min_value=0, max_value=1),
    building=st.sampled_from(["", "1栋", "2栋"]),
    resident_user_id=st.integers(min_value=1, max_value=6),
    exclude_ids=st.frozensets(st.integers(min_value=1, max_value=10_000), max_size=3),
)
weights = st.builds(
    Weights,
    **{
        name: st.floats(min_value=0, max_value=5, allow_nan=False)
        for name in (*COMPONENTS, "same_building", "same_grid", "same_community", "elsewhere")
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(records, max_size=40, unique_by=lambda r: r.id),
    wishes,
    weights,
    st.integers(min_value=1, max_value=12),
    st.none() | st.lists(small, max_size=3),
)
def test_rank_and_rank_naive_agree_on_random_pools(
    volunteers: list[VolunteerRecord],
    w: WishQuery,
    wt: Weights,
    k: int,
    allowed: list[int] | None,
) -> None:
    p = VolunteerPool.from_records(volunteers)
    grids = None if allowed is None else np.array(allowed, dtype=np.int64)
    fast = rank(p, w, wt, k, allowed_grids=grids)
    naive = rank_naive(p, w, wt, k, allowed_grids=grids)
    assert_agree(fast, naive)
    eligible = [v.id for v in volunteers if explain(p, w, wt, v.id, allowed_grids=grids).eligible]
    assert len(fast) == min(k, len(eligible))
    assert set(ids_of(fast)) <= set(eligible)


# ----------------------------------------------------------------------------- benchmark


def test_a_small_bench_run_returns_the_contract_keys() -> None:
    result = bench.run_match_bench(volunteers=2000, wishes=20, seed=1)
    assert {"volunteers", "wishes", "p50_ms", "p95_ms", "naive_p95_ms", "naive_sampled"} <= set(
        result
    )
    assert (result["volunteers"], result["wishes"], result["naive_sampled"]) == (2000, 20, 20)
    assert 0 < result["p50_ms"] <= result["p95_ms"]
    assert result["naive_p95_ms"] > result["p95_ms"]


def test_the_bench_refuses_to_report_when_naive_and_vectorised_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def reversed_naive(*args: Any, **kwargs: Any) -> list[Ranked]:
        return rank_naive(*args, **kwargs)[::-1]

    monkeypatch.setattr(bench, "rank_naive", reversed_naive)
    with pytest.raises(bench.MatchMismatchError):
        bench.run_match_bench(volunteers=300, wishes=3, seed=2)
