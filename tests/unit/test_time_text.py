"""Time windows as people read them: no "11-30 00:00" for the end of a Sunday."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.config import Settings
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.tg.wish_cards import time_text
from matching.timewindow import extract_time

APP = AppContext(settings=Settings(), sessions=None, notifier=None)  # type: ignore[arg-type]
TZ = APP.settings.tz
SUNDAY_1AM = datetime(2026, 11, 29, 1, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("周末", "11-29 周日 01:00–23:59"),  # was "11-28 至 11-30 00:00"
        ("下周末", "12-05 至 12-06"),
        ("明天", "11-30 周一"),
        ("明天下午3点", "11-30 周一 15:00–16:00"),
        ("晚上11点到1点", "11-29 23:00 至 11-30 01:00"),
        ("春节前", "11-29 01:00 至 02-05"),
        ("国庆节期间", "10-01 至 10-07"),
        ("水管漏了", "不限"),
    ],
)
def test_windows_read_right(text: str, shown: str) -> None:
    info = extract_time(text, SUNDAY_1AM)
    assert time_text(APP, Translator("zh-CN"), info.start, info.end) == shown


def test_flexible_time_is_not_said_twice() -> None:
    zh = Translator("zh-CN")
    line = zh(
        "wish.card",
        id=1,
        category="维修",
        time=time_text(APP, zh, None, None),
        urgency="不急",
        status="待审核",
        text="…",
    )
    assert "时间：不限" in line and "时间：时间不限" not in line
