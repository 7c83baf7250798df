"""Each authorization hole of issue 9, reproduced through the real bot and a forged press.

Every test here failed on main before the policy (bot/tg/policy.py) was put in front of
the handlers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import EventSignup, Grid, Offer, Staff, User, Wish
from bot.demo.stage import Person, Stage
from bot.fakeapi.records import BotMessage, CallbackAnswer
from bot.i18n import Translator
from bot.services.intake import dispatch, wishes
from bot.services.outreach import events
from bot.services.outreach.events import EventDraft, Segment
from bot.services.tasks import claims, lifecycle
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e

GROUP = -100777
ZH = Translator("zh-CN")


async def admin_uid(stage: Stage, admin: Person) -> int:
    await admin.say("/start")
    return await user_id(stage, admin)


async def filed_and_approved(stage: Stage, staff_uid: int, resident_uid: int, text: str) -> int:
    async with stage.app.sessions() as session:
        draft = await wishes.draft_wish(stage.app, session, resident_uid, text)
        wish = await wishes.file_wish(stage.app, session, resident_uid, draft)
        wish_id = wish.id
    async with stage.app.sessions() as session:
        await dispatch.approve(
            stage.app, session, staff_uid, wish_id, difficulty="normal", deadline=None
        )
    return wish_id


async def wish_row(stage: Stage, wish_id: int) -> Wish:
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None
        return wish


async def link_group(stage: Stage, grid_code: str = "G02") -> None:
    stage.fake.group(GROUP, "第二网格联络群")
    async with stage.app.sessions() as session:
        grid = (await session.scalars(select(Grid).where(Grid.code == grid_code))).one()
        grid.group_chat_id = GROUP
        await session.commit()


async def answer(stage: Stage, query_id: str) -> CallbackAnswer:
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query_id) is not None, timeout=10)
    found = stage.fake.answer_for(query_id)
    assert found is not None
    return found


async def some_bot_message(person: Person) -> BotMessage:
    """Any bot message in the person's chat to press on (a forged press needs one)."""
    return await person.say("/help", expect=None)


async def test_volunteer_never_offered_cannot_claim_by_forged_data(
    stage: Stage, admin: Person
) -> None:
    staff = await admin_uid(stage, admin)
    ann = await resident(stage, stage.person(101, "张阿姨"), phone="13812345678")
    offered = stage.person(201, "李明")
    await volunteer(stage, offered)
    wish_id = await filed_and_approved(stage, staff, ann, "厨房水管漏水了，周六上午有人能来修吗")
    await offered.expect("适合您")
    # Registered after the offers went out, in another grid: never offered this wish.
    intruder = stage.person(202, "赵强")
    intruder_uid = await volunteer(stage, intruder, grid="G03")
    async with stage.app.sessions() as session:
        assert (
            await session.scalar(select(Offer.id).where(Offer.volunteer_id == intruder_uid)) is None
        )
    target = await some_bot_message(intruder)
    mark = len(stage.fake.messages(intruder.id))
    query = await stage.fake.forge_press(
        intruder.user, intruder.id, target.message_id, f"t:claim:{wish_id}:"
    )
    popup = await answer(stage, query)
    assert popup.show_alert
    await stage.fake.settle()
    row = await wish_row(stage, wish_id)
    assert row.volunteer_id is None and row.status in ("approved", "offered")
    texts = " ".join(m.text for m in stage.fake.messages(intruder.id)[mark:])
    assert "8栋" not in texts and "13812345678" not in texts


async def test_volunteer_of_the_area_claims_from_the_group_post(
    stage: Stage, admin: Person
) -> None:
    """The legitimate group claim still works (and one of another grid is refused)."""
    staff = await admin_uid(stage, admin)
    await link_group(stage)
    ann = await resident(stage, stage.person(101, "张阿姨"))
    far = stage.person(203, "孙丽")
    await volunteer(stage, far, grid="G03")
    wish_id = await filed_and_approved(stage, staff, ann, "楼道灯坏了，晚上看不见路")
    await stage.fake.wait_for(lambda: any(m.buttons for m in stage.fake.messages(GROUP)))
    post = stage.fake.messages(GROUP)[-1]
    query = await stage.fake.press(far.user, GROUP, post.message_id, data=f"t:claim:{wish_id}:")
    assert (await answer(stage, query)).show_alert
    assert (await wish_row(stage, wish_id)).volunteer_id is None
    near = stage.person(204, "周杰")
    near_uid = await volunteer(stage, near, grid="G02")
    query = await stage.fake.press(near.user, GROUP, post.message_id, data=f"t:claim:{wish_id}:")
    assert "接单成功" in ((await answer(stage, query)).text or "")
    assert (await wish_row(stage, wish_id)).volunteer_id == near_uid


@pytest.mark.parametrize(
    "data",
    [
        "del:0",
        "del:1",
        "t:nocmt:{id}:",
        "t:decl:{id}:",
        "t:when:{id}:",
        "t:done:{id}:",
        "t:rel:{id}:",
        "lang:en",
        "t:msg:{id}:",
        "t:disp:{id}:",
    ],
)
async def test_forged_presses_on_the_group_post_change_nothing(
    stage: Stage, admin: Person, data: str
) -> None:
    staff = await admin_uid(stage, admin)
    await link_group(stage)
    ann_person = stage.person(101, "张阿姨")
    ann = await resident(stage, ann_person)
    await volunteer(stage, stage.person(201, "李明"))
    wish_id = await filed_and_approved(stage, staff, ann, "楼道灯坏了，晚上看不见路")
    await stage.fake.wait_for(lambda: any(m.buttons for m in stage.fake.messages(GROUP)))
    await stage.fake.settle()
    post = stage.fake.messages(GROUP)[-1]
    before = [(m.message_id, m.text, m.edited) for m in stage.fake.messages(GROUP)]
    # The resident herself (registered, so every handler would run) and a stranger.
    for presser in (ann_person, stage.person(999, "路人")):
        query = await stage.fake.forge_press(
            presser.user, GROUP, post.message_id, data.format(id=wish_id)
        )
        assert (await answer(stage, query)).show_alert
    await stage.fake.settle()
    after = [(m.message_id, m.text, m.edited) for m in stage.fake.messages(GROUP)]
    assert after == before
    async with stage.app.sessions() as session:
        user = (await session.scalars(select(User).where(User.telegram_id == 101))).one()
        assert user.language == "zh-CN" and user.deleted_at is None


async def test_task_card_is_never_posted_in_the_group(stage: Stage, admin: Person) -> None:
    staff = await admin_uid(stage, admin)
    await link_group(stage)
    ann = await resident(stage, stage.person(101, "张阿姨"), building="8栋1单元")
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    wish_id = await filed_and_approved(stage, staff, ann, "楼道灯坏了，晚上看不见路")
    async with stage.app.sessions() as session:
        await claims.claim(stage.app, session, wish_id, li_uid)
    await stage.fake.settle()
    post = stage.fake.messages(GROUP)[-1]
    query = await stage.fake.forge_press(li.user, GROUP, post.message_id, f"t:open:{wish_id}:")
    await answer(stage, query)
    await stage.fake.settle()
    assert all("8栋" not in m.text for m in stage.fake.messages(GROUP))


async def grid_staff(stage: Stage, person: Person, grid_code: str) -> int:
    uid = await user_id(stage, person)
    async with stage.app.sessions() as session:
        grid = (await session.scalars(select(Grid).where(Grid.code == grid_code))).one()
        session.add(Staff(user_id=uid, scope="grid", grid_id=grid.id))
        await session.commit()
    return uid


@pytest.mark.parametrize("data", ["w:view:{id}:", "st:why:{id}"])
async def test_grid_staff_cannot_read_another_grids_wish(
    stage: Stage, admin: Person, data: str
) -> None:
    staff = await admin_uid(stage, admin)
    ann = await resident(stage, stage.person(101, "张阿姨"), grid="G02")
    await volunteer(stage, stage.person(201, "李明"))
    wish_id = await filed_and_approved(stage, staff, ann, "厨房水管漏水了，周六上午有人能来修吗")
    g01 = stage.person(301, "刘网格员")
    await grid_staff(stage, g01, "G01")
    target = await some_bot_message(g01)
    mark = stage.fake.mark()
    query = await stage.fake.forge_press(
        g01.user, g01.id, target.message_id, data.format(id=wish_id)
    )
    assert (await answer(stage, query)).show_alert
    await stage.fake.settle()
    texts = " ".join(m.text for m in stage.fake.messages(g01.id)[mark:])
    assert "水管" not in texts and f"#{wish_id}" not in texts and "李明" not in texts


async def test_out_of_range_number_is_refused_like_forged_data(stage: Stage, admin: Person) -> None:
    staff = await admin_uid(stage, admin)
    ann = await resident(stage, stage.person(101, "张阿姨"))
    async with stage.app.sessions() as session:
        draft = await wishes.draft_wish(stage.app, session, ann, "楼道灯坏了，晚上看不见路")
        wish_id = (await wishes.file_wish(stage.app, session, ann, draft)).id
    assert staff
    target = await some_bot_message(admin)
    for data in (f"w:apx:{wish_id}:normal-99999999", f"w:view:{10**30}:", "w:apx:x:normal-3"):
        query = await stage.fake.forge_press(admin.user, admin.id, target.message_id, data)
        popup = await answer(stage, query)
        assert popup.show_alert and popup.text != ZH("errors.unexpected")
    assert (await wish_row(stage, wish_id)).status == "submitted"


async def test_event_signup_from_a_group_only_from_that_events_post(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    staff = await admin_uid(stage, admin)
    await link_group(stage)
    ann = await resident(stage, stage.person(101, "张阿姨"))
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    await filed_and_approved(stage, staff, ann, "楼道灯坏了，晚上看不见路")
    await stage.fake.wait_for(lambda: any(m.buttons for m in stage.fake.messages(GROUP)))
    wish_post = stage.fake.messages(GROUP)[-1]
    starts = clock.now + timedelta(days=2)
    async with stage.app.sessions() as session:
        grid_id = (await session.scalars(select(Grid.id).where(Grid.code == "G03"))).one()
        event, _ = await events.create_event(
            stage.app,
            session,
            staff,
            EventDraft(
                title="社区环境清洁",
                description="",
                place="社区广场",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                slots=3,
                skills=(),
                points=5,
                signup_deadline=starts - timedelta(hours=1),
                segment=Segment("grid", grid_id=grid_id),
            ),
        )
    query = await stage.fake.forge_press(
        li.user, GROUP, wish_post.message_id, f"ev:join:{event.id}"
    )
    assert (await answer(stage, query)).show_alert
    await stage.fake.settle()
    async with stage.app.sessions() as session:
        signed = await session.scalar(select(EventSignup.id).where(EventSignup.user_id == li_uid))
    assert signed is None


async def test_command_for_another_bot_is_ignored(stage: Stage, admin: Person) -> None:
    await admin_uid(stage, admin)
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    mark = len(stage.fake.messages(ann.id))
    await stage.fake.send_text(ann.user, "/mywishes@other_bot")
    await stage.fake.settle()
    assert stage.fake.messages(ann.id)[mark:] == []


async def _done_task(stage: Stage, admin: Person) -> tuple[Person, int]:
    staff = await admin_uid(stage, admin)
    ann_person = stage.person(101, "张阿姨")
    ann = await resident(stage, ann_person)
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    wish_id = await filed_and_approved(stage, staff, ann, "楼道灯坏了，晚上看不见路")
    async with stage.app.sessions() as session:
        await claims.claim(stage.app, session, wish_id, li_uid)
    async with stage.app.sessions() as session:
        await lifecycle.mark_done(stage.app, session, wish_id, li_uid, "换好了", None)
    await ann_person.expect("打个分")
    return ann_person, wish_id


async def test_command_after_rating_is_not_the_comment(stage: Stage, admin: Person) -> None:
    ann, wish_id = await _done_task(stage, admin)
    await ann.press("⭐⭐⭐⭐⭐", expect="谢谢您的评价")
    listing = await ann.say("/mywishes", expect="#")
    assert f"#{wish_id}" in listing.text
    assert (await wish_row(stage, wish_id)).rating_comment is None


async def test_command_after_dispute_is_not_the_dispute(stage: Stage, admin: Person) -> None:
    ann, wish_id = await _done_task(stage, admin)
    await ann.press("有问题", expect=None)
    await ann.say("/mywishes", expect=f"#{wish_id}")
    row = await wish_row(stage, wish_id)
    assert row.status == "done"


async def test_grid_staff_cannot_ask_why_about_another_grids_wish(
    stage: Stage, admin: Person
) -> None:
    staff = await admin_uid(stage, admin)
    ann = await resident(stage, stage.person(101, "张阿姨"), grid="G02")
    await volunteer(stage, stage.person(201, "李明"))
    wish_id = await filed_and_approved(stage, staff, ann, "厨房水管漏水了，周六上午有人能来修吗")
    g01 = stage.person(301, "刘网格员")
    await grid_staff(stage, g01, "G01")
    reply = await g01.say(f"/why {wish_id}", expect=None)
    assert "李明" not in reply.text and reply.text == ZH("authz.denied")
    # Their own grid's staff (and community staff) still get the breakdown.
    full = await admin.say(f"/why {wish_id}", expect="李明")
    assert "李明" in full.text


async def test_command_addressed_to_this_bot_by_name_is_handled(
    stage: Stage, admin: Person
) -> None:
    await admin_uid(stage, admin)
    username = stage.fake.bot_user.username
    reply = await admin.say(f"/help@{username}", expect=None)
    assert reply.text == (await admin.say("/help", expect=None)).text
