"""Small talk gets a warm short answer through the real bot; thanks reach the volunteer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Wish
from bot.demo.stage import Person, Stage
from bot.services.tasks import claims, lifecycle
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer
from tests.e2e.test_loop import approve, file_wish

pytestmark = pytest.mark.e2e


async def _wish_count(stage: Stage) -> int:
    async with stage.app.sessions() as session:
        return int(await session.scalar(select(func.count(Wish.id))) or 0)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("谢谢你们啦！", "不客气"),
        ("你好", "小助手"),
        ("谢谢", "不客气"),
        ("👍", "心意"),
        ("🙏🙏🙏😭😭😭", "心意"),
        ("'; DROP TABLE wishes; --", "没看懂"),
        ("好的", "随时写给我"),
    ],
)
async def test_small_talk_is_answered_not_filed(stage: Stage, text: str, answer: str) -> None:
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    reply = await ann.say(text, expect=answer)
    for unwanted in ("核对", "哪一类", "多写几个字"):
        assert unwanted not in reply.text
    assert reply.buttons == []
    assert await _wish_count(stage) == 0


async def test_thanks_inside_a_wish_is_still_a_wish(stage: Stage) -> None:
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await ann.say("谢谢，能帮我修一下水龙头吗", expect="核对")


async def test_small_talk_before_registering_offers_the_welcome(stage: Stage) -> None:
    bob = stage.person(102, "老李")
    reply = await bob.say("你好", expect="小助手")
    assert "登记" in reply.text and reply.buttons


async def test_thanks_after_a_finished_task_reach_its_volunteer_once(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    wish_id = await file_wish(stage, ann_uid, "厨房水管漏水了，周六上午有人能来修吗")
    await approve(stage, admin_uid, wish_id)
    async with stage.app.sessions() as session:
        await claims.claim(stage.app, session, wish_id, li_uid)
    async with stage.app.sessions() as session:
        await lifecycle.mark_done(stage.app, session, wish_id, li_uid, None, None)
    mark = stage.fake.mark()
    reply = await ann.say("谢谢你们啦！", expect="转告")
    assert f"#{wish_id}" in reply.text
    thanked = await li.expect("道谢", after=mark)
    assert f"#{wish_id}" in thanked.text and "张阿姨" not in thanked.text
    # A second thanks is answered but not passed on again.
    mark = stage.fake.mark()
    await ann.say("太感谢了", expect="转告")
    assert not [m for m in stage.fake.messages(li.id) if m.marker > mark and "道谢" in m.text]
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None and wish.status == "done"
    assert await _wish_count(stage) == 1
