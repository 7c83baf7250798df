"""Staff routers split out of one module: a command of one feature typed inside another
feature's form still reaches its own router (declared commands clear the waiting state, see
bot/tg/authz.CommandAuthz), and the form goes on afterwards."""

from __future__ import annotations

import pytest

from bot.demo.stage import Person

pytestmark = pytest.mark.e2e


async def test_broadcasts_typed_while_composing_lists_them_and_the_draft_goes_on(
    admin: Person,
) -> None:
    # /broadcasts lives in handlers/staff/broadcast_progress, the form in handlers/staff/broadcasts.
    await admin.say("/broadcast", expect="群发消息")
    listed = await admin.say("/broadcasts", expect="还没有群发记录")
    assert listed is not None and "只能群发文字或图片" not in listed.text
    await admin.say("周六上午小区广场义诊，需要志愿者帮忙。", expect="发给谁")
