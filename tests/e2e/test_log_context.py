"""A log line written while staff approve a wish names the update, the staff member and the wish."""

from __future__ import annotations

import logging

import pytest

from bot import logs
from bot.demo.stage import Person, Stage
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e


async def test_offer_log_line_carries_update_user_and_wish(
    stage: Stage, admin: Person, caplog: pytest.LogCaptureFixture
) -> None:
    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await volunteer(stage, stage.person(201, "李明"))
    await ann.say("厨房水管漏水了，周六上午有人能来修吗", expect="核对")
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿")
    card = await admin.expect("水管漏水", after=mark)
    caplog.handler.addFilter(logs.ContextFilter())
    with caplog.at_level(logging.INFO, logger="bot.services.tasks.offers"):
        await admin.press("✅ 通过", message_id=card.message_id, expect="难度")
        await admin.press("一般", expect="期限")
        await admin.press("不限", expect="已通过")
    offered = [r for r in caplog.records if "offered to" in r.getMessage()]
    assert offered, "the offer round should log one line"
    context = offered[0].context  # type: ignore[attr-defined]
    assert context["wish"] == 1
    assert context["user"] == await user_id(stage, admin)
    assert isinstance(context["update"], int)
    assert str(admin.id) not in offered[0].ctx  # type: ignore[attr-defined]
