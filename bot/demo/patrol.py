"""The demo's 治安巡查 scene: on the Sunday evening after the event, staff publish a patrol of
the second grid, Li joins and checks in at the gate by sharing his location, finds an e-bike
charging in a stairwell and reports it with a photo; staff make it a safety wish; the patrol
ends and Li's patrol time earns points."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.demo.stage import Person, Stage
from bot.fakeapi.images import tiny_png

if TYPE_CHECKING:
    from bot.demo.run import DemoClock, DemoTimes, Transcript

GATE = (31.5690, 120.2990)  # the community's north gate: the route's meeting point
NEAR_GATE = (31.5696, 120.2992)  # about 70 m away


async def patrol_scene(
    stage: Stage, log: Transcript, times: DemoTimes, clock: DemoClock | None
) -> None:
    if clock is None:  # the scene needs the demo's own clock (check-in opens before the start)
        return
    admin, li = stage.person(9001, "王主任"), stage.person(201, "李明")
    tz = stage.app.settings.tz
    day = times.event_start.astimezone(tz).date()
    start = datetime.combine(day, time(19, 0), tz)
    log.section("治安巡查 · a safety patrol, a hazard, a safety wish")
    await admin.say("/newpatrol", expect="哪个网格")
    await admin.press("第二网格（7-12栋）", expect="路线名称")
    await admin.say("夜间巡逻：7-12栋\n楼道、消防通道、电动车棚", expect="集合点")
    mark = stage.fake.mark()
    await stage.fake.send_location(admin.user, *GATE)
    await admin.expect("巡查时间", after=mark)
    await admin.say(f"{day.month}月{day.day}日 19:00-21:00", expect="多少人")
    await admin.say("3", expect="请核对")
    mark = stage.fake.mark()
    await admin.press("发布", expect="已发布巡查班次")
    invite = await li.expect("治安巡查招募", after=mark, timeout=15)
    await li.press("✋ 报名巡查", message_id=invite.message_id, expect="您已报名")
    clock.jump_to(start - timedelta(minutes=10))
    log.say(log.t("patrols.demo.clock", when=f"{clock().astimezone(tz):%m-%d %H:%M}"))
    listing = await li.say("/patrols", expect="夜间巡逻")
    await li.press(listing.button_texts()[0], expect="治安巡查 #")
    await li.press("📍 发送位置签到", expect="位置")
    await li.share_location(*NEAR_GATE, expect="签到成功")
    await _hazard(stage, li)
    card = await admin.expect("巡查发现隐患", timeout=15)
    await admin.press("📋 转为微心愿派单", message_id=card.message_id, expect="微心愿")
    clock.jump_to(start + timedelta(hours=2, minutes=5))
    log.say(log.t("patrols.demo.clock", when=f"{clock().astimezone(tz):%m-%d %H:%M}"))
    await admin.say("/patrols", expect="治安巡查班次")
    await admin.press(_first_button(admin), expect="巡查中")
    await admin.press("结束巡查 · 记积分", expect="结束巡查")
    await admin.press("确定结束", expect="已结束")
    await li.expect("巡查积分", timeout=15)
    await admin.say("/patrolstats", expect="治安巡查与岗位")


async def _hazard(stage: Stage, li: Person) -> None:
    await li.say("/hazard", expect="什么隐患")
    await li.press("电动车进楼入户充电", expect="照片")
    mark = stage.fake.mark()
    await stage.fake.send_photo(li.user, content=tiny_png())
    await li.expect("隐患的位置", after=mark)
    await li.share_location(*NEAR_GATE, expect="一句话")
    await li.say("8栋2单元楼道里有电动车在充电", expect="已上报隐患")


def _first_button(person: Person) -> str:
    return person.last().button_texts()[0]
