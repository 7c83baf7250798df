"""/delete_me also empties a person's suggestions and event comments (the counts stay)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models import EventRating, Suggestion
from bot.db.models.events import EventSignup
from bot.demo.stage import Stage
from bot.services.outreach import ratings
from bot.services.suggestions import loop
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer
from tests.e2e.test_privacy import _everything
from tests.events.test_e2e_events import _event

SUGGESTION = "建议在9栋楼下装个遮雨棚，下雨天等车淋湿"
REPLY = "已记下，下月施工"
COMMENT = "活动组织得井井有条"


async def test_delete_me_empties_suggestions_and_event_comments(
    stage: Stage, clock: ManualClock
) -> None:
    admin = stage.person(9001, "王主任")
    await admin.say("/start")
    staff = await user_id(stage, admin)
    ann, li = stage.person(101, "张阿姨"), stage.person(201, "李明")
    ann_uid = await resident(stage, ann)
    li_uid = await volunteer(stage, li)
    async with stage.app.sessions() as session:
        filed = await loop.file_suggestion(stage.app, session, ann_uid, SUGGESTION)
    async with stage.app.sessions() as session:
        await loop.answer(stage.app, session, staff, filed.id, REPLY)
    event_id = (await _event(stage, clock, staff)).id
    async with stage.app.sessions() as session:
        session.add(EventSignup(event_id=event_id, user_id=li_uid, status="signed", attended=True))
        await session.commit()
    clock.advance(days=3)  # the event is over
    async with stage.app.sessions() as session:
        await ratings.rate(stage.app, session, event_id, li_uid, 5)
        await ratings.comment(stage.app, session, event_id, li_uid, COMMENT)
    before = await _everything(stage)
    for needle in (SUGGESTION, REPLY, COMMENT):
        assert any(needle in v for _, _, v in before), needle
    for person in (ann, li):
        await person.say("/delete_me", expect="确定要删除")
        await person.press("确定删除", expect="已删除")
    after = await _everything(stage)
    leaks = [(t, c, n) for n in (SUGGESTION, REPLY, COMMENT) for t, c, v in after if n in v]
    assert leaks == []
    async with stage.app.sessions() as session:  # the counts stay
        assert await session.scalar(select(func.count(Suggestion.id))) == 1
        assert await session.scalar(select(EventRating.stars)) == 5
