"""The community simulator: deterministic for a seed, hand-checked on a tiny community, and
its figures (the shared outcome module) agree with a direct computation on its database."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import statistics
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.services.tasks import offers
from bot.simulate.engine import SimConfig, SimResult, simulate
from bot.simulate.model import CommunityModel
from matching import ranking

ORIGINAL_NEXT_ROUND = offers.next_round

TINY = SimConfig(
    days=2,
    residents=40,
    volunteers=8,
    grids=2,
    model=CommunityModel(wishes_per_resident_month=6, tail_days=4),
)

# Everyone says yes, can do anything, finishes, and rates 5 stars: the figures follow by hand.
CERTAIN = CommunityModel(
    accept_base=1.0,
    accept_skill_miss=1.0,
    accept_neighbour_grid=1.0,
    accept_other_grid=1.0,
    accept_per_active_task=1.0,
    accept_evening=1.0,
    complete_fit=1.0,
    complete_miss=1.0,
    confirm_share=1.0,
    rating_base=5.0,
    rating_fit=0.0,
    rating_per_day_waited=0.0,
    rating_noise=0.0,
    look_sigma=0.0,
    tail_days=5,
)
FIVE_WISHES = (  # local 09:00 to 13:00 on a Monday; rounds of a day: nobody times out
    (9.0, 0, "厨房水管漏水了，能来修一下吗"),
    (10.0, 1, "帮我去超市买点米和油，我腿脚不方便"),
    (11.0, 2, "家里电脑连不上网了，谁能帮我看看"),
    (12.0, 3, "楼道里的灯坏了好几天了"),
    (13.0, 4, "老人一个人在家，想找人陪他聊聊天"),
)
HAND = SimConfig(
    days=1,
    residents=5,
    volunteers=3,
    grids=1,
    offer_k=1,
    round_minutes=1440,
    model=CERTAIN,
    script=FIVE_WISHES,
)


def run(config: SimConfig) -> SimResult:
    return asyncio.run(simulate(config))


def _json(result: SimResult) -> dict[str, object]:
    out = result.as_dict()
    out.pop("cpu_s")
    return out


def test_same_seed_same_figures_twice() -> None:
    first, second = run(TINY), run(TINY)
    assert first.figures.wishes > 0
    assert _json(first) == _json(second)
    assert first.claim_hours == second.claim_hours
    assert _json(run(replace(TINY, seed=2))) != _json(first)  # the seed matters


@pytest.mark.parametrize("policy", ["matching", "groupchat", "random"])
def test_three_volunteers_five_wishes_by_hand(policy: str) -> None:
    r = run(replace(HAND, policy=policy))
    assert (offers.rank, offers.next_round) == (ranking.rank, ORIGINAL_NEXT_ROUND)  # restored
    f = r.figures
    # Five wishes, all approved, taken at the first look, done, rated five stars.
    assert (f.wishes, f.approved, f.claimed, f.done, f.finished) == (5, 5, 5, 5, 5)
    assert f.unserved_share == 0 and f.completion_share == 1
    assert f.satisfaction == 5 and f.satisfied_share == 1
    assert f.claimed_24h_share == 1
    assert sum(r.tasks_per_volunteer) == 5 and len(r.tasks_per_volunteer) == 3
    assert f.tasks_per_volunteer_max == max(r.tasks_per_volunteer) <= 3  # nobody above the cap
    if policy == "groupchat":
        # One post per wish reaches all three volunteers of the grid; no offers.
        assert (r.group_posts, r.offers_sent) == (5, 0)
        assert r.volunteer_notices_per_claim == 3
    else:
        # One offer per wish (K=1), accepted: one notice per claim, nothing in a group.
        assert (r.group_posts, r.offers_sent) == (0, 5)
        assert r.volunteer_notices_per_claim == 1


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_outcome_module_agrees_with_a_direct_computation(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    r = run(replace(TINY, database=f"sqlite+aiosqlite:///{db}"))
    con = sqlite3.connect(db)
    approved = dict(
        con.execute(
            "SELECT wish_id, min(at) FROM wish_events WHERE to_status='approved' GROUP BY wish_id"
        ).fetchall()
    )
    rows = con.execute(
        "SELECT id, status, claimed_at, done_at, volunteer_id, rating FROM wishes"
    ).fetchall()
    vols = [v for (v,) in con.execute("SELECT user_id FROM volunteers").fetchall()]
    con.close()
    waits = sorted(
        (_when(c) - _when(approved[i])).total_seconds() / 3600
        for i, _, c, _, _, _ in rows
        if c is not None and i in approved
    )
    finished = [w for w in rows if w[0] in approved and (w[3] or w[1] in ("closed", "expired"))]
    unserved = [w for w in finished if w[4] is None]
    ratings = [w[5] for w in rows if w[5] is not None]
    tasks = [sum(1 for w in rows if w[4] == v and w[3] is not None) for v in vols]
    mean = sum(tasks) / len(tasks)
    gini = sum(abs(a - b) for a in tasks for b in tasks) / (2 * len(tasks) ** 2 * mean)
    f = r.figures
    assert f.wishes == len(rows) > 5
    assert f.claim_median_h == pytest.approx(statistics.median(waits))
    assert f.claim_p90_h == pytest.approx(waits[math.ceil(0.9 * len(waits)) - 1])
    assert f.unserved_share == pytest.approx(len(unserved) / len(finished))
    assert f.satisfaction == pytest.approx(sum(ratings) / len(ratings))
    assert f.tasks_gini == pytest.approx(gini)
    assert f.tasks_per_volunteer_max == max(tasks)


def test_cli_json_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "simulate",
            "--days",
            "1",
            "--residents",
            "300",
            "--volunteers",
            "6",
            "--grids",
            "2",
            "--policy",
            "matching,groupchat",
            "--json",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.count('"policy"') for line in lines] == [1, 1]
    table = (out / "comparison.md").read_text(encoding="utf-8")
    assert "| policy | seed |" in table and "groupchat" in table
    assert (out / "time_to_claim.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "tasks_per_volunteer.png").stat().st_size > 1000
    assert (out / "comparison.csv").read_text(encoding="utf-8").startswith("policy,seed,")


def test_bad_sweep_is_refused_kindly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--sweep", "colour=1,2"])
    assert "sweep one of" in capsys.readouterr().err
