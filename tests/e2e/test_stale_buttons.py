"""Old buttons do not act on a changed object: the card is redrawn to its current state."""

from __future__ import annotations

import pytest

from bot.db.models import Resident
from bot.demo.stage import Person, Stage
from bot.fakeapi.records import BotMessage
from bot.services.intake import wishes
from tests.e2e.seed import resident, user_id, volunteer
from tests.e2e.test_loop import approve, file_wish, wish_row

pytestmark = pytest.mark.e2e


async def _press_for_popup(stage: Stage, person: Person, message_id: int, text: str) -> str:
    query = await stage.fake.press(person.user, person.id, message_id, text=text)
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    answer = stage.fake.answer_for(query)
    assert answer is not None
    return answer.text or ""


def _message(stage: Stage, person: Person, message_id: int) -> BotMessage:
    return next(m for m in stage.fake.messages(person.id) if m.message_id == message_id)


async def test_an_old_welcome_says_already_registered(stage: Stage) -> None:
    ann = stage.person(101, "张阿姨")
    welcome = await ann.say("/start", expect="身份")
    uid = await resident(stage, ann)
    popup = await _press_for_popup(stage, ann, welcome.message_id, "我是居民")
    assert "已经登记过了" in popup
    await stage.fake.wait_for(lambda: _message(stage, ann, welcome.message_id).edited)
    buttons = _message(stage, ann, welcome.message_id).button_texts()
    assert not any("居民" in b for b in buttons) and any("志愿者" in b for b in buttons)
    assert not [m for m in ann.inbox() if "网格" in m.text]  # no second registration
    async with stage.app.sessions() as session:
        assert await session.get(Resident, uid) is not None


async def _claimed_card(stage: Stage, admin: Person) -> tuple[Person, Person, int, int, int]:
    """Ann's wish, claimed by Li through the bot: (ann, li, ann's id, wish id, Li's card)."""
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    li = stage.person(201, "李明")
    await volunteer(stage, li)
    wish_id = await file_wish(stage, ann_uid, "厨房水管漏水了，周六上午有人能来修吗")
    mark = stage.fake.mark()
    await approve(stage, admin_uid, wish_id)
    offer = await li.expect("适合您", after=mark)
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    card = await li.expect("8栋1单元", after=mark)
    assert "✅ 已完成" in card.button_texts()
    return ann, li, ann_uid, wish_id, card.message_id


async def test_a_task_card_is_redrawn_when_the_resident_cancels(
    stage: Stage, admin: Person
) -> None:
    _, li, ann_uid, wish_id, card_id = await _claimed_card(stage, admin)
    async with stage.app.sessions() as session:
        await wishes.cancel_wish(stage.app, session, ann_uid, wish_id)
    # Without pressing anything, Li's card loses its buttons and shows the new state.
    await stage.fake.wait_for(lambda: _message(stage, li, card_id).buttons == [])
    now = _message(stage, li, card_id)
    assert "已取消" in now.text and "8栋" not in now.text
    assert (await wish_row(stage, wish_id)).status == "cancelled"


async def test_a_second_copy_of_a_task_card_is_redrawn_when_pressed(
    stage: Stage, admin: Person
) -> None:
    _, li, _, wish_id, card_id = await _claimed_card(stage, admin)
    # Li opens the task again from /mytasks: a second card with the same buttons.
    await li.say("/mytasks", expect=f"#{wish_id}")
    await li.press(f"#{wish_id}", expect="8栋1单元")
    copy = li.last()
    assert copy.message_id != card_id and "✅ 已完成" in copy.button_texts()
    await li.press("✅ 已完成", message_id=card_id, expect="完成情况")
    await li.press("直接完成", expect="标记完成")
    # The old copy still shows 已完成 / 退回任务: pressing one redraws it instead of acting.
    popup = await _press_for_popup(stage, li, copy.message_id, "退回任务")
    assert "状态已经变了" in popup and "志愿者已完成" in popup
    await stage.fake.wait_for(lambda: _message(stage, li, copy.message_id).edited)
    now = _message(stage, li, copy.message_id)
    assert now.buttons == [] and "志愿者已完成" in now.text
    assert not [m for m in li.inbox() if "为什么要退回" in m.text]  # no release form
    assert (await wish_row(stage, wish_id)).status == "done"


async def test_a_claim_on_a_taken_offer_redraws_the_offer(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    li, wang = stage.person(201, "李明"), stage.person(202, "王刚")
    await volunteer(stage, li)
    await volunteer(stage, wang)
    wish_id = await file_wish(stage, ann_uid, "厨房水管漏水了，周六上午有人能来修吗")
    mark = stage.fake.mark()
    await approve(stage, admin_uid, wish_id)
    offer = await li.expect("适合您", after=mark)
    async with stage.app.sessions() as session:
        await wishes.cancel_wish(stage.app, session, ann_uid, wish_id)
    popup = await _press_for_popup(stage, li, offer.message_id, "我来接单")
    assert "已取消" in popup
    await stage.fake.wait_for(lambda: _message(stage, li, offer.message_id).buttons == [])
    assert (await wish_row(stage, wish_id)).volunteer_id is None


async def test_a_review_card_handled_elsewhere_is_redrawn(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    mark = stage.fake.mark()
    wish_id = await file_wish(stage, ann_uid, "家里的空调不制冷了，能来修一下吗")
    card = await admin.expect("空调", after=mark)
    assert "✅ 通过" in card.button_texts()
    await approve(stage, admin_uid, wish_id)  # a colleague approved it (in the bot or the web)
    # The card follows at once, with no press: its review buttons are gone.
    await stage.fake.wait_for(lambda: _message(stage, admin, card.message_id).edited)
    now = _message(stage, admin, card.message_id)
    assert "✅ 通过" not in now.button_texts()
    assert "待审核：" not in now.text and "已受理" in now.text  # no "new, to review" header
    assert not [m for m in admin.inbox() if "难度" in m.text]
