"""召集人汇总 end to end: staff appoint a convenor; two members declare; the convenor gathers
and forwards them with a summary; staff reject one with a reason and approve the rest; the
members get their points once and the convenor hears the batch was verified."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.db.models import DeclarationBatch, LedgerEntry
from bot.demo.stage import Person, Stage
from tests.conftest import ManualClock
from tests.e2e.seed import volunteer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def cstage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    async with Stage(
        sqlite_url, admins=(9001,), clock=clock, points={"declarations_via_convenor": True}
    ) as s:
        yield s


async def _declare(person: Person, what: str) -> None:
    await person.say("/declare", expect="做了什么")
    await person.say(what, expect="什么时候")
    await person.say("11月18日上午", expect="补充")
    await person.press("跳过", expect="照片")
    await person.press("跳过", expect="核对")
    await person.press("提交申报", expect="已提交")


async def test_declaration_batch_through_a_convenor(cstage: Stage) -> None:
    stage = cstage
    admin = stage.person(9001, "王主任")
    await admin.say("/start")
    zhou, li, chen = (
        stage.person(i, n) for i, n in ((210, "周召集"), (211, "李明"), (212, "陈红"))
    )
    await volunteer(stage, zhou)
    li_uid, chen_uid = await volunteer(stage, li), await volunteer(stage, chen)
    # Staff appoint the convenor of the grid; a resident or a wrong id is refused kindly.
    await admin.say("/convenor", expect="还没有任命召集人")
    await admin.say("/convenor 没有这人 grid", expect="在职党员")
    await admin.say("/convenor 周召集", expect="用法")
    mark = stage.fake.mark()
    await admin.say("/convenor 周召集 grid", expect="已任命 周召集")
    await zhou.expect("召集人", after=mark)
    await li.say("/convene", expect="还不是召集人")
    # Two members declare: the declarations go to the convenor, not to staff.
    mark = stage.fake.mark()
    await _declare(li, "陪独居老人去医院复查，帮忙挂号取药")
    await _declare(chen, "帮楼道清理杂物")
    await zhou.expect("帮楼道清理杂物", after=mark)
    assert not [m for m in stage.fake.messages(admin.id) if "新的党员申报" in m.text]
    waiting = await zhou.say("/convene", expect="待汇总的申报 2 条")
    await zhou.press("写汇总意见", message_id=waiting.message_id, expect="汇总意见")
    await zhou.say("/nosuchcommand", expect="正在填写中")  # a command inside the form: a hint
    mark = stage.fake.mark()
    await zhou.say("已逐条核对，情况属实", expect="已转交社区核实")
    card = await admin.expect("召集人转来一批申报", after=mark)
    assert "已逐条核对" in card.text and "陪独居老人" in card.text and "帮楼道" in card.text
    # Staff reject Chen's with a reason, then approve all that is left.
    assert "❌ #2" in card.button_texts()  # 陈红's declaration is the second
    await admin.press("❌ #2", message_id=card.message_id, expect="原因")
    mark = stage.fake.mark()
    await admin.say("时间对不上，请补充", expect="已退回申报 #2")
    await chen.expect("时间对不上", after=mark)
    listed = await admin.say("/batches", expect="汇总 #")
    mark = stage.fake.mark()
    await admin.press("全部通过", message_id=listed.message_id, expect="状态：已核实")
    told = await li.expect("已通过核实", after=mark)
    assert "10 分" in told.text
    await zhou.expect("已核实", after=mark)
    # A double tap on "approve all" is answered again and changes nothing.
    again = await stage.fake.forge_press(admin.user, admin.id, listed.message_id, "cvb:all:1:0")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(again) is not None)
    assert "汇总 #1 已全部处理" in (stage.fake.answer_for(again).text or "")  # type: ignore[union-attr]
    await admin.say("/batches", expect="没有待核实")
    async with stage.app.sessions() as session:
        batch = (await session.scalars(select(DeclarationBatch))).one()
        assert batch.status == "verified"
        entries = list(await session.execute(select(LedgerEntry.user_id, LedgerEntry.amount)))
    assert sorted(entries) == [(li_uid, 10)] and chen_uid not in {u for u, _ in entries}
