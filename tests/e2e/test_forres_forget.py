"""Forgetting 刘大爷 (no Telegram, so no /delete_me) through the real bot and the fake Bot API:
a grid worker files for him, a volunteer claims; staff forget the record: the volunteer is told
the wish is cancelled and can no longer see the phone, and no table holds anything of his."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Resident
from bot.demo.stage import Person, Stage
from bot.services.forres import forget
from tests.e2e.seed import volunteer
from tests.e2e.test_forres import grid_worker
from tests.e2e.test_privacy import every_value

pytestmark = pytest.mark.e2e

PHONE = "13800138000"
NAME, BUILDING = "刘大爷", "8栋2单元302"
WISH = "厨房水管漏水了，周六上午有人能来修吗"


async def test_staff_forget_a_record_the_holder_is_told_and_no_table_keeps_him(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    worker = stage.person(301, "刘网格员")
    worker_uid = await grid_worker(stage, worker, "G02")
    li = stage.person(201, "李明")
    await volunteer(stage, li)
    await worker.say("/forresident", expect="电话后四位")
    await worker.say(NAME, expect="没有找到")
    await worker.press("新建居民记录", expect="怎么称呼")
    await worker.say(NAME, expect="哪一栋")
    await worker.say(BUILDING, expect="联系电话")
    await worker.say(PHONE, expect="当面问")
    await worker.press("口头同意", expect="的心愿")
    await worker.say(WISH, expect="请核对")
    mark = stage.fake.mark()
    await worker.press("确认提交", expect="已为刘大爷登记心愿 #")
    card = await worker.expect("漏水", after=mark)
    await worker.press("✅ 通过", message_id=card.message_id, expect="难度")
    await worker.press("一般", expect="期限")
    mark = stage.fake.mark()
    await worker.press("不限", expect="已通过")
    offer = await li.expect("适合您", after=mark)
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    details = await li.expect(BUILDING, after=mark)
    phone_button = next(b.data for row in details.buttons for b in row if "查看电话" in b.text)
    await stage.fake.settle()
    async with stage.app.sessions() as session:
        liu = (await session.scalars(select(Resident.user_id).where(Resident.phone == PHONE))).one()
    needles = [NAME, PHONE, BUILDING, WISH]
    before = await every_value(stage.app)
    assert all(any(n in v for _, _, v in before) for n in needles)

    # 刘大爷 asks the grid worker to be forgotten.
    mark = stage.fake.mark()
    async with stage.app.sessions() as session:
        done = await forget.forget_record(stage.app, session, worker_uid, liu)
    assert (done.already, done.cancelled) == (False, 1)
    await li.expect("居民已撤销心愿", after=mark)
    # His card is redrawn without the phone button; a stale press of it shows no phone.
    redrawn = next(m for m in li.inbox() if m.message_id == details.message_id)
    assert not any("查看电话" in text for text in redrawn.button_texts())
    query = await stage.fake.forge_press(li.user, li.id, details.message_id, phone_button)
    await stage.fake.answered(query, timeout=10)
    popup = stage.fake.answer_for(query)
    assert popup is not None and PHONE not in (popup.text or "")
    await stage.fake.settle()
    leaks = [
        (table, column, value[:60], needle)
        for needle in needles
        for table, column, value in await every_value(stage.app)
        if needle in value
    ]
    assert leaks == []
