"""Deadlines that somebody watches: every timer after the claim, end to end on a fake clock.

The bot runs unchanged against the fake Bot API; the test moves the clock and fires what is
due (as the APScheduler tick would), then reads what each person was sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Timer
from bot.demo.stage import Person, Stage
from bot.scheduler.timers import fire_due
from bot.services.intake import dispatch, wishes
from bot.services.tasks import claims, lifecycle
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e


async def file_wish(stage: Stage, uid: int, text: str) -> int:
    async with stage.app.sessions() as session:
        draft = await wishes.draft_wish(stage.app, session, uid, text)
        return (await wishes.file_wish(stage.app, session, uid, draft)).id


async def fire(stage: Stage) -> int:
    fired = await fire_due(stage.app)
    await stage.fake.settle()
    return fired


def texts_since(person: Person, mark: int) -> str:
    return "\n".join(m.text for m in person.stage.fake.messages(person.id)[mark:])


async def test_escalation_deadline_reminds_then_alerts_and_shows_in_queue(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    mark = stage.fake.mark()
    wish_id = await file_wish(stage, ann_uid, "小区门口的路面塌了一个大坑，很危险")
    card = await admin.expect("大坑", after=mark)
    # Blow the whistle from the card, with a 3-day deadline.
    await admin.press("吹哨（上报部门）", message_id=card.message_id, expect="哪个部门")
    await admin.press("住建局", expect="说明")
    await admin.say("路面塌陷，请尽快修复", expect="期限")
    await admin.press("3天", expect="已上报")
    reminder_hours = stage.app.settings.tasks.escalation_reminder_hours
    # Not yet: a day in, nothing is due.
    clock.advance(days=1)
    seen = len(stage.fake.messages(admin.id))
    await fire(stage)
    assert "吹哨" not in texts_since(admin, seen)
    # The reminder comes escalation_reminder_hours before the deadline, to whoever escalated.
    clock.advance(days=2, hours=-reminder_hours, minutes=1)
    mark = stage.fake.mark()
    assert await fire(stage) == 1
    reminder = await admin.expect("吹哨期限提醒", after=mark)
    assert f"#{wish_id}" in reminder.text and "住建局" in reminder.text
    assert "登记部门回复" in reminder.button_texts()
    queue = await admin.say("/queue", expect="待处理")
    assert "⏰ 吹哨期限" in queue.text and "超期" not in queue.text
    # At the deadline, still unanswered: an overdue alert, and /queue says so.
    clock.advance(hours=reminder_hours)
    mark = stage.fake.mark()
    assert await fire(stage) == 1
    alert = await admin.expect("吹哨已超期", after=mark)
    assert f"#{wish_id}" in alert.text
    queue = await admin.say("/queue", expect="待处理")
    assert "吹哨已超期" in queue.text


async def test_an_answered_escalation_is_not_chased(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann = stage.person(101, "张阿姨")
    ann_uid = await resident(stage, ann)
    wish_id = await file_wish(stage, ann_uid, "小区门口的路面塌了一个大坑，很危险")
    async with stage.app.sessions() as session:
        await dispatch.escalate(
            stage.app,
            session,
            admin_uid,
            wish_id,
            department="housing",
            note="",
            deadline=clock.now + timedelta(days=3),
        )
    async with stage.app.sessions() as session:
        keys = (await session.scalars(select(Timer.key).where(Timer.status == "pending"))).all()
    assert any("escalation" in k for k in keys)
    async with stage.app.sessions() as session:
        await dispatch.answer_escalation(
            stage.app, session, admin_uid, wish_id, answer="已安排修复", close=True
        )
    clock.advance(days=4)
    seen = len(stage.fake.messages(admin.id))
    await fire(stage)
    assert "吹哨" not in texts_since(admin, seen)


async def _claimed_task(stage: Stage, admin: Person) -> tuple[int, int, int, Person, Person]:
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    ann, li = stage.person(101, "张阿姨"), stage.person(201, "李明")
    ann_uid = await resident(stage, ann)
    li_uid = await volunteer(stage, li)
    wish_id = await file_wish(stage, ann_uid, "厨房水管漏水了，有人能来修吗")
    async with stage.app.sessions() as session:
        await dispatch.approve(
            stage.app, session, admin_uid, wish_id, difficulty="normal", deadline=None
        )
    async with stage.app.sessions() as session:
        await claims.claim(stage.app, session, wish_id, li_uid)
    await stage.fake.settle()
    return wish_id, ann_uid, li_uid, ann, li


async def test_volunteer_nudged_reminded_and_staff_alerted_when_late(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    wish_id, _, li_uid, _, li = await _claimed_task(stage, admin)
    tasks = stage.app.settings.tasks
    # No time agreed after nudge_hours: the volunteer is nudged, once.
    clock.advance(hours=tasks.nudge_hours, minutes=1)
    mark = stage.fake.mark()
    await fire(stage)
    nudge = await li.expect("还没有约定时间", after=mark)
    assert f"#{wish_id}" in nudge.text
    seen = len(stage.fake.messages(li.id))
    await fire(stage)
    assert "还没有约定时间" not in texts_since(li, seen)
    # A time is agreed two days ahead: reminders before it (a day before, an hour before).
    agreed = clock.now + timedelta(days=2)
    async with stage.app.sessions() as session:
        await lifecycle.set_agreed_time(stage.app, session, wish_id, li_uid, agreed)
    clock.now = agreed - timedelta(minutes=max(tasks.reminder_minutes) - 1)
    mark = stage.fake.mark()
    await fire(stage)
    await li.expect("约定在", after=mark)
    clock.now = agreed - timedelta(minutes=min(tasks.reminder_minutes) - 1)
    mark = stage.fake.mark()
    await fire(stage)
    await li.expect("约定在", after=mark)
    # Not done overdue_hours after the agreed time: staff are alerted.
    clock.now = agreed + timedelta(hours=tasks.overdue_hours, minutes=1)
    mark = stage.fake.mark()
    await fire(stage)
    alert = await admin.expect("已超时未完成", after=mark)
    assert f"#{wish_id}" in alert.text


async def test_a_task_done_in_time_raises_no_overdue_alert(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    wish_id, _, li_uid, _, _ = await _claimed_task(stage, admin)
    agreed = clock.now + timedelta(hours=2)
    async with stage.app.sessions() as session:
        await lifecycle.set_agreed_time(stage.app, session, wish_id, li_uid, agreed)
    clock.now = agreed
    async with stage.app.sessions() as session:
        await lifecycle.mark_done(stage.app, session, wish_id, li_uid, "修好了", None)
    clock.advance(hours=stage.app.settings.tasks.overdue_hours + 1)
    seen = len(stage.fake.messages(admin.id))
    await fire(stage)
    assert "已超时未完成" not in texts_since(admin, seen)


async def test_resident_reminded_to_confirm_then_staff_decide(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    wish_id, _, li_uid, ann, _ = await _claimed_task(stage, admin)
    async with stage.app.sessions() as session:
        await lifecycle.mark_done(stage.app, session, wish_id, li_uid, "换了接头", None)
    tasks = stage.app.settings.tasks
    clock.advance(hours=tasks.confirm_reminder_hours, minutes=1)
    mark = stage.fake.mark()
    await fire(stage)
    reminder = await ann.expect("请打个分确认", after=mark)
    assert reminder.buttons  # the stars to press
    clock.advance(days=tasks.confirm_timeout_days)
    mark = stage.fake.mark()
    await fire(stage)
    card = await admin.expect("居民一直没有确认", after=mark)
    assert f"#{wish_id}" in card.text


async def test_a_confirmed_task_is_not_chased(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    wish_id, ann_uid, li_uid, ann, _ = await _claimed_task(stage, admin)
    async with stage.app.sessions() as session:
        await lifecycle.mark_done(stage.app, session, wish_id, li_uid, "换了接头", None)
    async with stage.app.sessions() as session:
        await lifecycle.confirm(stage.app, session, wish_id, ann_uid, 5)
    clock.advance(days=stage.app.settings.tasks.confirm_timeout_days + 1)
    seen_ann, seen_admin = len(ann.inbox()), len(admin.inbox())
    await fire(stage)
    assert "请打个分确认" not in texts_since(ann, seen_ann)
    assert "没有确认" not in texts_since(admin, seen_admin)
