"""Time windows and urgency read from wish texts, table-driven against fixed clocks."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.timewindow import extract_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUNDAY_NIGHT = datetime(2026, 11, 22, 21, 30, tzinfo=SHANGHAI)  # a Sunday
MONTH_END = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # a Monday, last day of November
YEAR_END = datetime(2026, 12, 31, 16, 0, tzinfo=SHANGHAI)  # a Thursday
SUNDAY_1AM = datetime(2026, 11, 29, 1, 0, tzinfo=SHANGHAI)  # lunar 2026-10-21
BEFORE_NATIONAL_DAY = datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI)  # a make-up working Sunday
SATURDAY_MORNING = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    """'2026-11-28 08:00' in Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


WINDOWS: list[tuple[datetime, str, str | None, str | None]] = [
    # --- Sunday 2026-11-22 21:30 -------------------------------------------------------
    (SUNDAY_NIGHT, "厨房水管漏水了，周六上午有人能来修吗", "2026-11-28 08:00", "2026-11-28 12:00"),
    (SUNDAY_NIGHT, "今晚7点", "2026-11-22 19:00", "2026-11-22 20:00"),
    (SUNDAY_NIGHT, "明天下午3点", "2026-11-23 15:00", "2026-11-23 16:00"),
    (SUNDAY_NIGHT, "3点半", "2026-11-22 15:30", "2026-11-22 16:30"),
    (SUNDAY_NIGHT, "下午两点", "2026-11-22 14:00", "2026-11-22 15:00"),
    (SUNDAY_NIGHT, "星期天", "2026-11-22 00:00", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "礼拜三", "2026-11-25 00:00", "2026-11-26 00:00"),
    (SUNDAY_NIGHT, "下周三", "2026-11-25 00:00", "2026-11-26 00:00"),
    (SUNDAY_NIGHT, "下下周三", "2026-12-02 00:00", "2026-12-03 00:00"),
    (SUNDAY_NIGHT, "这周三", "2026-11-18 00:00", "2026-11-19 00:00"),
    (SUNDAY_NIGHT, "上周五", "2026-11-13 00:00", "2026-11-14 00:00"),
    (SUNDAY_NIGHT, "这周末", "2026-11-22 21:30", "2026-11-23 00:00"),  # what is left of it
    (SUNDAY_NIGHT, "这个周末", "2026-11-22 21:30", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "周末", "2026-11-22 21:30", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "下周末", "2026-11-28 00:00", "2026-11-30 00:00"),
    # Last weekend is past and whole, like 上周六 (it was clipped to "now" and ended before it).
    (SUNDAY_NIGHT, "上周末", "2026-11-14 00:00", "2026-11-16 00:00"),
    (SUNDAY_1AM, "上周末水管坏了", "2026-11-21 00:00", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "月底前", "2026-11-22 21:30", "2026-12-01 00:00"),
    (SUNDAY_NIGHT, "月底", "2026-11-30 00:00", "2026-12-01 00:00"),
    (SUNDAY_NIGHT, "本周内", "2026-11-22 21:30", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "这几天", "2026-11-22 21:30", "2026-11-25 00:00"),
    (SUNDAY_NIGHT, "过两天", "2026-11-24 00:00", "2026-11-27 00:00"),
    (SUNDAY_NIGHT, "下个月", "2026-12-01 00:00", "2027-01-01 00:00"),
    (SUNDAY_NIGHT, "年底前", "2026-11-22 21:30", "2027-01-01 00:00"),
    (SUNDAY_NIGHT, "12月5日", "2026-12-05 00:00", "2026-12-06 00:00"),
    (SUNDAY_NIGHT, "12号", "2026-12-12 00:00", "2026-12-13 00:00"),
    (SUNDAY_NIGHT, "今天上午", "2026-11-22 08:00", "2026-11-22 12:00"),
    (SUNDAY_NIGHT, "后天晚上", "2026-11-24 18:00", "2026-11-24 22:00"),
    (SUNDAY_NIGHT, "大后天", "2026-11-25 00:00", "2026-11-26 00:00"),
    (SUNDAY_NIGHT, "明早八点", "2026-11-23 08:00", "2026-11-23 09:00"),
    (SUNDAY_NIGHT, "明天上午10点到12点", "2026-11-23 10:00", "2026-11-23 12:00"),
    (SUNDAY_NIGHT, "明天中午", "2026-11-23 11:00", "2026-11-23 13:00"),
    (SUNDAY_NIGHT, "明天早上", "2026-11-23 06:00", "2026-11-23 09:00"),
    (SUNDAY_NIGHT, "凌晨2点", "2026-11-22 02:00", "2026-11-22 03:00"),
    (SUNDAY_NIGHT, "晚上12点", "2026-11-23 00:00", "2026-11-23 01:00"),
    (SUNDAY_NIGHT, "下午2点到5点", "2026-11-22 14:00", "2026-11-22 17:00"),
    (SUNDAY_NIGHT, "晚上11点到1点", "2026-11-22 23:00", "2026-11-23 01:00"),
    (SUNDAY_NIGHT, "周一到周五晚上都行", "2026-11-23 18:00", "2026-11-23 22:00"),
    (SUNDAY_NIGHT, "明天晚上八点半", "2026-11-23 20:30", "2026-11-23 21:30"),
    (SUNDAY_NIGHT, "今天下午三点一刻", "2026-11-22 15:15", "2026-11-22 16:15"),
    (SUNDAY_NIGHT, "10点", "2026-11-22 10:00", "2026-11-22 11:00"),
    (SUNDAY_NIGHT, "周六下午4点", "2026-11-28 16:00", "2026-11-28 17:00"),
    (SUNDAY_NIGHT, "下礼拜二上午", "2026-11-24 08:00", "2026-11-24 12:00"),
    (SUNDAY_NIGHT, "19:30", "2026-11-22 19:30", "2026-11-22 20:30"),
    (SUNDAY_NIGHT, "明天下午３点", "2026-11-23 15:00", "2026-11-23 16:00"),  # full-width 3
    (SUNDAY_NIGHT, "明天 我下午三点在家", "2026-11-23 15:00", "2026-11-23 16:00"),
    (SUNDAY_NIGHT, "周末上午", "2026-11-22 08:00", "2026-11-22 12:00"),
    (SUNDAY_NIGHT, "today", "2026-11-22 00:00", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "tonight", "2026-11-22 18:00", "2026-11-22 22:00"),
    (SUNDAY_NIGHT, "tomorrow 3pm", "2026-11-23 15:00", "2026-11-23 16:00"),
    (SUNDAY_NIGHT, "this Saturday morning", "2026-11-28 08:00", "2026-11-28 12:00"),
    (SUNDAY_NIGHT, "next Wednesday", "2026-11-25 00:00", "2026-11-26 00:00"),
    (SUNDAY_NIGHT, "this weekend", "2026-11-22 21:30", "2026-11-23 00:00"),
    (SUNDAY_NIGHT, "next weekend", "2026-11-28 00:00", "2026-11-30 00:00"),
    (SUNDAY_NIGHT, "by the end of the month", "2026-11-22 21:30", "2026-12-01 00:00"),
    (SUNDAY_NIGHT, "Monday afternoon", "2026-11-23 13:00", "2026-11-23 18:00"),
    (SUNDAY_NIGHT, "at 7pm", "2026-11-22 19:00", "2026-11-22 20:00"),
    (SUNDAY_NIGHT, "tonight at 8", "2026-11-22 20:00", "2026-11-22 21:00"),
    (SUNDAY_NIGHT, "Dec 5", "2026-12-05 00:00", "2026-12-06 00:00"),
    (SUNDAY_NIGHT, "tomorrow at 10:30 am", "2026-11-23 10:30", "2026-11-23 11:30"),
    (SUNDAY_NIGHT, "Wednesday at 4:30", "2026-11-25 16:30", "2026-11-25 17:30"),
    (SUNDAY_NIGHT, "next week", "2026-11-23 00:00", "2026-11-30 00:00"),
    (SUNDAY_NIGHT, "next month", "2026-12-01 00:00", "2027-01-01 00:00"),
    (SUNDAY_NIGHT, "the day after tomorrow in the evening", "2026-11-24 18:00", "2026-11-24 22:00"),
    (SUNDAY_NIGHT, "in the next few days", "2026-11-22 21:30", "2026-11-25 00:00"),
    (SUNDAY_NIGHT, "水管漏水了", None, None),
    (SUNDAY_NIGHT, "买一点菜", None, None),  # "a little", not one o'clock
    (SUNDAY_NIGHT, "3号楼502", None, None),  # building 3, not the 3rd
    (SUNDAY_NIGHT, "一日三餐没人做", None, None),
    (SUNDAY_NIGHT, "每周一次就行", None, None),  # once a week, not Monday
    (SUNDAY_NIGHT, "my flat is on the 5th floor", None, None),
    # --- Monday 2026-11-30 10:00, the last day of the month ----------------------------
    (MONTH_END, "月底前", "2026-11-30 10:00", "2026-12-01 00:00"),
    (MONTH_END, "月底", "2026-11-30 00:00", "2026-12-01 00:00"),
    (MONTH_END, "下个月", "2026-12-01 00:00", "2027-01-01 00:00"),
    (MONTH_END, "周一", "2026-11-30 00:00", "2026-12-01 00:00"),
    (MONTH_END, "周三", "2026-12-02 00:00", "2026-12-03 00:00"),
    (MONTH_END, "这周三", "2026-12-02 00:00", "2026-12-03 00:00"),
    (MONTH_END, "下周三", "2026-12-09 00:00", "2026-12-10 00:00"),
    (MONTH_END, "30号", "2026-11-30 00:00", "2026-12-01 00:00"),
    (MONTH_END, "5号", "2026-12-05 00:00", "2026-12-06 00:00"),
    (MONTH_END, "这周末", "2026-12-05 00:00", "2026-12-07 00:00"),
    (MONTH_END, "本周内", "2026-11-30 10:00", "2026-12-07 00:00"),
    (MONTH_END, "by the end of the month", "2026-11-30 10:00", "2026-12-01 00:00"),
    # --- Thursday 2026-12-31 16:00, the last day of the year ---------------------------
    (YEAR_END, "月底前", "2026-12-31 16:00", "2027-01-01 00:00"),
    (YEAR_END, "下个月", "2027-01-01 00:00", "2027-02-01 00:00"),
    (YEAR_END, "明天上午", "2027-01-01 08:00", "2027-01-01 12:00"),
    (YEAR_END, "12月5日", "2027-12-05 00:00", "2027-12-06 00:00"),
    (YEAR_END, "1月3号", "2027-01-03 00:00", "2027-01-04 00:00"),
    (YEAR_END, "5号", "2027-01-05 00:00", "2027-01-06 00:00"),
    (YEAR_END, "31号", "2026-12-31 00:00", "2027-01-01 00:00"),
    (YEAR_END, "年底前", "2026-12-31 16:00", "2027-01-01 00:00"),
    (YEAR_END, "周末", "2027-01-02 00:00", "2027-01-04 00:00"),
    (YEAR_END, "next week", "2027-01-04 00:00", "2027-01-11 00:00"),
    (YEAR_END, "Jan 3rd", "2027-01-03 00:00", "2027-01-04 00:00"),
    # --- Sunday 2026-11-29 01:00: the weekend in progress, festivals, lunar dates -------
    (SUNDAY_1AM, "周末", "2026-11-29 01:00", "2026-11-30 00:00"),
    (SUNDAY_1AM, "这个周末能来吗", "2026-11-29 01:00", "2026-11-30 00:00"),
    (SUNDAY_1AM, "this weekend", "2026-11-29 01:00", "2026-11-30 00:00"),
    (SUNDAY_1AM, "下周末", "2026-12-05 00:00", "2026-12-07 00:00"),
    (SATURDAY_MORNING, "周末", "2026-11-28 09:00", "2026-11-30 00:00"),
    (SUNDAY_1AM, "初五上午", "2026-12-13 08:00", "2026-12-13 12:00"),  # lunar 11-05
    (SUNDAY_1AM, "初八", "2026-12-16 00:00", "2026-12-17 00:00"),
    (SUNDAY_1AM, "腊月二十三", "2027-01-30 00:00", "2027-01-31 00:00"),
    (SUNDAY_1AM, "正月十五晚上", "2027-02-20 18:00", "2027-02-20 22:00"),
    (SUNDAY_1AM, "农历十月二十五", "2026-12-03 00:00", "2026-12-04 00:00"),
    (SUNDAY_1AM, "春节前", "2026-11-29 01:00", "2027-02-06 00:00"),  # 春节 2027 is 02-06
    (SUNDAY_1AM, "过年前帮忙打扫一下", "2026-11-29 01:00", "2027-02-06 00:00"),
    (SUNDAY_1AM, "除夕", "2027-02-05 00:00", "2027-02-06 00:00"),
    (SUNDAY_1AM, "春节期间", "2027-02-05 00:00", "2027-02-13 00:00"),  # beyond the data: 8 days
    (SUNDAY_1AM, "国庆节期间", "2027-10-01 00:00", "2027-10-08 00:00"),
    (SUNDAY_1AM, "清明", "2027-04-05 00:00", "2027-04-06 00:00"),  # the solar term
    (SUNDAY_1AM, "中秋节", "2027-09-15 00:00", "2027-09-16 00:00"),
    (SUNDAY_1AM, "元旦前", "2026-11-29 01:00", "2027-01-01 00:00"),
    # The official holiday from chinese_calendar, make-up working days excluded.
    (BEFORE_NATIONAL_DAY, "国庆节期间", "2026-10-01 00:00", "2026-10-08 00:00"),
    (BEFORE_NATIONAL_DAY, "国庆放假的时候", "2026-10-01 00:00", "2026-10-08 00:00"),
    (BEFORE_NATIONAL_DAY, "中秋节", "2026-09-25 00:00", "2026-09-26 00:00"),
    (BEFORE_NATIONAL_DAY, "中秋假期", "2026-09-25 00:00", "2026-09-28 00:00"),
    (BEFORE_NATIONAL_DAY, "国庆前", "2026-09-20 10:00", "2026-10-01 00:00"),
]

# A part of day that describes the problem or the household is not the time wanted.
DESCRIPTION_VERSUS_TIME: list[tuple[str, str | None, str | None]] = [
    ("楼道里晚上黑咕隆咚的，灯坏了", None, None),
    ("晚上黑咕隆咚的", None, None),
    ("晚上楼道太黑了看不见", None, None),
    ("每天晚上楼上都很吵", None, None),
    ("一到晚上就咳嗽", None, None),
    ("我晚上睡不着", None, None),
    ("晚上老是停电", None, None),
    ("孩子上初三了，数学跟不上", None, None),
    ("初三的数学题不会做", None, None),
    ("晚上黑，明天上午来修吧", "2026-11-30 08:00", "2026-11-30 12:00"),
    ("白天家里没人，晚上7点以后来", "2026-11-29 19:00", "2026-11-29 20:00"),
    ("晚上来修吧", "2026-11-29 18:00", "2026-11-29 22:00"),
    ("晚上就行", "2026-11-29 18:00", "2026-11-29 22:00"),
    ("白天上班，晚上也可以", "2026-11-29 18:00", "2026-11-29 22:00"),
    ("晚上有空，来帮我看看灯", "2026-11-29 18:00", "2026-11-29 22:00"),
    ("明天晚上", "2026-11-30 18:00", "2026-11-30 22:00"),
    ("下午都在家", "2026-11-29 13:00", "2026-11-29 18:00"),
]


@pytest.mark.parametrize(("text", "start", "end"), DESCRIPTION_VERSUS_TIME)
def test_description_versus_time(text: str, start: str | None, end: str | None) -> None:
    info = extract_time(text, SUNDAY_1AM)
    assert info.start == (at(start) if start else None)
    assert info.end == (at(end) if end else None)


@pytest.mark.parametrize(("now", "text", "start", "end"), WINDOWS)
def test_window(now: datetime, text: str, start: str | None, end: str | None) -> None:
    info = extract_time(text, now)
    assert info.start == (at(start) if start else None)
    assert info.end == (at(end) if end else None)


def test_the_table_covers_enough_expressions() -> None:
    assert len(WINDOWS) >= 60


URGENCY = [
    ("十万火急 水管爆了", True),
    ("急！！", True),
    ("很着急 快来人", True),
    ("请尽快安排", True),
    ("马上来", True),
    ("赶紧派人", True),
    ("立刻过来", True),
    ("越快越好", True),
    ("紧急情况", True),
    ("ASAP please", True),
    ("it's urgent", True),
    ("come right away please", True),
    ("as soon as possible", True),
    ("need help immediately", True),
    ("不急", False),
    ("不着急 有空再来", False),
    ("不是很急", False),
    ("不用马上来", False),
    ("没那么急", False),
    ("别着急 慢慢来", False),
    ("not urgent", False),
    ("no rush, whenever you can", False),
    ("no hurry at all", False),
    ("孩子马上要中考了", False),  # about to, not right now
    ("周六上午来修", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "urgent"), URGENCY)
def test_urgency(text: str, urgent: bool) -> None:
    assert extract_time(text, SUNDAY_NIGHT).urgent is urgent


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("厨房水管漏水了，周六上午有人能来修吗", "周六上午"),
        ("明天 我下午三点在家", "明天 下午三点"),
        ("明天的下午", "明天的下午"),
        ("Can you come Tomorrow at 3pm?", "tomorrow at 3pm"),
        ("明天下午３点", "明天下午3点"),
        ("水管漏水了 急", None),
    ],
)
def test_matched_text(text: str, matched: str | None) -> None:
    assert extract_time(text, SUNDAY_NIGHT).matched == matched


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        extract_time("明天上午", datetime(2026, 11, 22, 21, 30))


def test_the_window_is_in_the_timezone_of_now() -> None:
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 11, 22, 21, 30, tzinfo=new_york)
    info = extract_time("明天上午", now)
    assert info.start == datetime(2026, 11, 23, 8, 0, tzinfo=new_york)
    assert info.start is not None and info.start.tzinfo is new_york


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            list("今明后天周末星期一二三四五六日上下午晚点半号月底前急不 0123456789:ampm")
        ),
        max_size=30,
    )
)
def test_any_text_gives_an_ordered_aware_window(text: str) -> None:
    info = extract_time(text, SUNDAY_NIGHT)
    assert (info.start is None) == (info.end is None) == (info.matched is None)
    if info.start is not None and info.end is not None:
        assert info.start < info.end
        assert info.start.tzinfo is SHANGHAI and info.end.tzinfo is SHANGHAI
