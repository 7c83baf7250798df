"""Events end to end: the real bot, the fake Bot API server, the delivery engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Grid
from bot.db.models.events import EventSignup
from bot.db.models.points import LedgerEntry
from bot.demo.stage import Person, Stage
from bot.services.outreach import events, signups
from bot.services.outreach.events import EventDraft, EventView, Segment
from tests.conftest import ManualClock
from tests.e2e.seed import user_id, volunteer
from tests.events.test_qr import decode_qr

pytestmark = pytest.mark.e2e
ADMIN = 9001
GROUP = -100777


async def _grid_id(stage: Stage, code: str) -> int:
    async with stage.app.sessions() as session:
        grid_id = await session.scalar(select(Grid.id).where(Grid.code == code))
        assert grid_id is not None
        return grid_id


async def _event(stage: Stage, clock: ManualClock, admin_uid: int, **changes: Any) -> EventView:
    starts = clock.now + timedelta(days=2)
    values: dict[str, Any] = {
        "title": "社区环境清洁",
        "description": "",
        "place": "社区广场",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "slots": 2,
        "skills": (),
        "points": 5,
        "signup_deadline": starts - timedelta(hours=1),
        "segment": Segment("grid", grid_id=await _grid_id(stage, "G02")),
    }
    values.update(changes)
    async with stage.app.sessions() as session:
        event, _ = await events.create_event(stage.app, session, admin_uid, EventDraft(**values))
    return event


async def _answer(stage: Stage, query_id: str) -> Any:
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query_id) is not None, timeout=10)
    return stage.fake.answer_for(query_id)


async def _group_says(stage: Stage, person: Person, text: str) -> int:
    mark = stage.fake.mark()
    await stage.fake.send_text(person.user, text, chat_id=GROUP)
    return mark


async def test_staff_link_a_group_publish_an_event_and_volunteers_sign_up(
    stage: Stage, clock: ManualClock
) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    li, wang = stage.person(201, "李明"), stage.person(202, "王刚")
    li_uid = await volunteer(stage, li, grid="G02")
    await volunteer(stage, wang, grid="G02")
    stage.fake.group(GROUP, "第二网格联络群", creator=admin.user)
    # Ordinary chatter and a non-staff /linkgroup: no link; chatter gets no answer at all.
    mark = await _group_says(stage, li, "大家晚上好")
    await _group_says(stage, li, "/linkgroup G02")
    refused = await stage.fake.expect(GROUP, "工作人员", after=mark)
    assert "绑定" in refused.text
    await _group_says(stage, admin, "/linkgroup G02")
    await stage.fake.expect(GROUP, "联络群")
    await stage.fake.settle()
    assert len(stage.fake.messages(GROUP)) == 2  # the refusal and the confirmation only
    # The /newevent form, typed the way staff type.
    await admin.say("/newevent", expect="活动名称")
    await admin.say("楼道清洁", expect="介绍")
    await admin.press("跳过", expect="地点")
    await admin.say("7栋楼下", expect="时间")
    await admin.say("下周五", expect="没看懂")
    await admin.say("11月22日 9:00-11:30", expect="多少人")
    await admin.say("很多", expect="数字")
    await admin.say("2", expect="服务技能")
    await admin.press("环境整治")
    await admin.press("完成", expect="积分")
    await admin.press("5", expect="报名截止")
    await admin.press("开始前1天", expect="发给哪些")
    await admin.press("某个网格的志愿者", expect="哪个网格")
    preview = await admin.press("第二网格", expect="请核对")
    assert preview is not None and "2 位志愿者、1 个联络群" in preview.text
    await admin.press("发布", expect="已发布")
    # Invitations reach both volunteers and the group, through the delivery engine.
    invite = await li.expect("志愿服务招募", timeout=15)
    assert "楼道清洁" in invite.text and "7栋楼下" in invite.text
    assert "我要报名" in " ".join(invite.button_texts())
    post = await stage.fake.expect(GROUP, "志愿服务招募", after=mark, timeout=15)
    await wang.expect("志愿服务招募", timeout=15)
    # Wang signs up from the group: a toast only he sees, details in private.
    query = await stage.fake.press(wang.user, GROUP, post.message_id, text="我要报名")
    toast = await _answer(stage, query)
    assert "报名成功" in toast.text
    card = await wang.expect("您已报名")
    assert "取消报名" in " ".join(card.button_texts())
    # Li signs up in private; the card turns into his state.
    await li.press("我要报名", expect="您已报名")
    await stage.fake.settle()
    group_texts = " ".join(m.text for m in stage.fake.messages(GROUP))
    assert "李明" not in group_texts and "王刚" not in group_texts
    # A resident pressing in the group is asked to register; nothing changes.
    ann = stage.person(301, "张阿姨")
    query = await stage.fake.press(ann.user, GROUP, post.message_id, text="我要报名")
    assert "登记" in (await _answer(stage, query)).text
    # /events lists it with his state; its button opens the card with "Cancel my place".
    listing = await li.say("/events", expect="楼道清洁")
    assert "您已报名" in listing.text
    card = await li.press(listing.button_texts()[0], expect="楼道清洁")
    assert card is not None and "取消报名" in card.button_texts()
    async with stage.app.sessions() as session:
        rows = (await session.scalars(select(EventSignup))).all()
    assert sorted(r.user_id for r in rows if r.status == "signed") == sorted(
        [li_uid, await user_id(stage, wang)]
    )


async def test_the_last_place_raced_by_20_volunteers(stage: Stage, clock: ManualClock) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    people = [stage.person(1000 + n, f"志愿者{n}") for n in range(20)]
    for person in people:
        await volunteer(stage, person, grid="G02")
    event = await _event(stage, clock, admin_uid, slots=1)
    for person in people:
        await person.expect("志愿服务招募", timeout=20)
    queries = await asyncio.gather(
        *(stage.fake.press(p.user, p.id, None, text="我要报名") for p in people)
    )
    answers = [await _answer(stage, q) for q in queries]
    signed = [p for p, a in zip(people, answers, strict=True) if "报名成功" in a.text]
    waiting = [p for p, a in zip(people, answers, strict=True) if "候补" in a.text]
    assert len(signed) == 1 and len(waiting) == 19
    async with stage.app.sessions() as session:
        assert (await events.get_event(session, event.id)).taken == 1
    # The winner gives the place back: the first in line gets it and is told.
    first_in_line = next(p for p, a in zip(people, answers, strict=True) if "第 1 位" in a.text)
    await signed[0].press("取消报名", expect="名额")
    await first_in_line.expect("转为正式报名")


async def _scan(person: Person, link: str, expect: str) -> str:
    payload = link.split("start=", 1)[1]
    return (await person.say(f"/start {payload}", expect=expect)).text


async def test_check_in_by_qr_and_code_then_points_once(stage: Stage, clock: ManualClock) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    li, wang, zhao, sun = (
        stage.person(200 + n, name) for n, name in enumerate(("李明", "王刚", "赵强", "孙悟"))
    )
    uids = {p.id: await volunteer(stage, p, grid="G02") for p in (li, wang, zhao, sun)}
    ours = await _event(stage, clock, admin_uid, title="楼道清洁", slots=3, points=5)
    g01 = Segment("grid", grid_id=await _grid_id(stage, "G01"))
    theirs = await _event(stage, clock, admin_uid, title="义诊", slots=3, points=5, segment=g01)
    async with stage.app.sessions() as session:
        for person in (li, wang, zhao):
            await signups.sign_up(stage.app, session, ours.id, uids[person.id])
        await signups.sign_up(stage.app, session, theirs.id, uids[sun.id])
    # Too early for a code.
    await admin.say(f"/checkin {ours.id}", expect="签到时间是")
    clock.now = ours.starts_at - timedelta(minutes=10)
    shown = await admin.say(f"/checkin {ours.id}", expect="扫码签到")
    assert shown.kind == "photo" and shown.photo is not None
    [link] = decode_qr(shown.photo)
    assert link.startswith("https://t.me/wishbot_demo_bot?start=ci_")
    pin = next(w for w in shown.text.split() if w.isdigit() and len(w) == 6)
    # Valid (then checking out), replayed, wrong, other event's.
    assert "签到成功" in await _scan(li, link, "签到")
    query = await stage.fake.press(li.user, li.id, None, text="签退")
    assert "已签退" in (await _answer(stage, query)).text
    assert "签到过" in await _scan(li, link, "签到过")
    assert "不对" in (await li.say("/start ci_nonsense", expect="不对")).text
    other = await admin.say(f"/checkin {theirs.id}", expect="扫码签到")
    assert other.photo is not None
    [other_link] = decode_qr(other.photo)
    assert "义诊" in await _scan(wang, other_link, "没有报名")
    # The typed code: directly, or after the bot asks.
    await wang.say(f"/checkin {pin}", expect="签到成功")
    await sun.say("/checkin", expect="6 位")
    await sun.say(pin, expect="没有报名")
    # Expired once its minutes pass; a new code from Refresh works.
    clock.advance(minutes=6)
    assert "过期" in await _scan(zhao, link, "过期")
    await admin.press("换一个签到码", message_id=shown.message_id, expect="扫码签到")
    fresh = admin.last()
    assert fresh.photo is not None
    assert "签到成功" in await _scan(zhao, decode_qr(fresh.photo)[0], "签到成功")
    # Staff mark Zhao absent by hand (he left early), then confirm after the end.
    await admin.press("出勤名单", message_id=fresh.message_id, expect="出勤名单")
    await admin.press("✅ 赵强", expect="⬜ 赵强")
    clock.now = ours.ends_at + timedelta(minutes=5)
    await admin.press("🔄 刷新")
    confirm_button = "✔️ 确认出勤并发放积分"  # offered once the event has ended
    await stage.fake.wait_for(lambda: confirm_button in admin.last().button_texts(), timeout=10)
    await admin.press("确认出勤并发放积分", expect="确定吗")
    confirm_ask = admin.last()
    await admin.press("确定", message_id=confirm_ask.message_id, expect="出勤已确认")
    await li.expect("积分存折", timeout=15)
    async with stage.app.sessions() as session:
        ledger = (
            await session.execute(
                select(LedgerEntry.user_id, LedgerEntry.amount).where(
                    LedgerEntry.source_type == "event", LedgerEntry.source_id == f"{ours.id}"
                )
            )
        ).all()
    assert sorted(ledger) == sorted([(uids[li.id], 5), (uids[wang.id], 5)])


async def test_linkgroup_when_the_bot_may_not_post_tells_the_staff_privately(
    stage: Stage,
) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    stage.fake.group(GROUP, "静音群", creator=admin.user)
    # The fake cannot mute a member; a bot that is not a member stands in for "may not post".
    stage.fake.set_member(GROUP, stage.fake.bot_user.id, "left")
    mark = await _group_says(stage, admin, "/linkgroup G02")
    told = await admin.expect("不能发言", after=mark)
    assert "静音群" in told.text
    assert stage.fake.messages(GROUP) == []
    async with stage.app.sessions() as session:
        linked = await session.scalar(select(Grid.code).where(Grid.group_chat_id == GROUP))
    assert linked is None
