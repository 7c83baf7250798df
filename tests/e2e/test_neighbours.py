"""Two neighbours report the same thing: staff see it on the card, merge in one tap, and both
residents hear when it is done."""

from __future__ import annotations

import pytest

from bot.db.models import Wish
from bot.demo.stage import Person, Stage
from bot.services.intake import dispatch, wishes
from bot.services.tasks import claims, lifecycle
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e


async def file_wish(stage: Stage, uid: int, text: str) -> int:
    async with stage.app.sessions() as session:
        draft = await wishes.draft_wish(stage.app, session, uid, text)
        return (await wishes.file_wish(stage.app, session, uid, draft)).id


async def wish_row(stage: Stage, wish_id: int) -> Wish:
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None
        return wish


async def test_neighbours_same_report_is_shown_merged_and_both_told(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    ann, bob = stage.person(101, "张阿姨"), stage.person(102, "刘大爷")
    ann_uid = await resident(stage, ann, building="8栋1单元")
    bob_uid = await resident(stage, bob, building="8栋2单元")
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    first = await file_wish(stage, ann_uid, "俺家楼道灯坏了好几天了，晚上黑咕隆咚的")
    clock.advance(hours=3)
    mark = stage.fake.mark()
    second = await file_wish(stage, bob_uid, "8栋2单元楼道的灯不亮了，麻烦来修一下")
    card = await admin.expect("不亮", after=mark)
    assert f"可能与 #{first} 重复（同楼栋）" in card.text
    assert f"🔗 合并到 #{first}" in card.button_texts()
    # A wish that is about something else gets no hint.
    mark = stage.fake.mark()
    other = await file_wish(stage, bob_uid, "厨房水管漏水了，周六上午有人能来修吗")
    other_card = await admin.expect("水管", after=mark)
    assert "重复" not in other_card.text and "合并到" not in " ".join(other_card.button_texts())
    # One tap merges the later wish into the earlier one.
    mark = stage.fake.mark()
    await admin.press(f"🔗 合并到 #{first}", message_id=card.message_id, expect="已合并")
    await bob.expect("合并", after=mark)
    merged = await wish_row(stage, second)
    assert merged.status == "merged" and merged.merged_into_id == first
    assert "不亮" in " ".join((await wish_row(stage, first)).details)
    assert (await wish_row(stage, other)).status == "submitted"
    # The earlier wish is done and verified: both residents are told.
    admin_uid = await user_id(stage, admin)
    async with stage.app.sessions() as session:
        await dispatch.approve(
            stage.app, session, admin_uid, first, difficulty="normal", deadline=None
        )
    async with stage.app.sessions() as session:
        await claims.claim(stage.app, session, first, li_uid)
    async with stage.app.sessions() as session:
        await lifecycle.mark_done(stage.app, session, first, li_uid, "换了灯泡", None)
    async with stage.app.sessions() as session:
        await lifecycle.confirm(stage.app, session, first, ann_uid, 5)
    mark = stage.fake.mark()
    async with stage.app.sessions() as session:
        await lifecycle.verify(stage.app, session, first, admin_uid)
    await ann.expect("办结", after=mark)
    told = await bob.expect(f"#{first} 已经办结", after=mark)
    assert f"#{second}" in told.text


async def test_a_neighbours_report_in_another_building_says_same_grid(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    ann, carl = stage.person(101, "张阿姨"), stage.person(103, "陈叔")
    ann_uid = await resident(stage, ann, building="8栋1单元")
    carl_uid = await resident(stage, carl, building="12栋3单元")
    first = await file_wish(stage, ann_uid, "单元门口的下水道堵了，臭得很")
    mark = stage.fake.mark()
    await file_wish(stage, carl_uid, "下水道又堵了，污水都冒出来了")
    card = await admin.expect("污水", after=mark)
    assert f"可能与 #{first} 重复（同网格）" in card.text
    # Outside the window it is no longer offered as a duplicate.
    clock.advance(hours=stage.app.settings.wishes.neighbour_window_hours + 1)
    mark = stage.fake.mark()
    await file_wish(stage, carl_uid, "下水道堵了，一直冒污水")
    late = await admin.expect("冒污水", after=mark)
    assert "重复" not in late.text
