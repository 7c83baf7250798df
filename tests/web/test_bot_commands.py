"""/web and /stats in the bot, through the real bot on the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.demo.stage import Stage
from tests.conftest import ManualClock

pytestmark = pytest.mark.e2e
ADMIN = 9001


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    async with Stage(sqlite_url, admins=(ADMIN,), clock=clock) as s:  # web not configured
        yield s


async def test_stats_summarises_the_month_and_web_says_when_it_is_off(stage: Stage) -> None:
    admin = stage.person(ADMIN, "王主任")
    await admin.say("/start")
    stats = await admin.say("/stats", expect="近 30 天")
    assert "新增心愿：0" in stats.text and "审核→认领：中位数 — 小时" in stats.text
    assert "http" not in stats.text  # no dashboard to link to
    off = await admin.say("/web", expect="未开启")
    assert "web.host" in off.text
    resident = stage.person(5001, "张阿姨")
    await resident.say("/web")  # not staff: the command is not theirs
    assert all("登录链接" not in m.text for m in resident.inbox())
