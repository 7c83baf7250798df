"""Outcome figures against hand-computed fixtures (pure math) and the database loader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Grid, User, Volunteer, Wish, WishEvent
from bot.services.reports.outcome_math import WishRecord, gini, median, outcomes, percentile
from bot.services.reports.outcomes import outcome_figures

T0 = datetime(2026, 11, 2, 2, tzinfo=UTC)
H = timedelta(hours=1)


def rec(
    i: int,
    status: str,
    *,
    claim: float | None = None,
    done: float | None = None,
    vol: int | None = None,
    rating: int | None = None,
    approved: bool = True,
) -> WishRecord:
    return WishRecord(
        id=i,
        grid_id=1,
        category="repair",
        status=status,
        created_at=T0 - H,
        approved_at=T0 if approved else None,
        claimed_at=T0 + claim * H if claim is not None else None,
        done_at=T0 + done * H if done is not None else None,
        volunteer_id=vol,
        rating=rating,
    )


FIXTURE = [
    rec(1, "verified", claim=1, done=5, vol=10, rating=5),
    rec(2, "confirmed", claim=3, done=30, vol=10, rating=3),
    rec(3, "claimed", claim=30, vol=11),
    rec(4, "expired"),
    rec(5, "rejected", approved=False),
    rec(6, "done", claim=2, done=10, vol=12),
]


def test_outcomes_match_the_hand_computed_figures() -> None:
    o = outcomes(FIXTURE, pool=[10, 11, 12, 13])
    assert (o.wishes, o.approved, o.claimed, o.done, o.finished) == (6, 5, 4, 3, 4)
    # claims after 1, 3, 30, 2 h: median (2+3)/2, nearest-rank p90 = 4th of 4
    assert o.claim_median_h == 2.5 and o.claim_p90_h == 30
    assert o.done_median_h == 10 and o.done_p90_h == 30  # done after 5, 30, 10 h
    assert o.claimed_2h_share == pytest.approx(2 / 5)  # 1 h and exactly 2 h, of 5 approved
    assert o.claimed_24h_share == pytest.approx(3 / 5)
    assert o.unserved_share == pytest.approx(1 / 4)  # #4 expired with nobody, of 4 finished
    assert o.completion_share == pytest.approx(3 / 4)
    assert (o.ratings, o.satisfaction, o.satisfied_share) == (2, 4.0, 0.5)
    # tasks done: 10→2, 12→1, 11 and 13 none: Gini of [0,0,1,2] = 14 / (2·16·0.75)
    assert o.volunteers_serving == 2 and o.tasks_per_volunteer_max == 2
    assert o.tasks_gini == pytest.approx(7 / 12)
    # the same pool given as a number of idle members (what the database loader does)
    assert outcomes(FIXTURE, idle=2).tasks_gini == pytest.approx(7 / 12)


def test_an_empty_period_has_no_figures_rather_than_zeros() -> None:
    o = outcomes([], pool=[])
    assert o.wishes == o.approved == o.ratings == o.tasks_per_volunteer_max == 0
    for value in (
        o.claim_median_h,
        o.claim_p90_h,
        o.done_median_h,
        o.claimed_2h_share,
        o.unserved_share,
        o.completion_share,
        o.satisfaction,
        o.tasks_gini,
    ):
        assert value is None
    # volunteers but no task done: still no Gini (nothing to spread)
    assert outcomes([], pool=[1, 2]).tasks_gini is None


def test_small_helpers() -> None:
    assert median([3.0]) == 3.0 and median([]) is None
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([7], 0.9) == 7
    assert gini([5, 5, 5]) == 0
    assert gini([0, 0, 0, 9]) == pytest.approx(0.75)


async def test_loader_reads_approval_from_the_history_and_respects_scope(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as s:
            g1, g2 = (
                Grid(code="G01", name="一", community="c"),
                Grid(code="G02", name="二", community="c"),
            )
            resident, vol = User(telegram_id=1), User(telegram_id=2)
            s.add_all([g1, g2, resident, vol])
            await s.flush()
            s.add(
                Volunteer(
                    user_id=vol.id,
                    name="李",
                    grid_id=g1.id,
                    unit="u",
                    branch="b",
                    occupation="o",
                    status="approved",
                )
            )
            w1 = Wish(
                resident_id=resident.id,
                grid_id=g1.id,
                text="修水管",
                category="repair",
                status="verified",
                volunteer_id=vol.id,
                claimed_at=T0 + 3 * H,
                done_at=T0 + 7 * H,
                rating=4,
                created_at=T0 - H,
            )
            w2 = Wish(
                resident_id=resident.id,
                grid_id=g2.id,
                text="买菜",
                category="errands",
                status="expired",
                created_at=T0 - H,
            )
            old = Wish(
                resident_id=resident.id,
                grid_id=g1.id,
                text="旧的",
                category="repair",
                status="expired",
                created_at=T0 - 90 * 24 * H,
            )
            s.add_all([w1, w2, old])
            await s.flush()
            for w in (w1, w2, old):
                s.add(WishEvent(wish_id=w.id, from_status=None, to_status="submitted", at=T0 - H))
                s.add(WishEvent(wish_id=w.id, from_status="submitted", to_status="approved", at=T0))
            # a second approval (re-opened later) does not move the first one
            s.add(
                WishEvent(wish_id=w1.id, from_status="offered", to_status="approved", at=T0 + 2 * H)
            )
            await s.commit()
            start, end = T0 - 30 * 24 * H, T0 + 24 * H
            everything = await outcome_figures(s, start, end)
            assert (everything.wishes, everything.approved, everything.finished) == (2, 2, 2)
            assert everything.claim_median_h == 3 and everything.done_median_h == 7
            assert everything.unserved_share == 0.5 and everything.satisfaction == 4
            g2_only = await outcome_figures(s, start, end, [g2.id])
            assert (g2_only.wishes, g2_only.unserved_share, g2_only.claim_median_h) == (
                1,
                1.0,
                None,
            )
            nothing = await outcome_figures(s, T0 + 48 * H, T0 + 72 * H)
            assert nothing.wishes == 0 and nothing.satisfaction is None
    finally:
        await engine.dispose()
