"""治安巡查 and standing posts end to end: the real bot, the fake Bot API server, the delivery
engine. A patrol published by staff, joined, checked in by location, a hazard filed with a
photo that staff turn into a safety wish a volunteer claims, then the patrol's points; a
member claiming a post and checking in monthly, with points once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Grid, Wish
from bot.db.models.patrols import Hazard, PatrolShift
from bot.db.models.points import LedgerEntry
from bot.demo.stage import Stage
from tests.conftest import ManualClock
from tests.e2e.seed import user_id, volunteer

pytestmark = pytest.mark.e2e
ADMIN = 9001
GATE = (31.5690, 120.2990)
FAR = (GATE[0] + 900 / 111_195, GATE[1])  # 900 m north
NEAR = (GATE[0] + 80 / 111_195, GATE[1])


async def _ledger(stage: Stage, source_type: str) -> list[LedgerEntry]:
    async with stage.app.sessions() as session:
        rows = await session.scalars(
            select(LedgerEntry).where(LedgerEntry.source_type == source_type)
        )
        return list(rows)


async def test_a_patrol_with_check_in_and_a_hazard_that_becomes_a_claimed_wish(
    stage: Stage, clock: ManualClock
) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    li, zhou = stage.person(201, "李明"), stage.person(202, "周杰")
    li_uid = await volunteer(stage, li, grid="G02")
    zhou_uid = await volunteer(stage, zhou, grid="G02", skills=("safety",))
    # Staff publish a shift through the form (grid, route, meeting point, time, places).
    await admin.say("/newpatrol", expect="哪个网格")
    await admin.press("第二网格（7-12栋）", expect="路线名称")
    await admin.say("夜间巡逻：7-12栋\n楼道、消防通道、电动车棚", expect="集合点")
    await admin.say("跳过也不行吗", expect="点上面的按钮")
    mark = stage.fake.mark()
    await stage.fake.send_location(admin.user, *GATE)
    await admin.expect("巡查时间", after=mark)
    await admin.say("11月21日 19:00-21:00", expect="多少人")
    preview = await admin.say("2", expect="请核对")
    assert "#0" not in preview.text  # a draft has no number yet (the demo showed "#0")
    assert "2 位志愿者" in preview.text and "夜间巡逻：7-12栋" in preview.text
    await admin.press("发布", expect="已发布巡查班次")
    # The invitation reaches the grid's volunteers; Li joins from it.
    invite = await li.expect("治安巡查招募", timeout=15)
    assert "19:00" in invite.text
    await li.press("✋ 报名巡查", message_id=invite.message_id, expect="您已报名")
    # Check-in opens half an hour before the start: Li is too far, then at the gate.
    async with stage.app.sessions() as session:
        shift = (await session.scalars(select(PatrolShift))).one()
    clock.now = shift.starts_at - timedelta(minutes=10)
    listing = await li.say("/patrols", expect="夜间巡逻")
    card = await li.press(listing.button_texts()[0], expect="治安巡查 #")
    assert card is not None and "📍 发送位置签到" in card.button_texts()
    await li.press("📍 发送位置签到", expect="发送您现在的位置")
    far = await li.share_location(*FAR, expect="米")
    assert "900" in far.text and "300" in far.text
    done = await li.share_location(*NEAR, expect="签到成功")
    assert "80 米" in done.text
    # During the patrol: /hazard with kind, photo, location and a note.
    clock.now = shift.starts_at + timedelta(minutes=40)
    await li.say("/hazard", expect="什么隐患")
    await li.press("消防通道堵塞", expect="照片")
    mark = stage.fake.mark()
    await stage.fake.send_photo(li.user)
    await li.expect("隐患的位置", after=mark)
    await li.share_location(*NEAR, expect="一句话")
    mark = stage.fake.mark()
    filed = await li.say("9栋一单元消防通道堆满纸箱", expect="已上报隐患")
    assert "消防通道堵塞" in filed.text
    # Staff get the card with the photo and decide: a safety wish.
    hazard_card = await admin.expect("巡查发现隐患", after=mark)
    assert hazard_card.photo is not None and "李明" in hazard_card.text
    mark = stage.fake.mark()
    await admin.press(
        "📋 转为微心愿派单", message_id=hazard_card.message_id, expect="安全隐患类微心愿"
    )
    # Zhou, with the safety skill, is offered it and claims it.
    offer = await zhou.expect("适合您", after=mark, timeout=15)
    assert "消防通道" in offer.text
    await zhou.press("我来接单", message_id=offer.message_id, expect="接单成功")
    async with stage.app.sessions() as session:
        hazard = (await session.scalars(select(Hazard))).one()
        wish = await session.get(Wish, hazard.wish_id)
    assert hazard.status == "wish" and hazard.photo_file_id and hazard.lat is not None
    assert wish is not None and wish.category == "safety" and wish.volunteer_id == zhou_uid
    # The patrol ends: Li earns points for his time, once.
    clock.now = shift.ends_at + timedelta(minutes=5)
    await admin.say("/patrols", expect="治安巡查班次")
    await admin.press(f"#{shift.id} 夜间巡逻：7-12栋", expect="巡查中")
    await admin.press("结束巡查 · 记积分", expect="结束巡查")
    await admin.press("确定结束", expect="已结束")
    told = await li.expect("巡查积分", timeout=15)
    assert "4 分" in told.text  # 2 points an hour, checked in before the start: two hours
    entries = await _ledger(stage, "patrol")
    assert [(e.user_id, e.amount) for e in entries] == [(li_uid, 4)]
    # The month's figures: one patrol, one patroller, two hours, one hazard made a wish.
    stats = await admin.say("/patrolstats", expect="治安巡查与岗位")
    assert "第二网格（7-12栋）：巡查 1 次 · 1 人次 · 2.0 小时；隐患 发现 1（派单 1" in stats.text
    assert "用法" in (await admin.say("/patrolstats 十一月", expect="用法")).text


async def test_a_member_claims_a_post_and_checks_in_monthly_with_points_once(
    stage: Stage, clock: ManualClock
) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li, grid="G02")
    await admin.say("/newpost", expect="哪类岗位")
    await admin.press("楼道长", expect="岗位名称")
    await admin.say("8栋楼道长", expect="哪个网格")
    await admin.press("第二网格（7-12栋）", expect="岗位职责")
    await admin.say("每周巡看楼道，收集邻里诉求", expect="已设立岗位")
    await admin.press("📣 群发空缺岗位", expect="已群发 1 个空缺岗位")
    vacancy = await li.expect("空缺志愿服务岗位", timeout=15)
    assert "8栋楼道长" in vacancy.text
    listing = await li.say("/posts", expect="8栋楼道长")
    await li.press(listing.button_texts()[0], expect="空缺，可认领")
    await li.press("🙋 认领这个岗位", expect="认领成功")
    await li.press("📝 本月打卡", expect="本月在")
    await li.say("劝导两户电动车下楼充电", expect="打卡成功")
    # A second check-in this month earns nothing and says so.
    old_card = next(m for m in reversed(li.inbox()) if "📝 本月打卡" in m.button_texts())
    await li.press("📝 本月打卡", message_id=old_card.message_id, expect="本月在")
    again = await li.say("再打一次", expect="已经打过卡")
    assert "2026-11" in again.text
    # Next month: one more.
    clock.now = datetime(2026, 12, 3, 2, 0, tzinfo=clock.now.tzinfo)
    listing = await li.say("/posts", expect="8栋楼道长")
    card = await li.press(listing.button_texts()[0], expect="本月还没打卡")
    assert card is not None
    # The calendar's reminder (the 25th) carries the check-in button too.
    from bot.services.posts.posts import remind_checkins

    mark = stage.fake.mark()
    assert await remind_checkins(stage.app) == 1
    reminder = await li.expect("温馨提醒", after=mark, timeout=15)
    assert "2026-12" in reminder.text
    await li.press("📝 本月打卡", message_id=reminder.message_id, expect="本月在")
    await li.say("组织楼道大扫除", expect="打卡成功")
    # Staff read the holder and the reports on the post's card.
    await admin.say("/posts", expect="认领岗位（点开管理）")
    staff_card = await admin.press("#1 8栋楼道长", expect="月报")
    assert staff_card is not None and "李明 认领" in staff_card.text
    assert "组织楼道大扫除" in staff_card.text and "劝导两户电动车" in staff_card.text
    entries = await _ledger(stage, "post")
    assert sorted(e.source_id.split(":")[1] for e in entries) == ["2026-11", "2026-12"]
    assert {e.user_id for e in entries} == {li_uid} and all(e.amount == 2 for e in entries)
    assert await user_id(stage, li) == li_uid


async def test_check_in_by_code_and_a_bare_hazard_escalated_by_staff(
    stage: Stage, clock: ManualClock
) -> None:
    from bot.services.patrols import shifts as shift_service
    from tests.events.test_qr import decode_qr

    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li, grid="G02")
    async with stage.app.sessions() as session:
        grid_id = (await session.scalars(select(Grid.id).where(Grid.code == "G02"))).one()
        starts = clock.now + timedelta(hours=2)
        shown, _ = await shift_service.create_shift(
            stage.app,
            session,
            admin_uid,
            shift_service.ShiftDraft(
                grid_id=grid_id,
                name="白天巡查",
                description="",
                lat=None,
                lon=None,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                capacity=1,
            ),
        )
    async with stage.app.sessions() as session:
        await shift_service.sign_up(stage.app, session, shown.id, li_uid)
    clock.now = starts - timedelta(minutes=5)
    # Staff show the QR code; its deep link and the 6 digits both check in.
    await admin.say("/patrols", expect="白天巡查")
    await admin.press(f"#{shown.id} 白天巡查", expect="已满员")
    qr_message = await admin.press("签到二维码", expect="请志愿者扫码")
    assert qr_message is not None and qr_message.photo is not None
    [link] = decode_qr(qr_message.photo)
    assert link.startswith("https://t.me/") and "start=pt_" in link
    found = re.search(r"(?<!\d)\d{6}(?!\d)", qr_message.text)
    assert found is not None
    pin = found.group(0)
    # No meeting point: the card offers the code only.
    listing = await li.say("/patrols", expect="白天巡查")
    card = await li.press(listing.button_texts()[0], expect="集合点")
    assert card is not None and "📍 发送位置签到" not in card.button_texts()
    await li.press("⌨️ 输入签到码", expect="6 位签到码")
    await li.say("12ab", expect="6 位数字")
    await li.say(pin, expect="签到成功")
    again = await li.say(f"/start pt_{link.split('pt_')[1]}", expect="已经签到过了")
    assert "签到成功" not in again.text
    # A hazard with nothing but its kind: every step skipped.
    await li.say("/hazard", expect="什么隐患")
    await li.press("栏杆/扶手松动", expect="照片")
    await li.press("跳过", expect="隐患的位置")
    await li.say("跳过", expect="一句话")
    mark = stage.fake.mark()
    await li.say("跳过", expect="已上报隐患")
    card = await admin.expect("巡查发现隐患", after=mark)
    assert "未提供" in card.text and card.photo is None
    await admin.press("📣 上报部门", message_id=card.message_id, expect="哪个部门")
    await admin.press("城管局", expect="已上报部门")
    async with stage.app.sessions() as session:
        hazard = (await session.scalars(select(Hazard))).one()
        wish = await session.get(Wish, hazard.wish_id)
    assert hazard.status == "escalated" and hazard.note == "" and hazard.lat is None
    assert wish is not None and wish.status == "escalated" and wish.category == "safety"


async def test_a_form_button_of_a_step_already_passed_is_refused_as_stale(stage: Stage) -> None:
    """/newpost: the kind button pressed again once the form asks for the title changes nothing."""
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    kinds = await admin.say("/newpost", expect="哪类岗位")
    await admin.press("楼道长", expect="岗位名称")
    fake = stage.fake
    again = await fake.forge_press(admin.user, admin.id, kinds.message_id, "pof:kind:area")
    refused = await fake.answered(again)
    assert refused.text == "这个按钮已经失效了，请重新操作。" and refused.show_alert
    await admin.say("8栋楼道长", expect="哪个网格")  # the form goes on where it was
