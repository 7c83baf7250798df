"""每季一评, 每年一奖 and the duty rule, computed from facts written straight to the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.errors import UserError
from bot.services.reports import evaluations
from bot.services.reports.evaluations import EvaluationRow, rank_rows
from tests.points.test_ledger import queued
from tests.reports.conftest import World, at

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_quarter_is_calendar_quarter_in_community_timezone() -> None:
    q4 = evaluations.quarter_period(SHANGHAI, 2026, 4)
    assert q4.start == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert q4.end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert q4.label == "2026Q4"
    assert evaluations.quarter_period(SHANGHAI, 2026, 1).end == q4.start - timedelta(days=183)
    assert evaluations.month_period(SHANGHAI, 2026, 12).end == datetime(
        2026, 12, 31, 16, tzinfo=UTC
    )
    assert evaluations.year_period(SHANGHAI, 2026).label == "2026"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026Q4", (2026, 4)),
        ("2026q3", (2026, 3)),
        (" 2025-Q1 ", (2025, 1)),
        (None, (2026, 3)),
        ("", (2026, 3)),
    ],
)
def test_parse_quarter(text: str | None, expected: tuple[int, int]) -> None:
    assert evaluations.parse_quarter(text, NOW, SHANGHAI) == expected


def test_parse_quarter_defaults_to_last_year_q4_in_january() -> None:
    early = datetime(2027, 1, 3, tzinfo=UTC)
    assert evaluations.parse_quarter(None, early, SHANGHAI) == (2026, 4)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2026Q5", "reports.quarter_usage"),
        ("Q4", "reports.quarter_usage"),
        ("2027Q1", "reports.period_future"),
    ],
)
def test_parse_quarter_refuses(text: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        evaluations.parse_quarter(text, NOW, SHANGHAI)
    assert err.value.key == key


def test_parse_month_and_year() -> None:
    assert evaluations.parse_month(None, NOW, SHANGHAI) == (2026, 11)
    assert evaluations.parse_month("2026-3", NOW, SHANGHAI) == (2026, 3)
    assert evaluations.parse_month("2026年10月", NOW, SHANGHAI) == (2026, 10)
    assert evaluations.parse_year(None, NOW, SHANGHAI) == 2025
    assert evaluations.parse_year("2026", NOW, SHANGHAI) == 2026
    for bad in ("2026-13", "11"):
        with pytest.raises(UserError):
            evaluations.parse_month(bad, NOW, SHANGHAI)
    with pytest.raises(UserError):
        evaluations.parse_year("2027", NOW, SHANGHAI)


def _row(
    name: str, community: str, points: int, services: int, rating: float | None = None
) -> EvaluationRow:
    return EvaluationRow(
        user_id=0,
        name=name,
        unit="u",
        branch="b",
        community=community,
        grid_code="G",
        grid_name="g",
        services=services,
        points=points,
        rating_avg=rating,
        ratings=0,
        response_hours=None,
        rank=0,
    )


def test_ranks_are_per_community_and_equal_figures_share_a_rank() -> None:
    ranked = rank_rows(
        [
            _row("丙", "A", 10, 2),
            _row("甲", "A", 30, 1),
            _row("乙", "A", 10, 2, rating=5.0),  # same figures: same rank, the rating orders them
            _row("丁", "A", 10, 1),
            _row("戊", "B", 0, 0),
        ]
    )
    assert [(r.community, r.name, r.rank) for r in ranked] == [
        ("A", "甲", 1),
        ("A", "乙", 2),
        ("A", "丙", 2),
        ("A", "丁", 4),
        ("B", "戊", 1),
    ]


async def build_quarter(world: World) -> dict[str, int]:
    """The facts of 2026Q4 (and around it) that every evaluation test reads."""
    w = world
    li = await w.volunteer("李明", "G01", unit="区供电公司")
    wang = await w.volunteer("王芳", "G02", unit="区人民医院", branch="医院党委")
    zhao = await w.volunteer("赵强", "G01", unit="区供电公司")
    sun = await w.volunteer("孙丽", "G02", unit="区人民医院", branch="医院党委")
    chen = await w.volunteer("陈红", "H01", unit="区人民医院", branch="医院党委")
    await w.volunteer("周到", "G01", status="pending")  # not approved, no activity: left out

    # 李明: two services in Q4 (one closed, one verified: no closed_at yet), one in Q3.
    await w.service(
        li,
        opened=at(2026, 10, 5),
        claim_after=timedelta(hours=2),
        status="closed",
        closed=True,
        rating=5,
    )
    await w.service(li, opened=at(2026, 11, 2), claim_after=timedelta(hours=4), rating=4)
    await w.service(li, opened=at(2026, 9, 10), status="closed", closed=True, rating=1)
    # Claimed in Q4 but not done yet: counts for the response time only.
    await w.service(
        li, opened=at(2026, 11, 10), claim_after=timedelta(minutes=30), status="in_progress"
    )
    await w.entry(li, 20, when=at(2026, 10, 6))
    await w.entry(li, 10, when=at(2026, 11, 4))
    await w.entry(li, 8, source_type="declaration", when=at(2026, 11, 5))  # a service too
    await w.entry(li, -3, kind="adjust", source_type="adjustment", when=at(2026, 11, 6))
    await w.entry(li, -50, kind="hold", source_type="redemption", when=at(2026, 11, 7))
    await w.entry(li, -50, kind="spend", source_type="redemption", when=at(2026, 11, 8))
    # 00:30 on 1 October in Shanghai is in Q4; 23:30 on 30 September is not.
    await w.entry(li, 7, when=datetime(2026, 9, 30, 16, 30, tzinfo=UTC))
    await w.entry(li, 100, when=datetime(2026, 9, 30, 15, 30, tzinfo=UTC))

    # 王芳: an event and a confirmed (not yet verified) wish, opened straight to "offered".
    await w.entry(wang, 30, source_type="event", when=at(2026, 12, 1))
    await w.service(
        wang,
        opened=at(2026, 12, 2),
        claim_after=timedelta(hours=6),
        status="confirmed",
        opened_as="offered",
    )
    # A cancelled task is no service.
    await w.service(wang, opened=at(2026, 12, 3), status="cancelled", closed=True)

    await w.service(chen, opened=at(2026, 10, 20), status="closed", closed=True)
    return {"li": li, "wang": wang, "zhao": zhao, "sun": sun, "chen": chen}


async def test_quarterly_evaluation_figures(both: World) -> None:
    ids = await build_quarter(both)
    async with both.app.sessions() as session:
        rows = await evaluations.quarterly_evaluation(both.app, session, 2026, 4)
    got = [
        (
            r.name,
            r.community,
            r.rank,
            r.services,
            r.points,
            r.rating_avg,
            r.ratings,
            r.response_hours,
        )
        for r in rows
    ]
    assert got == [
        ("李明", "幸福社区", 1, 3, 42, 4.5, 2, 2.0),  # median of 2 h, 4 h, 0.5 h
        ("王芳", "幸福社区", 2, 2, 30, None, 0, 3.5),  # the cancelled task was claimed too (1 h)
        ("孙丽", "幸福社区", 3, 0, 0, None, 0, None),
        ("赵强", "幸福社区", 3, 0, 0, None, 0, None),
        ("陈红", "河西社区", 1, 1, 0, None, 0, 1.0),
    ]
    li = rows[0]
    assert (li.user_id, li.unit, li.branch, li.grid_code, li.grid_name) == (
        ids["li"],
        "区供电公司",
        "供电公司第三党支部",
        "G01",
        "第一网格",
    )


async def test_quarter_without_anything_lists_volunteers_with_zeros(world: World) -> None:
    await build_quarter(world)
    async with world.app.sessions() as session:
        rows = await evaluations.quarterly_evaluation(world.app, session, 2026, 2)
    assert {r.name for r in rows} == {"李明", "王芳", "赵强", "孙丽", "陈红"}
    assert all(r.services == 0 and r.points == 0 and r.rank == 1 for r in rows)


async def test_grouped_by_unit_keeps_community_ranks(world: World) -> None:
    await build_quarter(world)
    async with world.app.sessions() as session:
        rows = await evaluations.quarterly_evaluation(world.app, session, 2026, 4)
    units = evaluations.by_unit(rows)
    assert list(units) == ["区人民医院", "区供电公司"]
    assert [(r.name, r.rank) for r in units["区人民医院"]] == [
        ("王芳", 2),
        ("孙丽", 3),
        ("陈红", 1),
    ]
    assert [(r.name, r.rank) for r in units["区供电公司"]] == [("李明", 1), ("赵强", 3)]


async def test_annual_awards_follow_the_rule(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await build_quarter(world)
    async with world.app.sessions() as session:
        default = await evaluations.annual_awards(world.app, session, 2026)
    # Default rule: at least 3 services. 李明 has 4 in the year (the Q3 one counts).
    assert [(r.name, r.services, r.points, r.rank) for r in default] == [("李明", 4, 142, 1)]
    from bot.config import ReportsConfig

    rule = ReportsConfig(awards_min_services=1, awards_top_n=1)
    world.app.settings = world.app.settings.model_copy(update={"reports": rule})
    async with world.app.sessions() as session:
        top1 = await evaluations.annual_awards(world.app, session, 2026)
    assert [(r.community, r.name) for r in top1] == [("幸福社区", "李明"), ("河西社区", "陈红")]


def test_setting_reads_the_reports_section(world: World) -> None:
    from bot.config import ReportsConfig

    assert evaluations.setting(world.app, "awards_top_n") == 10
    world.app.settings = world.app.settings.model_copy(
        update={"reports": ReportsConfig(awards_top_n=3)}
    )
    assert evaluations.setting(world.app, "awards_top_n") == 3
    assert evaluations.setting(world.app, "duty_reminder_month") == 10


async def test_duty_reminders_once_per_year(world: World) -> None:
    ids = await build_quarter(world)
    reminded = await evaluations.duty_reminders(world.app, 2026)
    assert reminded == sorted([ids["zhao"], ids["sun"]])
    assert await queued(world.app, "reports.duty_reminder") == [
        (uid, {"year": 2026, "community": "幸福社区"}) for uid in reminded
    ]
    # Run again (a restart, a second process): nobody is reminded twice.
    assert await evaluations.duty_reminders(world.app, 2026) == []
    # A member approved later in the year is reminded on the next run; a new year starts over.
    late = await world.volunteer("钱多", "G02")
    assert await evaluations.duty_reminders(world.app, 2026) == [late]
    assert len(await queued(world.app, "reports.duty_reminder")) == 3
    world.clock.now = at(2027, 10, 1)
    assert len(await evaluations.duty_reminders(world.app, 2027)) == 6  # nobody served in 2027


async def test_concurrent_duty_runs_remind_each_member_once(both: World) -> None:
    await build_quarter(both)
    first, second = await asyncio.gather(
        evaluations.duty_reminders(both.app, 2026), evaluations.duty_reminders(both.app, 2026)
    )
    assert len(first) + len(second) == 2
    sent = await queued(both.app, "reports.duty_reminder")
    assert len(sent) == 2 and len({uid for uid, _ in sent}) == 2
