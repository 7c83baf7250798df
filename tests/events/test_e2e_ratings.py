"""Event evaluation end to end: an attendee is asked when the event ends, rates it and adds a
comment; someone absent cannot; the organiser opens the event and sees the ratings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Grid
from bot.demo.stage import Stage
from bot.scheduler.timers import fire_due
from bot.services.outreach import checkin, events, signups
from bot.services.outreach.events import EventDraft, Segment
from tests.conftest import ManualClock
from tests.e2e.seed import user_id, volunteer

pytestmark = pytest.mark.e2e


async def _answer(stage: Stage, query_id: str) -> Any:
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query_id) is not None, timeout=10)
    return stage.fake.answer_for(query_id)


async def test_an_attendee_rates_and_the_organiser_sees_it(
    stage: Stage, clock: ManualClock
) -> None:
    admin = stage.person(9001, "王主任")
    await admin.say("/start")
    admin_uid = await user_id(stage, admin)
    li, wang = stage.person(201, "李明"), stage.person(202, "王刚")
    li_uid = await volunteer(stage, li, grid="G02")
    await volunteer(stage, wang, grid="G02")
    async with stage.app.sessions() as session:
        g02 = await session.scalar(select(Grid.id).where(Grid.code == "G02"))
    starts = clock.now + timedelta(days=2)
    draft = EventDraft(
        title="社区环境清洁",
        description="",
        place="社区广场",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        slots=5,
        skills=(),
        points=5,
        signup_deadline=starts - timedelta(hours=1),
        segment=Segment("grid", grid_id=g02),
    )
    async with stage.app.sessions() as session:
        event, _ = await events.create_event(stage.app, session, admin_uid, draft)
    for uid in (li_uid, await user_id(stage, wang)):
        async with stage.app.sessions() as session:
            await signups.sign_up(stage.app, session, event.id, uid)
    clock.now = starts
    await fire_due(stage.app)  # the reminders
    async with stage.app.sessions() as session:
        await checkin.mark(stage.app, session, admin_uid, event.id, li_uid, attended=True)
    # The event ends: the one present is asked (through the outbox), the absent one is not.
    clock.now = event.ends_at
    mark = stage.fake.mark()
    assert await fire_due(stage.app) == 1
    prompt = await li.expect("您觉得这次活动怎么样", after=mark, timeout=15)
    assert "社区环境清洁" in prompt.text and "⭐⭐⭐⭐⭐" in prompt.button_texts()
    await li.press(
        data=f"evr:star:{event.id}:4", message_id=prompt.message_id, expect="谢谢您的评价"
    )
    await li.press("✍️ 写评语", expect="请写下您的评语")
    await li.say("组织得很好，工具也够用", expect="评语已收到")
    # Pressed again on the old prompt: refused kindly, the rating stands.
    query = await stage.fake.forge_press(
        li.user, li.id, prompt.message_id, f"evr:star:{event.id}:1"
    )
    assert "已经评价过" in (await _answer(stage, query)).text
    # Wang signed up but was not there: he may not rate it.
    assert not [m for m in wang.inbox() if "您觉得这次活动怎么样" in m.text]
    target = await wang.say("/help")
    query = await stage.fake.forge_press(
        wang.user, wang.id, target.message_id, f"evr:star:{event.id}:5"
    )
    assert "签到参加" in (await _answer(stage, query)).text
    # The organiser opens the event from /checkin and reads the ratings.
    await admin.say("/checkin", expect="活动")
    await admin.press(f"#{event.id} 社区环境清洁", expect="社区广场")
    results = await admin.press("⭐ 评价结果", expect="的评价")
    assert results is not None
    assert "1/1" in results.text and "平均 4.0" in results.text
    assert "组织得很好" in results.text and "李明" not in results.text
