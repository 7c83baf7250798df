"""/delete_me in the middle of a task: the other side is told and the wish is not stranded.

Before, erasure alone left the volunteer holding a task whose resident was gone (no name, no
phone, nobody to confirm), and a wish waiting on a volunteer who had left.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Wish
from bot.demo.stage import Person, Stage
from tests.e2e.seed import resident, volunteer

ANN_ID, LI_ID, WANG_ID = 7101, 7102, 7103


async def _claimed(stage: Stage, admin: Person) -> tuple[Person, Person, Person, int]:
    await admin.say("/start")
    ann = stage.person(ANN_ID, "张阿姨")
    li, wang = stage.person(LI_ID, "李明"), stage.person(WANG_ID, "王刚")
    await resident(stage, ann)
    await volunteer(stage, li)
    await volunteer(stage, wang)
    await ann.say("厨房水管漏水，想找人帮忙修一下", expect="核对")
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿")
    review = await admin.expect("水管漏水", after=mark)
    await admin.press("✅ 通过", message_id=review.message_id, expect="难度")
    await admin.press("一般", expect="期限")
    mark = stage.fake.mark()
    await admin.press("不限", expect="已通过")
    offer = await li.expect("适合您", after=mark)
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    await stage.fake.settle()
    async with stage.app.sessions() as session:
        wish_id = await session.scalar(select(Wish.id).order_by(Wish.id.desc()).limit(1))
    assert wish_id is not None
    return ann, li, wang, wish_id


async def _status(stage: Stage, wish_id: int) -> tuple[str, int | None]:
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None
        return wish.status, wish.volunteer_id


async def test_a_resident_leaving_cancels_her_wish_and_the_volunteer_is_told(
    stage: Stage, admin: Person
) -> None:
    ann, li, _, wish_id = await _claimed(stage, admin)
    await ann.say("/delete_me", expect="确定要删除")
    mark = stage.fake.mark()
    await ann.press("确定删除", expect="已删除")
    await li.expect("撤销", after=mark)
    assert (await _status(stage, wish_id))[0] == "cancelled"


async def test_a_volunteer_leaving_gives_his_task_back_to_the_offers(
    stage: Stage, admin: Person
) -> None:
    ann, li, _, wish_id = await _claimed(stage, admin)
    await li.say("/delete_me", expect="确定要删除")
    mark = stage.fake.mark()
    await li.press("确定删除", expect="已删除")
    await ann.expect("另找", after=mark)
    status, holder = await _status(stage, wish_id)
    assert status in ("offered", "approved") and holder is None
