"""Reading typed event times: the examples staff use, and any valid time written back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.errors import UserError
from bot.services.outreach.event_times import parse_moment, parse_span

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai


def local(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), TZ)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("12月5日 9:00-11:30", local(date(2026, 12, 5), 9), local(date(2026, 12, 5), 11, 30)),
        ("12月5号上午9点到11点半", local(date(2026, 12, 5), 9), local(date(2026, 12, 5), 11, 30)),
        ("明天 下午2点-4点", local(date(2026, 11, 21), 14), local(date(2026, 11, 21), 16)),
        (
            "１２月５日　９：００－１１：３０",
            local(date(2026, 12, 5), 9),
            local(date(2026, 12, 5), 11, 30),
        ),
        ("2026-12-05 9-11", local(date(2026, 12, 5), 9), local(date(2026, 12, 5), 11)),
        ("12/5 19:00~21:00", local(date(2026, 12, 5), 19), local(date(2026, 12, 5), 21)),
        ("Dec 5 2pm-4pm", local(date(2026, 12, 5), 14), local(date(2026, 12, 5), 16)),
        ("1月3日 9:00-10:00", local(date(2027, 1, 3), 9), local(date(2027, 1, 3), 10)),
    ],
)
def test_examples(text: str, start: datetime, end: datetime) -> None:
    assert parse_span(text, NOW, TZ) == (start, end)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("下周找个时间", "events.form.bad_time"),
        ("12月5日", "events.form.bad_time"),
        ("12月40日 9-10", "events.form.bad_time"),
        ("12月5日 25:00-26:00", "events.form.bad_time"),
        ("12月5日 11:00-9:00", "events.form.end_before_start"),
        ("今天 9:00-10:00", "events.form.in_the_past"),
    ],
)
def test_unreadable_or_impossible_times_are_refused(text: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        parse_span(text, NOW, TZ)
    assert err.value.key == key


def test_a_single_moment_for_the_deadline() -> None:
    assert parse_moment("12月4日 18:00", NOW, TZ) == local(date(2026, 12, 4), 18)
    assert parse_moment("明天晚上8点", NOW, TZ) == local(date(2026, 11, 21), 20)


@given(
    day=st.integers(min_value=1, max_value=300),
    start=st.integers(min_value=0, max_value=22 * 60),
    length=st.integers(min_value=1, max_value=120),
)
def test_any_future_span_written_the_usual_way_reads_back(
    day: int, start: int, length: int
) -> None:
    begins = local(NOW.astimezone(TZ).date() + timedelta(days=day), start // 60, start % 60)
    ends = begins + timedelta(minutes=length)
    if ends.date() != begins.date():
        ends = begins.replace(hour=23, minute=59)
    text = f"{begins.month}月{begins.day}日 {begins:%H:%M}-{ends:%H:%M}"
    assert parse_span(text, NOW, TZ) == (begins, ends)
