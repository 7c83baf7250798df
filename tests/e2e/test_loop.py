"""The whole loop, wish to verified, through the real bot and the fake Bot API server."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.db.models import Grid, Offer, RelayMessage, Wish
from bot.demo.stage import Person, Stage
from bot.scheduler.timers import fire_due
from bot.services.intake import dispatch, wishes
from tests.conftest import ManualClock
from tests.e2e.seed import resident, volunteer

pytestmark = pytest.mark.e2e


async def file_wish(stage: Stage, uid: int, text: str) -> int:
    async with stage.app.sessions() as session:
        draft = await wishes.draft_wish(stage.app, session, uid, text)
        wish = await wishes.file_wish(stage.app, session, uid, draft)
        return wish.id


async def approve(stage: Stage, admin_uid: int, wish_id: int) -> None:
    async with stage.app.sessions() as session:
        await dispatch.approve(
            stage.app, session, admin_uid, wish_id, difficulty="normal", deadline=None
        )


async def wish_row(stage: Stage, wish_id: int) -> Wish:
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None
        return wish


async def test_wish_to_verified_through_chat(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann, phone="13812345678")
    li, wang = stage.person(201, "李明"), stage.person(202, "王刚")
    li_uid = await volunteer(stage, li)
    await volunteer(stage, wang)
    # The resident files in her own words; staff approve from the card.
    await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿 #")
    card = await admin.expect("水管漏水", after=mark)
    await admin.press("✅ 通过", message_id=card.message_id, expect="难度")
    await admin.press("一般", expect="期限")
    mark = stage.fake.mark()
    await admin.press("不限", expect="已通过")
    # Both volunteers are offered it; Li claims, Wang's card says it is taken.
    offer_li = await li.expect("适合您", after=mark)
    await wang.expect("适合您", after=mark)
    assert "13812345678" not in offer_li.text and "8栋" not in offer_li.text  # no contact yet
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=offer_li.message_id, expect="接单成功")
    details = await li.expect("8栋1单元", after=mark)
    # The phone she chose to share: shown to the holder in a pop-up, never in the chat history.
    assert "13812345678" not in details.text
    query = await stage.fake.press(li.user, li.id, details.message_id, text="查看电话")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    popup = stage.fake.answer_for(query)
    assert popup is not None and popup.show_alert and "13812345678" in (popup.text or "")
    told = await ann.expect("接单了", after=mark)
    assert "李明" in told.text
    await stage.fake.wait_for(lambda: stage.fake.messages(wang.id)[-1].edited)
    assert "已经有志愿者接了" in stage.fake.messages(wang.id)[-1].text
    assert stage.fake.messages(wang.id)[-1].buttons == []
    # They talk through the bot; nothing identifies the other side.
    await li.press("联系居民", message_id=details.message_id, expect="转达")
    mark = stage.fake.mark()
    await li.say("阿姨好，我周六上午9点到", expect="已转达")
    relayed = await ann.expect("志愿者说", after=mark)
    assert "阿姨好" in relayed.text and "李明" not in relayed.text and "@" not in relayed.text
    await ann.press("回复", message_id=relayed.message_id, expect="转达")
    mark = stage.fake.mark()
    await ann.say("好的谢谢", expect="已转达")
    back = await li.expect("居民说", after=mark)
    assert "13812345678" not in back.text
    # Done → the resident rates → staff verify → closed.
    async with stage.app.sessions() as session:
        wish_id = (await session.scalars(select(Wish.id))).one()
    await li.press("✅ 已完成", message_id=details.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await li.say("水管接头换好了", expect="标记完成")
    ask = await ann.expect("打个分", after=mark)
    assert "水管接头换好了" in ask.text
    mark = stage.fake.mark()
    await ann.press("⭐⭐⭐⭐⭐", message_id=ask.message_id, expect="谢谢您的评价")
    verify_card = await admin.expect("请核实", after=mark)
    await li.expect("评价", after=mark)
    mark = stage.fake.mark()
    await admin.press("✅ 核实通过", message_id=verify_card.message_id, expect="已核实")
    await ann.expect("办结", after=mark)
    await li.expect("社区已核实", after=mark)
    # Once the task is over, the phone is no longer given out.
    query = await stage.fake.press(li.user, li.id, details.message_id, text="查看电话")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    assert "13812345678" not in (stage.fake.answer_for(query).text or "")  # type: ignore[union-attr]
    row = await wish_row(stage, wish_id)
    assert row.status == "closed" and row.rating == 5 and row.volunteer_id == li_uid
    statuses = [e.to_status for e in row.history if e.from_status != e.to_status]
    assert statuses == ["approved", "offered", "claimed", "done", "confirmed", "verified", "closed"]
    # The relay ends with the task.
    await ann.press("回复", message_id=relayed.message_id, expect="转达")
    await ann.say("还在吗", expect="已经结束")
    async with stage.app.sessions() as session:
        assert len((await session.scalars(select(RelayMessage))).all()) == 2


async def test_fifty_simultaneous_claims_have_one_winner(db_url: str, clock: ManualClock) -> None:
    async with Stage(db_url, admins=(9001,), clock=clock) as stage:
        admin = stage.person(9001, "王主任")
        await admin.say("/start")
        ann = stage.person(101, "张阿姨")
        ann_uid = await resident(stage, ann)
        group = stage.fake.group(-100500, "第二网格联络群")
        async with stage.app.sessions() as session:
            grid = (await session.scalars(select(Grid).where(Grid.code == "G02"))).one()
            grid.group_chat_id = group.id
            await session.commit()
        people = [stage.person(1000 + i, f"志愿者{i}") for i in range(50)]
        for person in people:
            await volunteer(stage, person)
        admin_uid = await _uid(stage, 9001)
        wish_id = await file_wish(stage, ann_uid, "楼道灯坏了，晚上看不见路")
        await approve(stage, admin_uid, wish_id)
        await stage.fake.wait_for(
            lambda: any(m.buttons for m in stage.fake.messages(group.id)), timeout=10
        )
        post = stage.fake.messages(group.id)[-1]
        post_seq = stage.fake.mark()
        offered_cards = {
            (p.id, m.message_id) for p in people for m in p.inbox() if "适合您" in (m.text or "")
        }
        claim_data = next(
            b.data for row in post.buttons for b in row if b.data and b.data.startswith("t:claim")
        )
        ids = await asyncio.gather(
            *(stage.fake.press(p.user, group.id, post.message_id, data=claim_data) for p in people)
        )
        await stage.fake.wait_for(
            lambda: all(stage.fake.answer_for(i) is not None for i in ids), timeout=60
        )
        answers = [stage.fake.answer_for(i) for i in ids]
        winners = [a for a in answers if a is not None and "接单成功" in (a.text or "")]
        losers = [a for a in answers if a is not None and "接走" in (a.text or "")]
        assert len(winners) == 1 and len(losers) == 49
        # The presser hears first: the winner's answer comes before anyone else is told
        # (the group post edit, the other offered cards, the resident's notice).
        await stage.fake.expect(101, "接单了", timeout=10)
        events = stage.fake.events
        won = next(e.seq for e in events if e.kind == "callback_answer" and "接单成功" in e.text)
        told_others = [
            e.seq
            for e in events
            if e.kind in ("bot_send", "bot_edit")
            and e.chat is not None
            and (e.chat.id in (group.id, 101) or (e.chat.id, e.message_id) in offered_cards)
            and e.seq > post_seq
        ]
        assert told_others and won < min(told_others)
        row = await wish_row(stage, wish_id)
        assert row.status == "claimed" and row.volunteer_id is not None
        # The group post updates in place: no Claim button, status claimed.
        await stage.fake.wait_for(
            lambda: stage.fake.messages(group.id)[-1].buttons == [], timeout=10
        )
        assert "志愿者已接单" in stage.fake.messages(group.id)[-1].text
        assert "张阿姨" not in stage.fake.messages(group.id)[-1].text


async def _uid(stage: Stage, telegram_id: int) -> int:
    from bot.db.models import User

    async with stage.app.sessions() as session:
        user = (await session.scalars(select(User).where(User.telegram_id == telegram_id))).one()
        return user.id


async def test_release_goes_back_to_offers_without_the_releaser(
    sqlite_url: str, clock: ManualClock
) -> None:
    async with Stage(sqlite_url, clock=clock, matching={"offer_k": 1}) as stage:
        admin_uid = await _uid_after_start(stage, 9001)
        ann_uid = await resident(stage, stage.person(101, "张阿姨"))
        li, wang = stage.person(201, "李明"), stage.person(202, "王刚")
        li_uid = await volunteer(stage, li)
        wang_uid = await volunteer(stage, wang)
        wish_id = await file_wish(stage, ann_uid, "帮我修一下水龙头，一直滴水")
        await approve(stage, admin_uid, wish_id)
        first = await _offered(stage, wish_id)
        assert len(first) == 1
        holder = li if first[0] == li_uid else wang
        other = wang if holder is li else li
        card = await holder.expect("适合您")
        mark = stage.fake.mark()
        await holder.press("我来接单", message_id=card.message_id, expect="接单成功")
        details = await holder.expect("详情", after=mark)
        await holder.press("退回任务", message_id=details.message_id, expect="为什么")
        mark = stage.fake.mark()
        await holder.press("临时有事", expect="已退回")
        offer = await other.expect("适合您", after=mark)
        await stage.fake.expect(101, "另找", after=mark)
        row = await wish_row(stage, wish_id)
        assert row.status == "offered" and row.volunteer_id is None
        assert set(await _offered(stage, wish_id)) == {li_uid, wang_uid}
        await other.press("我来接单", message_id=offer.message_id, expect="接单成功")


async def _uid_after_start(stage: Stage, telegram_id: int) -> int:
    await stage.person(telegram_id, "王主任").say("/start")
    return await _uid(stage, telegram_id)


async def _offered(stage: Stage, wish_id: int) -> list[int]:
    async with stage.app.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(Offer.volunteer_id).where(Offer.wish_id == wish_id).order_by(Offer.id)
                )
            ).all()
        )


async def test_rounds_widen_then_staff_are_alerted(sqlite_url: str, clock: ManualClock) -> None:
    grids = [
        {"code": "G01", "name": "第一网格", "neighbours": ["G02"]},
        {"code": "G02", "name": "第二网格", "neighbours": ["G01"]},
        {"code": "G03", "name": "第三网格"},
    ]
    async with Stage(
        sqlite_url,
        clock=clock,
        matching={"offer_k": 1, "grid_rounds": 1},
        community={"grids": grids},
    ) as stage:
        admin = stage.person(9001, "王主任")
        admin_uid = await _uid_after_start(stage, 9001)
        ann_uid = await resident(stage, stage.person(101, "张阿姨"), grid="G01")
        own = await volunteer(stage, stage.person(201, "本网格"), grid="G01")
        near = await volunteer(stage, stage.person(202, "邻网格"), grid="G02")
        far = await volunteer(stage, stage.person(203, "远网格"), grid="G03")
        wish_id = await file_wish(stage, ann_uid, "帮忙换个灯泡，够不着")
        await approve(stage, admin_uid, wish_id)
        assert await _offered(stage, wish_id) == [own]
        clock.advance(hours=5)  # past the round's time-out: the neighbouring grid next
        await fire_due(stage.app)
        assert await _offered(stage, wish_id) == [own, near]
        clock.advance(hours=5)  # then the whole community
        await fire_due(stage.app)
        assert await _offered(stage, wish_id) == [own, near, far]
        mark = stage.fake.mark()
        clock.advance(hours=5)  # nobody left: staff are alerted with the history
        await fire_due(stage.app)
        alert = await admin.expect("没有志愿者接", after=mark)
        assert "派单记录" in alert.button_texts()
        await admin.press("派单记录", message_id=alert.message_id, expect="派单记录")
        why = admin.last()
        assert "超时未回复" in why.text and "本网格" in why.text and "远网格" in why.text
        async with stage.app.sessions() as session:
            statuses = (
                await session.scalars(select(Offer.status).where(Offer.wish_id == wish_id))
            ).all()
        assert list(statuses) == ["expired", "expired", "expired"]


async def test_dispute_goes_to_staff_who_redo(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    li = stage.person(201, "李明")
    await volunteer(stage, li)
    admin_uid = await _uid(stage, 9001)
    wish_id = await file_wish(stage, ann_uid, "卫生间灯不亮了，帮忙看看")
    await approve(stage, admin_uid, wish_id)
    card = await li.expect("适合您")
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=card.message_id, expect="接单成功")
    details = await li.expect("详情", after=mark)
    await li.press("✅ 已完成", message_id=details.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await li.press("直接完成", expect="标记完成")
    ask = await ann.expect("打个分", after=mark)
    await ann.press("有问题", message_id=ask.message_id, expect="哪里有问题")
    mark = stage.fake.mark()
    await ann.say("灯还是不亮", expect="转给社区")
    dispute = await admin.expect("有异议", after=mark)
    assert "灯还是不亮" in dispute.text
    await admin.press("重新派单", message_id=dispute.message_id, expect="重新派单")
    row = await wish_row(stage, wish_id)
    assert row.status in ("offered", "approved") and row.volunteer_id is None


async def test_a_reminder_due_during_a_restart_fires_once(
    sqlite_url: str, clock: ManualClock
) -> None:
    from datetime import timedelta

    from bot.services.tasks import lifecycle

    async with Stage(sqlite_url, clock=clock) as stage:
        admin_uid = await _uid_after_start(stage, 9001)
        ann_uid = await resident(stage, stage.person(101, "张阿姨"))
        li = stage.person(201, "李明")
        li_uid = await volunteer(stage, li)
        wish_id = await file_wish(stage, ann_uid, "厨房水龙头坏了，一直滴水")
        await approve(stage, admin_uid, wish_id)
        card = await li.expect("适合您")
        await li.press("我来接单", message_id=card.message_id, expect="接单成功")
        async with stage.app.sessions() as session:
            await lifecycle.set_agreed_time(
                stage.app, session, wish_id, li_uid, clock.now + timedelta(hours=3)
            )
        await stage.stop_bot()
        clock.advance(hours=2, minutes=30)  # the 60-minute reminder fell due while the bot was down
        await stage.start_bot()
        before = len([m for m in li.inbox() if "⏰" in m.text])
        assert await fire_due(stage.app) == 1
        assert await fire_due(stage.app) == 0
        await stage.fake.wait_for(
            lambda: len([m for m in li.inbox() if "⏰" in m.text]) == before + 1
        )
        assert len([m for m in li.inbox() if "⏰" in m.text]) == 1
