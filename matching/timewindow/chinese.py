"""Chinese time expressions: relative days, weekdays, weekends, month ends, dates, parts of
day and clock times (三点半, 3点到5点)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from matching.timewindow.dates import (
    at,
    date_on_or_after,
    first_of_next_month,
    monday_of,
    valid_date,
    week_offset_of,
    weekday_date,
)
from matching.timewindow.lexicon import NUM, PART_WORDS, WEEKDAYS_ZH, number
from matching.timewindow.tokens import (
    Pattern,
    Token,
    day_token,
    registrar,
    span_token,
    weekend_token,
)

PATTERNS: list[Pattern] = []
_pattern = registrar(PATTERNS)


# Chinese relative days; 今晚/明早 also carry a part of day.
_RELATIVE_DAYS_ZH = {"今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "明儿": 1}
_RELATIVE_DAYS_ZH |= {"后天": 2, "大后天": 3}
_DAY_WITH_PART_ZH = {"今晚": (0, "evening"), "明晚": (1, "evening"), "今早": (0, "early")}
_DAY_WITH_PART_ZH |= {"明早": (1, "early"), "今夜": (0, "late"), "明夜": (1, "late")}


@_pattern(r"大后天|后天|明天|明日|明儿|今天|今日|今儿")
def _relative_day_zh(match: re.Match[str], now: datetime) -> Token:
    return day_token(match, now.date() + timedelta(days=_RELATIVE_DAYS_ZH[match.group()]))


@_pattern(r"今晚|明晚|今早|明早|今夜|明夜")
def _day_with_part_zh(match: re.Match[str], now: datetime) -> Token:
    offset, part = _DAY_WITH_PART_ZH[match.group()]
    return day_token(match, now.date() + timedelta(days=offset), part)


@_pattern(
    r"(?P<pre>下下个?|下个?|这个?|本|上个?|每)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七1-7])(?![次遍回])"
)
def _weekday_zh(match: re.Match[str], now: datetime) -> Token:
    weekday = WEEKDAYS_ZH[match.group("wd")]
    return day_token(match, weekday_date(now, weekday, week_offset_of(match.group("pre"))))


@_pattern(r"(?P<pre>下下个?|下个?|这个?|本|上个?)?(?:周末|礼拜天?末)")
def _weekend_zh(match: re.Match[str], now: datetime) -> Token:
    return weekend_token(match, now, week_offset_of(match.group("pre")) or 0)


@_pattern(r"(?:这个?|本)?月底(?:之前|以前|前)")
def _by_month_end_zh(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(first_of_next_month(now.date()), now))


@_pattern(r"(?:这个?|本)?月底")
def _month_end_zh(match: re.Match[str], now: datetime) -> Token:
    last = first_of_next_month(now.date()) - timedelta(days=1)
    return day_token(match, last)


@_pattern(r"(?:这个?|本)(?:周|星期|礼拜)(?:之内|以内|内)?")
def _this_week_zh(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(monday_of(now.date()) + timedelta(days=7), now))


@_pattern(r"下个?(?:周|星期|礼拜)(?![一二三四五六日天七1-7末])")
def _next_week_zh(match: re.Match[str], now: datetime) -> Token:
    monday = monday_of(now.date()) + timedelta(days=7)
    return span_token(match, at(monday, now), at(monday + timedelta(days=7), now))


@_pattern(r"这几天|这两天|最近几天|近几天|这些天|最近这几天")
def _next_days_zh(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(now.date() + timedelta(days=3), now))


@_pattern(r"过几天|过两天")
def _in_a_few_days_zh(match: re.Match[str], now: datetime) -> Token:
    today = now.date()
    return span_token(match, at(today + timedelta(days=2), now), at(today + timedelta(days=5), now))


@_pattern(r"下个?月(?!底)")
def _next_month_zh(match: re.Match[str], now: datetime) -> Token:
    first = first_of_next_month(now.date())
    return span_token(match, at(first, now), at(first_of_next_month(first), now))


@_pattern(r"(?:今|这个?|本)?年底(?:之前|以前|前)")
def _by_year_end_zh(match: re.Match[str], now: datetime) -> Token:
    return span_token(match, now, at(date(now.year + 1, 1, 1), now))


@_pattern(rf"(?P<mo>{NUM})月(?P<d>{NUM})[日号]")
def _month_day_zh(match: re.Match[str], now: datetime) -> Token | None:
    month, day = number(match.group("mo")), number(match.group("d"))
    if month is None or day is None:
        return None
    found = date_on_or_after(now.date(), month, day)
    return None if found is None else day_token(match, found)


# "12号", "12日"; not "3号楼", "5号线", nor "一日三餐" (a Chinese numeral needs 号).
@_pattern(rf"(?<![月\d])(?:(?P<d>{NUM})号|(?P<dd>\d{{1,2}})日)(?![楼线床门房院单车窗位码机桌])")
def _day_of_month_zh(match: re.Match[str], now: datetime) -> Token | None:
    day = number(match.group("d") or match.group("dd"))
    if day is None or not 1 <= day <= 31:
        return None
    today = now.date()
    month_start = today.replace(day=1)
    for first in (month_start, first_of_next_month(month_start)):
        candidate = valid_date(first.year, first.month, day)
        if candidate is not None and candidate >= today:
            return day_token(match, candidate)
    return None


# "晚上黑咕隆咚的", "一到晚上就咳嗽", "白天家里没人": the part of day describes the problem
# or the household, it is not when the resident wants help.
_DESCRIBED_AFTER = re.compile(
    r"^[^，,。.!！?？;；]{0,6}?(?:黑|暗|看不见|看不清|睡不着|吵|闹|咳|疼|痛|难受|害怕|不敢|"
    r"停电|没电|没灯|灯不亮|没人|不在家|上班|经常|老是|总是|一直|常常)"
)
_HABITUAL_BEFORE = re.compile(r"(?:每天|天天|每到|一到|每个|每|到了|一)$")


@_pattern("|".join(sorted(PART_WORDS, key=len, reverse=True)))
def _part_of_day(match: re.Match[str], now: datetime) -> Token | None:
    text = match.string
    if not text[match.start() : match.end()].isascii():
        after = text[match.end() : match.end() + 10]
        before = text[max(0, match.start() - 2) : match.start()]
        if _DESCRIBED_AFTER.match(after) or _HABITUAL_BEFORE.search(before):
            return None
    return Token("part", match.start(), match.end(), part=PART_WORDS[match.group()])


def _clock_zh_regex(suffix: str) -> str:
    """ "3点", "三点半", "10点一刻", "8点20(分)", "两点钟", with group names ending in suffix."""
    minutes = rf"(?:(?P<half{suffix}>半)|(?P<q{suffix}>[一三])刻|(?P<m{suffix}>{NUM})分?)"
    return rf"(?P<h{suffix}>{NUM})[点點](?:钟)?{minutes}?"


_CLOCK_ZH_START = _clock_zh_regex("")
_CLOCK_ZH_END = _clock_zh_regex("2")


@_pattern(rf"{_CLOCK_ZH_START}(?:\s*(?:到|至|-|~|—)\s*{_CLOCK_ZH_END})?")
def _clock_zh(match: re.Match[str], now: datetime) -> Token | None:
    begin = _clock_parts(match, "h", "half", "q", "m")
    if begin is None:
        return None
    # "一点" is far more often "a little" (买一点菜) than one o'clock.
    after = match.string[match.end() : match.end() + 1]
    if match.group("h") == "一" and not match.group(0)[2:] and after not in ("钟", "左", "前"):
        before = match.string[max(0, match.start() - 2) : match.start()]
        if not any(word in before for word in PART_WORDS):
            return None
    until = _clock_parts(match, "h2", "half2", "q2", "m2") if match.group("h2") else None
    return Token("clock", match.start(), match.end(), clock=begin, until=until)


def _clock_parts(match: re.Match[str], h: str, half: str, q: str, m: str) -> tuple[int, int] | None:
    hour = number(match.group(h))
    if hour is None or hour > 24:
        return None
    minute = 0
    if match.group(half):
        minute = 30
    elif match.group(q):
        minute = 15 if match.group(q) == "一" else 45
    elif match.group(m):
        parsed = number(match.group(m))
        if parsed is None or parsed > 59:
            return None
        minute = parsed
    return hour, minute
