"""The suggestion loop's services: file, answer, fix with owner and due date (reminded and
alerted like 吹哨), fixed, declined, the resident's satisfaction, scopes, figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Suggestion, SuggestionEvent, Timer
from bot.scheduler.timers import fire_due
from bot.services.errors import UserError
from bot.services.reports.evaluations import month_period
from bot.services.suggestions import figures, loop
from tests.events.conftest import World
from tests.suggestions.conftest import add_resident


async def test_from_received_to_fixed_with_satisfaction(any_db_world: World) -> None:
    w = any_db_world
    ann = await add_resident(w)
    grid_staff = await w.staff("刘网格员", grid="G01")
    other_grid = await w.staff("孙网格员", grid="G02")
    async with w.app.sessions() as session:
        s = await loop.file_suggestion(w.app, session, ann, "建议小区多装几个路灯，晚上太黑了")
    assert s.status == "received"
    assert ("suggest.new" in w.notifier.kinds(grid_staff)) and not w.notifier.kinds(other_grid)
    async with w.app.sessions() as session:
        with pytest.raises(UserError):  # another grid's staff: not found
            await loop.answer(w.app, session, other_grid, s.id, "收到")
        assert [q.id for q in await loop.queue(session, grid_staff)] == [s.id]
        assert await loop.queue(session, other_grid) == []
        owners = await loop.owners(session, grid_staff, s.id)
    assert owners[0][0] == grid_staff and other_grid not in [o for o, _ in owners]
    async with w.app.sessions() as session:
        fixing = await loop.start_fix(w.app, session, grid_staff, s.id, grid_staff, 7)
    assert fixing.status == "fixing" and fixing.owner_id == grid_staff
    assert fixing.due_at == w.clock.now + timedelta(days=7)
    assert w.notifier.kinds(ann) == ["suggest.fixing"]
    async with w.app.sessions() as session:
        done = await loop.mark_fixed(w.app, session, grid_staff, s.id, "已在5栋前加装两盏路灯")
    assert done.status == "fixed" and done.answer == "已在5栋前加装两盏路灯"
    assert w.notifier.kinds(ann) == ["suggest.fixing", "suggest.fixed"]
    async with w.app.sessions() as session:
        assert await session.scalar(select(Timer.id).where(Timer.status == "pending")) is None
        rated = await loop.rate(w.app, session, ann, s.id, True)
    assert rated.satisfied is True
    async with w.app.sessions() as session:
        with pytest.raises(UserError) as err:  # a second press changes nothing
            await loop.rate(w.app, session, ann, s.id, False)
    assert err.value.key == "suggest.already_rated"
    async with w.app.sessions() as session:
        history = (
            await session.scalars(
                select(SuggestionEvent.to_status)
                .where(SuggestionEvent.suggestion_id == s.id)
                .order_by(SuggestionEvent.id)
            )
        ).all()
        month = month_period(w.app.settings.tz, 2026, 11)
        got = await figures.figures(session, month.start, month.end)
        g02 = await figures.figures(session, month.start, month.end, [w.grids["G02"]])
    assert history == ["received", "fixing", "fixed", "fixed"]  # the last: the verdict
    assert (got.received, got.answered, got.fixed, got.rated, got.satisfied) == (1, 1, 1, 1, 1)
    assert got.satisfaction == 1.0 and got.open_now == 0
    assert g02.received == 0 and g02.satisfaction is None


async def test_fix_reminded_before_and_alerted_after_the_due_date(world: World) -> None:
    w = world
    ann = await add_resident(w)
    owner = await w.staff("刘网格员", grid="G01")
    boss = await w.staff("王主任")
    async with w.app.sessions() as session:
        s = await loop.file_suggestion(w.app, session, ann, "楼道里乱堆杂物，应该整改")
    async with w.app.sessions() as session:
        await loop.start_fix(w.app, session, boss, s.id, owner, 3)
    assert w.notifier.kinds(owner)[-1] == "suggest.owner"
    w.clock.advance(days=2, hours=1)  # 24 h before the due date has passed
    assert await fire_due(w.app) == 1
    assert w.notifier.kinds(owner)[-1] == "suggest.reminder"
    w.clock.advance(days=1)
    assert await fire_due(w.app) == 1
    assert w.notifier.kinds(owner)[-1] == "suggest.overdue"
    assert await fire_due(w.app) == 0  # once


async def test_fixed_before_the_due_date_no_alert(world: World) -> None:
    w = world
    ann = await add_resident(w)
    staff = await w.staff()
    async with w.app.sessions() as session:
        s = await loop.file_suggestion(w.app, session, ann, "建议增设电动车充电桩")
    async with w.app.sessions() as session:
        await loop.start_fix(w.app, session, staff, s.id, staff, 3)
    async with w.app.sessions() as session:
        await loop.mark_fixed(w.app, session, staff, s.id, "已加装充电桩")
    before = list(w.notifier.sent)
    w.clock.advance(days=5)
    await fire_due(w.app)
    assert w.notifier.sent == before


async def test_declined_with_a_reason_and_unsatisfied_answer_tells_staff(world: World) -> None:
    w = world
    ann = await add_resident(w)
    staff = await w.staff("刘网格员", grid="G01")
    async with w.app.sessions() as session:
        one = await loop.file_suggestion(w.app, session, ann, "建议把广场改成停车场")
        two = await loop.file_suggestion(w.app, session, ann, "投诉广场舞太吵")
    async with w.app.sessions() as session:
        with pytest.raises(UserError):  # a reason is required
            await loop.decline(w.app, session, staff, one.id, " ")
        declined = await loop.decline(w.app, session, staff, one.id, "广场是消防通道，不能停车")
    assert declined.status == "declined" and declined.answer == "广场是消防通道，不能停车"
    async with w.app.sessions() as session:
        with pytest.raises(UserError) as err:  # declined is final
            await loop.answer(w.app, session, staff, one.id, "再看看")
        assert err.value.key == "suggest.already_moved"
        await loop.answer(w.app, session, staff, two.id, "已与舞队约定晚上八点半结束")
    async with w.app.sessions() as session:
        await loop.rate(w.app, session, ann, two.id, False)
    assert w.notifier.kinds(staff)[-1] == "suggest.unsatisfied"
    async with w.app.sessions() as session:
        row = await session.get(Suggestion, two.id)
        assert row is not None and row.satisfied is False


async def test_bad_input_changes_nothing(world: World) -> None:
    w = world
    ann = await add_resident(w)
    volunteer = await w.volunteer()
    async with w.app.sessions() as session:
        for text in ("", "好", "/start", "字" * 1001):
            with pytest.raises(UserError):
                await loop.file_suggestion(w.app, session, ann, text)
        with pytest.raises(UserError):  # not a resident
            await loop.file_suggestion(w.app, session, volunteer, "建议多装路灯")
        assert await session.scalar(select(Suggestion.id)) is None


async def test_at_most_five_waiting_for_an_answer(world: World) -> None:
    w = world
    ann = await add_resident(w)
    staff = await w.staff()
    ids = []
    for i in range(5):
        async with w.app.sessions() as session:
            ids.append((await loop.file_suggestion(w.app, session, ann, f"建议第{i}条改进")).id)
    async with w.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await loop.file_suggestion(w.app, session, ann, "建议第六条改进")
    assert err.value.key == "suggest.too_many"
    async with w.app.sessions() as session:
        await loop.answer(w.app, session, staff, ids[0], "收到，谢谢")
    async with w.app.sessions() as session:  # one answered: room for one more
        await loop.file_suggestion(w.app, session, ann, "建议第六条改进")
