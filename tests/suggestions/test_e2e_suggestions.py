"""End to end through the fake Bot API: a resident's suggestion to 已整改 and their verdict."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Suggestion
from bot.demo.stage import Person, Stage
from bot.scheduler.timers import fire_due
from tests.conftest import ManualClock
from tests.e2e.seed import resident

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin(stage: Stage) -> Person:
    return stage.person(9001, "王主任")


async def test_suggestion_from_resident_to_fixed_with_satisfaction(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    # The bot reads this as a suggestion and asks; the resident makes it one.
    choice = await ann.say("建议小区5栋前面多装几个路灯，晚上太黑了", expect="建议或意见")
    assert "📝 提建议" in choice.button_texts()
    mark = stage.fake.mark()
    await ann.press("📝 提建议", message_id=choice.message_id, expect="已收到您的建议")
    card = await admin.expect("新的居民建议", after=mark)
    assert "路灯" in card.text and "已收到" in card.text
    # Staff: the queue lists it; the fix gets an owner and a due date.
    queue = await admin.say("/suggestions", expect="待处理的居民建议")
    assert "路灯" in queue.text
    await admin.press("🔧 整改", message_id=card.message_id, expect="由谁负责")
    await admin.press("王主任", expect="整改期限")
    mark = stage.fake.mark()
    due = await admin.press("7 天内", expect="已进入整改")
    assert due is not None
    told = await ann.expect("已进入整改", after=mark)
    assert "完成后会通知您" in told.text
    async with stage.app.sessions() as session:
        row = (await session.scalars(select(Suggestion))).one()
        assert row.status == "fixing" and row.owner_id is not None
        first_due = row.due_at
    # The same due button again (a double tap): refused kindly, nothing changes.
    mark = stage.fake.mark()
    data = f"sg:due:{row.id}:{row.owner_id}-14"
    query = await stage.fake.forge_press(admin.user, admin.id, due.message_id, data)
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    assert "状态已经变了" in (stage.fake.answer_for(query).text or "")  # type: ignore[union-attr]
    async with stage.app.sessions() as session:
        row = (await session.scalars(select(Suggestion))).one()
        assert row.due_at == first_due
    assert stage.fake.messages(ann.id)[-1].message_id == told.message_id
    # Fixed: staff say what was done; the resident is told and asked.
    await admin.press("✅ 已整改", message_id=card.message_id, expect="整改了什么")
    mark = stage.fake.mark()
    await admin.say("已在5栋前加装两盏路灯", expect="已标记为已整改")
    fixed = await ann.expect("已整改", after=mark)
    assert "加装两盏路灯" in fixed.text and "😊 满意" in fixed.button_texts()
    await ann.press("😊 满意", message_id=fixed.message_id, expect="已闭环")
    async with stage.app.sessions() as session:
        row = (await session.scalars(select(Suggestion))).one()
        assert (row.status, row.satisfied) == ("fixed", True)
    # Pressed again (an old card): nothing changes, a kind word.
    query = await stage.fake.forge_press(ann.user, ann.id, fixed.message_id, f"sg:uns:{row.id}:")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    assert "已经评价过" in (stage.fake.answer_for(query).text or "")  # type: ignore[union-attr]
    assert await fire_due(stage.app) == 0  # the fix's timers were dropped with the fix
    # The first card's "fixed" button, pressed again: no prompt, a kind word.
    query = await stage.fake.press(admin.user, admin.id, card.message_id, text="✅ 已整改")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    assert "状态已经变了" in (stage.fake.answer_for(query).text or "")  # type: ignore[union-attr]
    queue = await admin.say("/suggestions", expect="暂时没有")


async def test_suggest_command_and_a_request_stays_a_wish(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    ann = stage.person(102, "钱大爷")
    await resident(stage, ann)
    await ann.say("/suggest", expect="请写下您的建议")
    await ann.say("投诉：楼下广场舞每天晚上太吵了", expect="已收到您的建议")
    # A plain request is still a wish: no suggestion question.
    reply = await ann.say("厨房水管漏水了，周六上午有人能来修吗")
    assert "建议或意见" not in reply.text
    # Choosing "a wish" on a suggestion-like text goes on to the wish form.
    choice = await ann.say("建议把楼道路灯修一下，老是不亮", expect="建议或意见")
    await ann.press("🙋 不，我需要帮忙（心愿）", message_id=choice.message_id, expect="请核对")


async def test_monthly_figures_reach_staff_once_on_the_first_working_day(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    from datetime import UTC, datetime

    from bot.scheduler.jobs import monthly_figures

    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await ann.say("/suggest 建议小区多装几个路灯", expect="已收到您的建议")
    clock.now = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 1 December, 09:30
    mark = stage.fake.mark()
    assert await monthly_figures(stage.app) == 1
    assert await monthly_figures(stage.app) == 0  # the job runs again: nothing more
    pushed = await admin.expect("2026-11 月度数据", after=mark, timeout=15)
    assert "居民建议：收到 1 条" in pushed.text and "报到率" in pushed.text
    await stage.fake.settle()
    assert sum("月度数据" in m.text for m in stage.fake.messages(admin.id)) == 1
