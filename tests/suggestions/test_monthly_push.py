"""Last month's figures pushed on the month's first working day: once, scoped, extensible."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.db.models.delivery import OutboxMessage
from bot.scheduler.jobs import calendar_jobs, monthly_figures
from bot.services.reports import monthly_push
from bot.services.suggestions import loop
from tests.events.conftest import World
from tests.suggestions.conftest import add_resident

# 2026-12-01 is a Tuesday (a working day); 09:30 in Shanghai.
FIRST_WORKING_DAY = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


async def _rows(world: World) -> list[OutboxMessage]:
    async with world.app.sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.batch_key == "monthly:2026-11")
                .order_by(OutboxMessage.user_id)
            )
        )


def _lines(row: OutboxMessage) -> dict[str, dict[str, Any]]:
    return dict(row.params["lines"])


async def test_pushed_once_on_the_first_working_day_scoped_by_grid(world: World) -> None:
    boss = await world.staff("王主任")
    g1 = await world.staff("刘网格员", grid="G01")
    g2 = await world.staff("孙网格员", grid="G02")
    ann = await add_resident(world, grid="G01")
    bob = await add_resident(world, "钱大爷", grid="G02")
    async with world.app.sessions() as session:  # November: three suggestions, one fixed
        one = await loop.file_suggestion(world.app, session, ann, "建议多装路灯")
        await loop.file_suggestion(world.app, session, ann, "建议增设充电桩")
        await loop.file_suggestion(world.app, session, bob, "投诉广场舞太吵")
    async with world.app.sessions() as session:
        await loop.start_fix(world.app, session, g1, one.id, g1, 3)
    async with world.app.sessions() as session:
        await loop.mark_fixed(world.app, session, g1, one.id, "已加装")
    async with world.app.sessions() as session:
        await loop.rate(world.app, session, ann, one.id, True)
    world.at(FIRST_WORKING_DAY)
    assert await monthly_figures(world.app) == 3
    assert await monthly_figures(world.app) == 0  # a re-run adds nobody
    await world.staff("新来的")
    world.at(datetime(2026, 12, 2, 1, 30, tzinfo=UTC))
    assert await monthly_figures(world.app) == 0  # the next days: sent already this month
    rows = {r.user_id: r for r in await _rows(world)}
    assert set(rows) == {boss, g1, g2}
    assert {r.kind for r in rows.values()} == {"monthly.figures"}
    community = _lines(rows[boss])["monthly.suggestions"]
    assert (community["received"], community["fixed"], community["satisfaction"]) == (3, 1, "100%")
    mine = _lines(rows[g1])["monthly.suggestions"]
    theirs = _lines(rows[g2])["monthly.suggestions"]
    assert (mine["received"], mine["open"]) == (2, 1)
    assert (theirs["received"], theirs["fixed"], theirs["satisfaction"]) == (1, 0, "—")
    assert rows[boss].params["period"] == "2026-11"
    assert "monthly.rates_none" in _lines(rows[boss])  # no roster imported
    assert "monthly.events_none" in _lines(rows[boss])


async def test_another_module_adds_a_section(world: World) -> None:
    await world.staff()

    @monthly_push.section(order=99)
    async def patrols(app: Any, session: Any, period: Any, grids: Any) -> list[Any]:
        return [("monthly.events_none", {"marker": period.label})]

    try:
        world.at(FIRST_WORKING_DAY)
        assert await monthly_figures(world.app) == 1
        (row,) = await _rows(world)
        assert row.params["lines"][-1] == ["monthly.events_none", {"marker": "2026-11"}]
    finally:
        del monthly_push.SECTIONS["patrols"]


def test_the_calendar_job_looks_on_the_first_days_of_each_month() -> None:
    from bot.config import Settings

    (job,) = [j for j in calendar_jobs(Settings()) if j.name == "monthly_figures"]
    assert job.cron == {"day": "1-12", "hour": "9", "minute": "30"}


async def test_not_before_the_first_working_day_and_a_missed_one_is_caught_up(
    world: World,
) -> None:
    await world.staff()
    world.at(datetime(2026, 10, 5, 1, 30, tzinfo=UTC))  # National Day week: not yet
    assert await monthly_figures(world.app) == 0
    world.at(datetime(2026, 10, 9, 1, 30, tzinfo=UTC))  # the 8th was missed (the bot was down)
    assert await monthly_figures(world.app) == 1
    async with world.app.sessions() as session:
        keys = set(await session.scalars(select(OutboxMessage.batch_key)))
    assert keys == {"monthly:2026-09"}
