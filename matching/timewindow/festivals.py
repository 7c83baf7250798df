"""Festivals (春节, 中秋, 国庆...), the official holidays around them, solar terms and lunar
dates (腊月二十三, 初五)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import chinese_calendar
from lunardate import LunarDate

from matching.timewindow.dates import at, date_on_or_after
from matching.timewindow.lexicon import number
from matching.timewindow.tokens import Pattern, Token, day_token, registrar, span_token

PATTERNS: list[Pattern] = []
_pattern = registrar(PATTERNS)


# Dates come from libraries, not tables: `lunardate` converts lunar dates, `chinese_calendar`
# knows the solar terms and each year's official holidays (with the make-up working days,
# 调休). Years the holiday data does not cover yet fall back to the festival day itself
# (春节 from 除夕 for 8 days, 国庆 10-01 for 7 days, as in recent years).


def _lunar_to_solar(year: int, month: int, day: int) -> date | None:
    try:
        solar: date = LunarDate(year, month, day).to_solar_date()
    except ValueError:
        return None
    return solar


def _next_lunar(today: date, month: int | None, day: int) -> date | None:
    """The next solar date (today included) of lunar month/day; month None = any month."""
    lunar = LunarDate.from_solar_date(today.year, today.month, today.day)
    if month is None:
        candidates = [(lunar.year, lunar.month)]
        for _ in range(2):
            y, m = candidates[-1]
            candidates.append((y + 1, 1) if m == 12 else (y, m + 1))
    else:
        candidates = [(lunar.year - 1, month), (lunar.year, month), (lunar.year + 1, month)]
    for y, m in candidates:
        found = _lunar_to_solar(y, m, day)
        if found is None and day == 30:
            found = _lunar_to_solar(y, m, 29)  # a short month: its last day
        if found is not None and found >= today:
            return found
    return None


def _solar_term(today: date, name: str) -> date | None:
    try:
        terms = chinese_calendar.get_solar_terms(today, today + timedelta(days=366))
    except (NotImplementedError, ValueError):
        return None
    return next((d for d, term in terms if term == name), None)


# word -> (how to find the day, holiday name in chinese_calendar or None, fallback length)
_FESTIVALS: dict[str, tuple[str, str | None, int]] = {
    "春节": ("lunar:1:1", "Spring Festival", 8),
    "过年": ("lunar:1:1", "Spring Festival", 8),
    "大年初一": ("lunar:1:1", "Spring Festival", 8),
    "除夕": ("eve", None, 1),
    "大年三十": ("eve", None, 1),
    "年三十": ("eve", None, 1),
    "元宵节": ("lunar:1:15", None, 1),
    "元宵": ("lunar:1:15", None, 1),
    "端午节": ("lunar:5:5", "Dragon Boat Festival", 1),
    "端午": ("lunar:5:5", "Dragon Boat Festival", 1),
    "中秋节": ("lunar:8:15", "Mid-autumn Festival", 1),
    "中秋": ("lunar:8:15", "Mid-autumn Festival", 1),
    "重阳节": ("lunar:9:9", None, 1),
    "重阳": ("lunar:9:9", None, 1),
    "腊八": ("lunar:12:8", None, 1),
    "小年": ("lunar:12:23", None, 1),
    "清明节": ("term:清明", "Tomb-sweeping Day", 1),
    "清明": ("term:清明", "Tomb-sweeping Day", 1),
    "国庆节": ("solar:10:1", "National Day", 7),
    "国庆": ("solar:10:1", "National Day", 7),
    "十一长假": ("solar:10:1", "National Day", 7),
    "劳动节": ("solar:5:1", "Labour Day", 1),
    "五一": ("solar:5:1", "Labour Day", 1),
    "元旦": ("solar:1:1", "New Year's Day", 1),
}


def _festival_day(today: date, how: str) -> date | None:
    kind, _, rest = how.partition(":")
    if kind == "lunar":
        month, day = (int(x) for x in rest.split(":"))
        return _next_lunar(today, month, day)
    if kind == "eve":
        new_year = _next_lunar(today + timedelta(days=1), 1, 1)
        return None if new_year is None else new_year - timedelta(days=1)
    if kind == "term":
        return _solar_term(today, rest)
    month, day = (int(x) for x in rest.split(":"))
    return date_on_or_after(today, month, day)


def _holiday_span(day: date, name: str | None, fallback_days: int) -> tuple[date, date]:
    """[first, last] day of the official holiday around `day` (chinese_calendar)."""
    if name is not None:
        try:
            if chinese_calendar.get_holiday_detail(day) == (True, name) or any(
                chinese_calendar.get_holiday_detail(day + timedelta(days=k)) == (True, name)
                for k in (-1, 1)
            ):
                first = last = day
                while chinese_calendar.get_holiday_detail(first - timedelta(days=1)) == (
                    True,
                    name,
                ):
                    first -= timedelta(days=1)
                while chinese_calendar.get_holiday_detail(last + timedelta(days=1)) == (True, name):
                    last += timedelta(days=1)
                return min(first, day), max(last, day)
        except NotImplementedError:
            pass  # a year the holiday data does not cover yet
    if name == "Spring Festival":
        return day - timedelta(days=1), day + timedelta(days=fallback_days - 2)
    return day, day + timedelta(days=fallback_days - 1)


_FESTIVAL_WORDS = "|".join(sorted(_FESTIVALS, key=len, reverse=True))


@_pattern(
    rf"(?P<f>{_FESTIVAL_WORDS})(?P<q>(?:节)?(?:之前|以前|前|期间|假期|放假的时候|放假|那几天|那天|当天)?)"
)
def _festival(match: re.Match[str], now: datetime) -> Token | None:
    how, holiday, fallback = _FESTIVALS[match.group("f")]
    qualifier = match.group("q").removeprefix("节")
    if qualifier.endswith("后"):
        return None
    day = _festival_day(now.date(), how)
    if day is None:
        return None
    if qualifier in ("之前", "以前", "前"):
        return span_token(match, now, at(day, now))
    if qualifier in ("期间", "假期", "放假的时候", "放假", "那几天") or (
        not qualifier and fallback > 1
    ):
        first, last = _holiday_span(day, holiday, fallback)
        return span_token(match, max(at(first, now), now), at(last + timedelta(days=1), now))
    return day_token(match, day)


_LUNAR_DAY = (
    r"初[一二三四五六七八九十]|十[一二三四五六七八九]|二十[一二三四五六七八九]?"
    r"|廿[一二三四五六七八九]|三十"
)
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}


def _lunar_day_number(word: str) -> int | None:
    if word.startswith("初"):
        return number(word[1:])
    if word.startswith("廿"):
        units = number(word[1:])
        return None if units is None else 20 + units
    return number(word)


@_pattern(
    rf"(?:农历|阴历)(?P<m1>十[一二]|[一二三四五六七八九十]|正|冬|腊)月(?P<d1>{_LUNAR_DAY})"
    rf"|(?P<m2>[正冬腊])月(?P<d2>{_LUNAR_DAY})"
)
def _lunar_month_day(match: re.Match[str], now: datetime) -> Token | None:
    month_word = match.group("m1") or match.group("m2")
    month = _LUNAR_MONTHS.get(month_word) or number(month_word)
    day = _lunar_day_number(match.group("d1") or match.group("d2"))
    if month is None or day is None or not 1 <= month <= 12 or not 1 <= day <= 30:
        return None
    found = _next_lunar(now.date(), month, day)
    return None if found is None else day_token(match, found)


# "初五", "初八上午": the lunar day of this lunar month, or the next one's when passed. Not the
# school years 初一/初二/初三 ("孩子上初三", "初三的数学").
@_pattern(
    r"(?<![上读念在是])(?P<d>初[一二三四五六七八九十])"
    r"(?![的]?(?:学生|年级|班|生|数学|英语|语文|物理|化学|课|孩子|学期|毕业|了|中))"
)
def _lunar_day(match: re.Match[str], now: datetime) -> Token | None:
    day = _lunar_day_number(match.group("d"))
    found = None if day is None else _next_lunar(now.date(), None, day)
    return None if found is None else day_token(match, found)
