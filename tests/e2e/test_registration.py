"""Registration and profiles, driven through the real bot and the fake Bot API server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import AuditEntry, Resident, User, Volunteer
from bot.demo.stage import Person, Stage
from tests.e2e.conftest import register_resident, register_volunteer, resident_until_phone

pytestmark = pytest.mark.e2e


async def _db_get(stage: Stage, model, key):  # type: ignore[no-untyped-def]
    async with stage.app.sessions() as session:
        return await session.get(model, key)


async def _user_id(stage: Stage, telegram_id: int) -> int:
    async with stage.app.sessions() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        return user.id


async def test_resident_registers_with_grid_building_consent_and_phone(stage: Stage) -> None:
    ann = stage.person(101, "张阿姨")
    await ann.say("/start", expect="身份")
    await ann.press("我是居民", expect="网格")
    # Typing part of a grid's name finds it.
    found = await ann.say("第三", expect="是不是")
    assert any("第三网格" in b for b in found.button_texts())
    await ann.press("第三网格", expect="楼栋")
    await ann.say("15栋2单元", expect="隐私")
    await ann.press("同意", expect="电话")
    # Someone else's contact is refused; her own is kept.
    await stage.fake.send_contact(ann.user, "13900000000", own=False)
    await ann.expect("自己的电话")
    await ann.share_contact("13812345678", expect="登记完成")
    resident = await _db_get(stage, Resident, await _user_id(stage, 101))
    assert resident is not None and resident.building == "15栋2单元"
    assert resident.phone == "13812345678"
    me = await ann.say("/me", expect="居民")
    assert "13812345678" in me.text  # her own view shows her number


async def test_refusing_consent_stores_nothing(stage: Stage) -> None:
    bob = stage.person(102, "老刘")
    await bob.say("/start", expect="身份")
    await bob.press("我是居民", expect="网格")
    await bob.press("第一网格", expect="楼栋")
    await bob.press("跳过", expect="隐私")
    await bob.press("不同意", expect="不会保存")
    assert await _db_get(stage, Resident, await _user_id(stage, 102)) is None


async def test_volunteer_registration_and_staff_approval(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    vol = stage.person(201, "李明")
    await register_volunteer(vol, admin)
    volunteer = await _db_get(stage, Volunteer, await _user_id(stage, 201))
    assert volunteer.status == "approved"
    assert volunteer.skills == ["repair"]
    assert volunteer.availability == ["weekday_evening", "sat_morning"]
    assert volunteer.unit == "区供电公司" and volunteer.max_active_tasks == 2


async def test_staff_rejects_volunteer_with_reason(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    vol = stage.person(202, "赵强")
    await vol.say("/start", expect="身份")
    await vol.press("我是在职党员", expect="姓名")
    await vol.say("赵强", expect="网格")
    await vol.press("第一网格", expect="工作单位")
    await vol.say("某公司", expect="党组织")
    await vol.say("某支部", expect="职业")
    await vol.say("司机", expect="服务")
    # "Done" with nothing chosen is refused kindly.
    await vol.press("完成")
    assert stage.fake.callback_answers[-1].show_alert
    await vol.press("跑腿代办")
    await vol.press("完成", expect="特长")
    await vol.press("跳过", expect="有空")
    await vol.press("周日下午")
    await vol.press("完成", expect="最多")
    await vol.press("1", expect="核对")
    mark = stage.fake.mark()
    await vol.press("提交", expect="审核")
    card = await admin.expect("赵强", after=mark)
    await admin.press("❌ 不通过", message_id=card.message_id, expect="原因")
    await admin.say("您不住在本社区", expect="未通过")
    told = await vol.expect("没有通过")
    assert "您不住在本社区" in told.text
    volunteer = await _db_get(stage, Volunteer, await _user_id(stage, 202))
    assert volunteer.status == "rejected"


async def test_invite_codes_make_staff_once_and_preapprove_volunteers(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    reply = await admin.say("/invite staff G02", expect="t.me/")
    link = next(w for w in reply.text.split() if "start=" in w)
    code = link.split("start=")[1]
    newcomer = stage.person(301, "网格员小周")
    await newcomer.say(f"/start {code}", expect="欢迎加入社区工作人员")
    queue = await newcomer.say("/queue")
    assert "没有待处理" in queue.text
    # The same code does not work twice.
    other = stage.person(302, "路人")
    await other.say(f"/start {code}", expect="用过")
    # A volunteer invite skips approval.
    reply = await admin.say("/invite volunteer G01", expect="t.me/")
    vcode = next(w for w in reply.text.split() if "start=" in w).split("start=")[1]
    vol = stage.person(303, "陈红")
    await vol.say(f"/start {vcode}", expect="姓名")
    await vol.say("陈红", expect="工作单位")
    await vol.say("区人民医院", expect="党组织")
    await vol.say("医院党委", expect="职业")
    await vol.say("护士", expect="服务")
    await vol.press("医疗健康")
    await vol.press("完成", expect="特长")
    await vol.press("跳过", expect="有空")
    await vol.press("周六上午")
    await vol.press("完成", expect="最多")
    await vol.press("3", expect="核对")
    await vol.press("提交", expect="登记成功")
    volunteer = await _db_get(stage, Volunteer, await _user_id(stage, 303))
    assert volunteer.status == "approved"


async def test_unknown_and_expired_codes_are_refused(stage: Stage, admin: Person, clock) -> None:  # type: ignore[no-untyped-def]
    await admin.say("/start")
    reply = await admin.say("/invite staff", expect="t.me/")
    code = next(w for w in reply.text.split() if "start=" in w).split("start=")[1]
    clock.advance(hours=73)
    late = stage.person(304, "迟到的人")
    await late.say(f"/start {code}", expect="过期")
    await late.say("/start inv_nonsense", expect="无效")


async def test_language_switch_changes_texts_and_menu(stage: Stage) -> None:
    eve = stage.person(401, "Eve", lang="en")
    first = await eve.say("/start")
    assert "Please tell me who you are" in first.text or "who you are" in first.text.lower()
    await eve.say("/language", expect="Choose")
    await eve.press("中文", expect="中文")
    again = await eve.say("/help")
    assert "使用说明" in again.text


async def test_cancel_leaves_a_form_midway(stage: Stage) -> None:
    vol = stage.person(501, "孙悟")
    await vol.say("/start", expect="身份")
    await vol.press("我是在职党员", expect="姓名")
    await vol.say("/cancel", expect="已取消")
    # After cancelling, plain text is not taken as the name.
    reply = await vol.say("孙悟")
    assert "姓名" not in reply.text


async def test_bad_input_is_reasked_and_changes_nothing(stage: Stage) -> None:
    vol = stage.person(502, "周到")
    await vol.say("/start", expect="身份")
    await vol.press("我是在职党员", expect="姓名")
    await vol.say("很" * 40, expect="太长")
    await vol.say("周到", expect="网格")


async def test_profile_edit_and_delete_me(stage: Stage) -> None:
    ann = stage.person(601, "钱奶奶")
    await register_resident(ann)
    await ann.say("/me", expect="8栋1单元")
    await ann.press("改楼栋", expect="楼栋")
    await ann.say("9栋3单元", expect="已保存")
    me = await ann.say("/me")
    assert "9栋3单元" in me.text
    await ann.say("/delete_me", expect="确定")
    await ann.press("确定删除", expect="已删除")
    async with stage.app.sessions() as session:
        user = await session.scalar(select(User).where(User.display_name == "钱奶奶"))
        assert user is None  # her name is gone
        erased = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.erase"))
        ).all()
        assert len(erased) == 1  # the audit trail stays
        assert (await session.scalars(select(Resident))).all() == []


async def test_blocked_user_is_marked_and_not_messaged(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    vol = stage.person(701, "吴刚")
    await vol.say("/start", expect="身份")
    await vol.press("我是在职党员", expect="姓名")
    await vol.say("吴刚", expect="网格")
    await vol.press("第二网格", expect="工作单位")
    await vol.say("单位", expect="党组织")
    await vol.say("支部", expect="职业")
    await vol.say("工程师", expect="服务")
    await vol.press("数字助老")
    await vol.press("完成", expect="特长")
    await vol.press("跳过", expect="有空")
    await vol.press("周日上午")
    await vol.press("完成", expect="最多")
    await vol.press("1", expect="核对")
    mark = stage.fake.mark()
    await vol.press("提交", expect="审核")
    card = await admin.expect("吴刚", after=mark)
    stage.fake.block(701)
    await admin.press("✅ 通过", message_id=card.message_id, expect="已通过")
    uid = await _user_id(stage, 701)
    await stage.fake.wait_for(lambda: True)
    async with stage.app.sessions() as session:
        user = await session.get(User, uid)
        assert user is not None and user.is_blocked
    sent_before = len(vol.inbox())
    await stage.app.notifier.notify(
        uid, __import__("bot.services.notices", fromlist=["Notice"]).Notice("volunteer.approved")
    )
    assert len(vol.inbox()) == sent_before


async def test_volunteer_edits_skills_from_profile(stage: Stage, admin: Person) -> None:
    """/me → 改服务技能: the shared multi-select (toggle, "done" needs one) saves the new set."""
    await admin.say("/start")
    vol = stage.person(611, "孙磊")
    await register_volunteer(vol, admin, name="孙磊")
    await vol.say("/me", expect="孙磊")
    await vol.press("改服务技能", expect="多选")
    await vol.press("✅ 家居维修")  # unticked: nothing chosen now
    fake = stage.fake
    query_id = await fake.press(vol.user, vol.user.id, None, text="完成")
    refused = await fake.answered(query_id)
    assert refused.text == "请至少选择一项。" and refused.show_alert
    await vol.press("跑腿代办")
    await vol.press("完成", expect="已保存")
    async with stage.app.sessions() as session:
        volunteer = await session.scalar(select(Volunteer))
        assert volunteer is not None and volunteer.skills == ["errand"]


async def test_someone_elses_contact_is_refused_and_registration_waits(stage: Stage) -> None:
    """Only the person's own phone (the share button) is taken; another contact changes nothing."""
    ann = stage.person(621, "周阿姨")
    await resident_until_phone(ann)
    mark = stage.fake.mark()
    await stage.fake.send_contact(ann.user, "+86 139 0000 1111", own=False)
    await stage.fake.expect(ann.id, "请分享您自己的电话", after=mark, timeout=10)
    async with stage.app.sessions() as session:
        assert (await session.scalars(select(Resident))).all() == []
    await ann.say("跳过", expect="登记完成")
