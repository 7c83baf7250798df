"""党群接单 end to end: a resident signs up as a 群众志愿者, staff approve, she claims a wish,
finishes it, staff verify and she earns points; the rates and evaluations leave her out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import LedgerEntry, Volunteer, Wish
from bot.demo.stage import Person, Stage
from bot.services.intake import dispatch, wishes
from bot.services.reports import evaluations, kinds
from tests.conftest import ManualClock
from tests.e2e.conftest import register_resident
from tests.e2e.seed import resident, user_id

pytestmark = pytest.mark.e2e


async def test_resident_volunteer_registers_claims_and_earns_points(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann, phone="13812345678")
    mei = stage.person(105, "赵梅")
    await register_resident(mei)
    # A resident signs up to help; no unit or party branch is asked.
    await mei.say("/helper", expect="群众志愿者")
    await mei.say("赵梅", expect="帮邻居做哪些事")
    await mei.press("家居维修")
    await mei.press("完成", expect="有空")
    await mei.press("周六上午")
    await mei.press("完成", expect="核对")
    mark = stage.fake.mark()
    await mei.press("提交", expect="审核通过后")
    card = await admin.expect("群众志愿者", after=mark)
    assert "赵梅" in card.text
    await admin.press("✅ 通过", message_id=card.message_id, expect="已通过")
    await mei.expect("通过了")
    mei_uid = await user_id(stage, mei)
    async with stage.app.sessions() as session:
        row = await session.get(Volunteer, mei_uid)
        assert row is not None and row.kind == "resident" and row.status == "approved"
    # Asking again is refused kindly.
    await mei.say("/helper", expect="已经登记过")
    # A wish is offered to her like to any volunteer; she claims and finishes it.
    async with stage.app.sessions() as session:
        ann_uid = await user_id(stage, ann)
        draft = await wishes.draft_wish(
            stage.app, session, ann_uid, "厨房水管漏水了，周六上午能来修吗"
        )
        wish_id = (await wishes.file_wish(stage.app, session, ann_uid, draft)).id
    mark = stage.fake.mark()
    async with stage.app.sessions() as session:
        await dispatch.approve(
            stage.app, session, admin_uid, wish_id, difficulty="normal", deadline=None
        )
    offer = await mei.expect("适合您", after=mark)
    mark = stage.fake.mark()
    await mei.press("我来接单", message_id=offer.message_id, expect="接单成功")
    details = await mei.expect("8栋1单元", after=mark)
    await mei.press("✅ 已完成", message_id=details.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await mei.say("换了水管接头", expect="标记完成")
    ask = await ann.expect("打个分", after=mark)
    mark = stage.fake.mark()
    await ann.press("⭐⭐⭐⭐⭐", message_id=ask.message_id, expect="谢谢您的评价")
    verify_card = await admin.expect("请核实", after=mark)
    mark = stage.fake.mark()
    await admin.press("✅ 核实通过", message_id=verify_card.message_id, expect="已核实")
    await mei.expect("社区已核实", after=mark)
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None and wish.status == "closed" and wish.volunteer_id == mei_uid
        earned = await session.scalar(
            select(LedgerEntry.amount).where(LedgerEntry.user_id == mei_uid)
        )
        assert earned is not None and earned > 0
        # The reports: not a party evaluation, but in the outcome figures by kind.
        now = stage.app.now().astimezone(stage.app.settings.tz)
        period = evaluations.month_period(stage.app.settings.tz, now.year, now.month)
        rows = await evaluations.evaluate(stage.app, session, period)
        assert mei_uid not in {r.user_id for r in rows}
        figures = await kinds.figures_by_kind(session, period)
        assert figures["resident"].approved == 1 and figures["resident"].services == 1
        assert figures["resident"].points == earned
        assert figures["member"].services == 0
    # Staff see her in /rates, apart from the members' rates.
    reply = await admin.say("/rates", expect="群众志愿者")
    assert "1 人" in reply.text
    stats = await admin.say("/stats", expect="近 30 天")
    assert "在职党员 0 次，群众志愿者 1 次（群众志愿者 1 人）" in stats.text
