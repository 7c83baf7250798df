"""When a wish should be served, read from its text ("周六上午", "明天下午3点", "tonight at 8").

`extract_time(text, now)` finds day, multi-day span, part-of-day and clock expressions in
Chinese and English, combines them, and returns a window in `now`'s timezone plus urgency.

Choices (the text rarely says enough; these are the readings residents usually mean):

- A part of day is a range: 早上 06–09, 上午/morning 08–12, 中午/noon 11–13, 下午/afternoon
  13–18, 傍晚 17–19, 晚上/evening/tonight 18–22, 夜里/半夜 22–24, 凌晨 00–06, 白天 08–18.
- A clock time is [time, time + 1 h]; "3点到5点" gives its own end, the first such time
  after the start (晚上11点到1点 ends at 01:00 the next day). Without a part of day,
  1–6 o'clock means the afternoon (13–18), 7–11 the morning, 12 noon; 24-hour times and
  am/pm are taken as written. With one, 下午/晚上/pm move 1–11 into the afternoon/evening and
  晚上12点 is midnight (00:00 the next day).
- A day is [00:00, next day 00:00). No day but a part or a clock time means today.
- A bare weekday (周三, 星期天, 礼拜三, Wednesday, this Wednesday) is the next such day,
  today included: the day is not over while the resident is writing. 这周三/本周三 is the
  Wednesday of the current Monday-based week, even if it has passed; 下周三 / next Wednesday is
  the Wednesday of the next calendar week, 下下周三 the one after, 上周三 the last.
- 周末 / 这(个)周末 / this weekend is Saturday 00:00 to Monday 00:00 of the current week; on
  a Saturday or Sunday, what is left of the weekend in progress (from now); 下周末 / next
  weekend the following one. A part of day with a multi-day span (周末上午) applies to the
  span's first day.
- Festivals: 春节/过年, 除夕, 元宵, 端午, 中秋, 重阳, 腊八, 小年 (lunar, via `lunardate`), 清明
  (the solar term), 国庆/十一长假, 五一, 元旦: the next one, today included. "X前" is [now, X);
  "X期间/假期/放假" (and bare 春节/国庆) is the official holiday from `chinese_calendar`
  (its make-up working days are not part of it), or, for years it does not know yet, 8 days
  from 除夕 / 7 days from 10-01; other bare festivals are their day.
- Lunar dates: 腊月二十三, 正月十五, 农历十月二十五 are the next such lunar date; 初五 alone is
  the 5th of this lunar month, or of the next when past. 初一/初二/初三 as school years
  (孩子上初三, 初三的数学) are not dates.
- A part of day that describes the problem rather than the wanted time is ignored: followed
  closely by 黑/暗/吵/睡不着/咳/没人/不在家/上班/老是..., or after 每天/一到/每到
  ("楼道里晚上黑咕隆咚的", "白天家里没人").
- 月底前 / by the end of the month is [now, 1st of next month 00:00); 月底 alone is the last
  day of the month. 本周内 / this week is [now, next Monday 00:00); 下周 / next week is that
  Monday to the one after; 这几天 / in the next few days is [now, 3 days later 00:00);
  过几天 is days 2–4 from today; 下个月 / next month is the whole next month;
  年底前 is [now, 1 January).
- 12月5日 is this year's, or next year's when already past; 12号 is this month's, or next
  month's when already past. Other past times ("今天上午" said at 15:00) are kept as they are:
  staff see what the resident wrote.
- Urgent: 急, 着急, 尽快, 马上, 赶紧, 立刻, 十万火急, 越快越好, 紧急, ASAP, urgent, right
  away, as soon as possible, immediately, unless negated (不急, 不着急, 不用马上, not urgent,
  no rush). "马上要中考了" (about to) is not urgency.
- `matched` is the recognised text after NFKC folding (full-width digits become ASCII); parts
  that are apart in the wish are joined by a space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from lunardate import LunarDate

__all__ = ["TimeInfo", "extract_time"]


@dataclass(frozen=True, slots=True)
class TimeInfo:
    start: datetime | None  # aware, in now's tzinfo; None = flexible
    end: datetime | None
    urgent: bool
    matched: str | None  # the substring recognised, for display/debugging


def extract_time(text: str, now: datetime) -> TimeInfo:
    """Read the time window and urgency of a wish; `now` must be timezone-aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    folded = unicodedata.normalize("NFKC", text).lower()
    tokens = _select(_find_tokens(folded, now))
    window, used = _compose(tokens, now)
    matched = _matched_text(folded, used)
    return TimeInfo(window[0], window[1], _is_urgent(folded), matched)


# --- parts of day -----------------------------------------------------------------------

_PART_HOURS: dict[str, tuple[int, int]] = {
    "early": (6, 9),
    "morning": (8, 12),
    "noon": (11, 13),
    "afternoon": (13, 18),
    "dusk": (17, 19),
    "evening": (18, 22),
    "late": (22, 24),
    "small_hours": (0, 6),
    "daytime": (8, 18),
}
_PART_WORDS: dict[str, str] = {
    "早上": "early",
    "早晨": "early",
    "清早": "early",
    "一早": "early",
    "上午": "morning",
    "中午": "noon",
    "下午": "afternoon",
    "傍晚": "dusk",
    "晚上": "evening",
    "晚间": "evening",
    "夜里": "late",
    "半夜": "late",
    "深夜": "late",
    "凌晨": "small_hours",
    "白天": "daytime",
    "morning": "morning",
    "afternoon": "afternoon",
    "evening": "evening",
    "night": "evening",
    "noon": "noon",
    "midday": "noon",
    "lunchtime": "noon",
}
_PM_PARTS = frozenset({"afternoon", "dusk", "evening", "late"})

# --- numbers ------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS |= {"七": 7, "八": 8, "九": 9}
_NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"


def _number(token: str) -> int | None:
    """0–99 from digits or Chinese numerals (十一, 二十五, 两); None if malformed."""
    if token.isdigit():
        return int(token)
    if "十" not in token:
        return _CN_DIGITS.get(token) if len(token) == 1 else None
    tens, _, units = token.partition("十")
    high = _CN_DIGITS.get(tens, -1) if tens else 1
    low = _CN_DIGITS.get(units, -1) if units else 0
    return None if high < 0 or low < 0 else high * 10 + low


_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAYS_ZH |= {str(n): n - 1 for n in range(1, 8)}
_WEEKDAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS_EN = [
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
]

# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "day" | "span" | "part" | "clock"
    start: int
    end: int
    day: date | None = None
    span: tuple[datetime, datetime] | None = None
    part: str | None = None  # for "part", or implied by a day ("今晚")
    clock: tuple[int, int] | None = None  # hour, minute as written
    meridiem: str | None = None  # "am" | "pm" | None
    until: tuple[int, int] | None = None  # end of a "3点到5点" range


_Handler = Callable[[re.Match[str], datetime], "_Token | None"]
_PATTERNS: list[tuple[re.Pattern[str], _Handler]] = []


def _pattern(regex: str) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        _PATTERNS.append((re.compile(regex), handler))
        return handler

    return register


def _find_tokens(folded: str, now: datetime) -> list[_Token]:
    found: list[_Token] = []
    for regex, handler in _PATTERNS:
        for match in regex.finditer(folded):
            token = handler(match, now)
            if token is not None:
                found.append(token)
    return found


def _select(tokens: list[_Token]) -> list[_Token]:
    """Non-overlapping tokens, longer matches first, then in reading order."""
    chosen: list[_Token] = []
    for token in sorted(tokens, key=lambda t: (t.start - t.end, t.start)):
        if all(token.end <= other.start or other.end <= token.start for other in chosen):
            chosen.append(token)
    return sorted(chosen, key=lambda t: t.start)


def _day(match: re.Match[str], day: date, part: str | None = None) -> _Token:
    return _Token("day", match.start(), match.end(), day=day, part=part)


def _span(match: re.Match[str], start: datetime, end: datetime) -> _Token:
    return _Token("span", match.start(), match.end(), span=(start, end))


# Chinese relative days; 今晚/明早 also carry a part of day.
_RELATIVE_DAYS_ZH = {"今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "明儿": 1}
_RELATIVE_DAYS_ZH |= {"后天": 2, "大后天": 3}
_DAY_WITH_PART_ZH = {"今晚": (0, "evening"), "明晚": (1, "evening"), "今早": (0, "early")}
_DAY_WITH_PART_ZH |= {"明早": (1, "early"), "今夜": (0, "late"), "明夜": (1, "late")}


@_pattern(r"大后天|后天|明天|明日|明儿|今天|今日|今儿")
def _relative_day_zh(match: re.Match[str], now: datetime) -> _Token:
    return _day(match, now.date() + timedelta(days=_RELATIVE_DAYS_ZH[match.group()]))


@_pattern(r"今晚|明晚|今早|明早|今夜|明夜")
def _day_with_part_zh(match: re.Match[str], now: datetime) -> _Token:
    offset, part = _DAY_WITH_PART_ZH[match.group()]
    return _day(match, now.date() + timedelta(days=offset), part)


@_pattern(
    r"(?P<pre>下下个?|下个?|这个?|本|上个?|每)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七1-7])(?![次遍回])"
)
def _weekday_zh(match: re.Match[str], now: datetime) -> _Token:
    weekday = _WEEKDAYS_ZH[match.group("wd")]
    return _day(match, _weekday_date(now, weekday, _week_offset(match.group("pre"))))


@_pattern(r"(?P<pre>下下个?|下个?|这个?|本|上个?)?(?:周末|礼拜天?末)")
def _weekend_zh(match: re.Match[str], now: datetime) -> _Token:
    return _weekend(match, now, _week_offset(match.group("pre")) or 0)


@_pattern(r"(?:这个?|本)?月底(?:之前|以前|前)")
def _by_month_end_zh(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(_first_of_next_month(now.date()), now))


@_pattern(r"(?:这个?|本)?月底")
def _month_end_zh(match: re.Match[str], now: datetime) -> _Token:
    last = _first_of_next_month(now.date()) - timedelta(days=1)
    return _day(match, last)


@_pattern(r"(?:这个?|本)(?:周|星期|礼拜)(?:之内|以内|内)?")
def _this_week_zh(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(_monday(now.date()) + timedelta(days=7), now))


@_pattern(r"下个?(?:周|星期|礼拜)(?![一二三四五六日天七1-7末])")
def _next_week_zh(match: re.Match[str], now: datetime) -> _Token:
    monday = _monday(now.date()) + timedelta(days=7)
    return _span(match, _at(monday, now), _at(monday + timedelta(days=7), now))


@_pattern(r"这几天|这两天|最近几天|近几天|这些天|最近这几天")
def _next_days_zh(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(now.date() + timedelta(days=3), now))


@_pattern(r"过几天|过两天")
def _in_a_few_days_zh(match: re.Match[str], now: datetime) -> _Token:
    today = now.date()
    return _span(match, _at(today + timedelta(days=2), now), _at(today + timedelta(days=5), now))


@_pattern(r"下个?月(?!底)")
def _next_month_zh(match: re.Match[str], now: datetime) -> _Token:
    first = _first_of_next_month(now.date())
    return _span(match, _at(first, now), _at(_first_of_next_month(first), now))


@_pattern(r"(?:今|这个?|本)?年底(?:之前|以前|前)")
def _by_year_end_zh(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(date(now.year + 1, 1, 1), now))


@_pattern(rf"(?P<mo>{_NUM})月(?P<d>{_NUM})[日号]")
def _month_day_zh(match: re.Match[str], now: datetime) -> _Token | None:
    month, day = _number(match.group("mo")), _number(match.group("d"))
    if month is None or day is None:
        return None
    found = _date_on_or_after(now.date(), month, day)
    return None if found is None else _day(match, found)


# "12号", "12日"; not "3号楼", "5号线", nor "一日三餐" (a Chinese numeral needs 号).
@_pattern(rf"(?<![月\d])(?:(?P<d>{_NUM})号|(?P<dd>\d{{1,2}})日)(?![楼线床门房院单车窗位码机桌])")
def _day_of_month_zh(match: re.Match[str], now: datetime) -> _Token | None:
    day = _number(match.group("d") or match.group("dd"))
    if day is None or not 1 <= day <= 31:
        return None
    today = now.date()
    month_start = today.replace(day=1)
    for first in (month_start, _first_of_next_month(month_start)):
        candidate = _valid_date(first.year, first.month, day)
        if candidate is not None and candidate >= today:
            return _day(match, candidate)
    return None


# "晚上黑咕隆咚的", "一到晚上就咳嗽", "白天家里没人": the part of day describes the problem
# or the household, it is not when the resident wants help.
_DESCRIBED_AFTER = re.compile(
    r"^[^，,。.!！?？;；]{0,6}?(?:黑|暗|看不见|看不清|睡不着|吵|闹|咳|疼|痛|难受|害怕|不敢|"
    r"停电|没电|没灯|灯不亮|没人|不在家|上班|经常|老是|总是|一直|常常)"
)
_HABITUAL_BEFORE = re.compile(r"(?:每天|天天|每到|一到|每个|每|到了|一)$")


@_pattern("|".join(sorted(_PART_WORDS, key=len, reverse=True)))
def _part_of_day(match: re.Match[str], now: datetime) -> _Token | None:
    text = match.string
    if not text[match.start() : match.end()].isascii():
        after = text[match.end() : match.end() + 10]
        before = text[max(0, match.start() - 2) : match.start()]
        if _DESCRIBED_AFTER.match(after) or _HABITUAL_BEFORE.search(before):
            return None
    return _Token("part", match.start(), match.end(), part=_PART_WORDS[match.group()])


def _clock_zh_regex(suffix: str) -> str:
    """ "3点", "三点半", "10点一刻", "8点20(分)", "两点钟", with group names ending in suffix."""
    minutes = rf"(?:(?P<half{suffix}>半)|(?P<q{suffix}>[一三])刻|(?P<m{suffix}>{_NUM})分?)"
    return rf"(?P<h{suffix}>{_NUM})[点點](?:钟)?{minutes}?"


_CLOCK_ZH_START = _clock_zh_regex("")
_CLOCK_ZH_END = _clock_zh_regex("2")


@_pattern(rf"{_CLOCK_ZH_START}(?:\s*(?:到|至|-|~|—)\s*{_CLOCK_ZH_END})?")
def _clock_zh(match: re.Match[str], now: datetime) -> _Token | None:
    begin = _clock_parts(match, "h", "half", "q", "m")
    if begin is None:
        return None
    # "一点" is far more often "a little" (买一点菜) than one o'clock.
    after = match.string[match.end() : match.end() + 1]
    if match.group("h") == "一" and not match.group(0)[2:] and after not in ("钟", "左", "前"):
        before = match.string[max(0, match.start() - 2) : match.start()]
        if not any(word in before for word in _PART_WORDS):
            return None
    until = _clock_parts(match, "h2", "half2", "q2", "m2") if match.group("h2") else None
    return _Token("clock", match.start(), match.end(), clock=begin, until=until)


def _clock_parts(match: re.Match[str], h: str, half: str, q: str, m: str) -> tuple[int, int] | None:
    hour = _number(match.group(h))
    if hour is None or hour > 24:
        return None
    minute = 0
    if match.group(half):
        minute = 30
    elif match.group(q):
        minute = 15 if match.group(q) == "一" else 45
    elif match.group(m):
        parsed = _number(match.group(m))
        if parsed is None or parsed > 59:
            return None
        minute = parsed
    return hour, minute


@_pattern(
    r"(?<![\d.])(?P<h>[01]?\d|2[0-3])[:](?P<m>[0-5]\d)(?!\d)\s*(?P<ap>a\.?m\.?|p\.?m\.?)?"
    r"(?:\s*(?:-|~|to|到|至)\s*(?P<h2>[01]?\d|2[0-3])[:](?P<m2>[0-5]\d))?"
)
def _clock_colon(match: re.Match[str], now: datetime) -> _Token:
    begin = (int(match.group("h")), int(match.group("m")))
    until = (int(match.group("h2")), int(match.group("m2"))) if match.group("h2") else None
    meridiem = _meridiem(match.group("ap"))
    return _Token("clock", match.start(), match.end(), clock=begin, meridiem=meridiem, until=until)


@_pattern(r"\b(?P<h>1[0-2]|0?[1-9])\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])")
def _clock_ampm(match: re.Match[str], now: datetime) -> _Token:
    meridiem = _meridiem(match.group("ap"))
    hour = int(match.group("h"))
    return _Token("clock", match.start(), match.end(), clock=(hour, 0), meridiem=meridiem)


@_pattern(r"\b(?:at|around|by)\s+(?P<h>1[0-2]|0?[1-9])(?:\s*o'?clock)?\b(?![:.]\d)")
def _clock_at(match: re.Match[str], now: datetime) -> _Token:
    return _Token("clock", match.start(), match.end(), clock=(int(match.group("h")), 0))


@_pattern(r"\b(?P<h>1[0-2]|0?[1-9])\s*o'?clock\b")
def _clock_oclock(match: re.Match[str], now: datetime) -> _Token:
    return _Token("clock", match.start(), match.end(), clock=(int(match.group("h")), 0))


@_pattern(r"\b(?:today|tonight|tomorrow|tmrw?|the day after tomorrow)\b")
def _relative_day_en(match: re.Match[str], now: datetime) -> _Token:
    word = match.group()
    today = now.date()
    if word == "tonight":
        return _day(match, today, "evening")
    if word == "today":
        return _day(match, today)
    offset = 2 if word.startswith("the day after") else 1
    return _day(match, today + timedelta(days=offset))


@_pattern(rf"\b(?:(?P<pre>this|next|coming|this coming)\s+)?(?P<wd>{'|'.join(_WEEKDAYS_EN)})s?\b")
def _weekday_en(match: re.Match[str], now: datetime) -> _Token:
    weekday = _WEEKDAYS_EN.index(match.group("wd"))
    offset = 1 if match.group("pre") == "next" else None
    return _day(match, _weekday_date(now, weekday, offset))


@_pattern(r"\b(?:(?P<pre>this|next|the)\s+)?weekend\b")
def _weekend_en(match: re.Match[str], now: datetime) -> _Token:
    return _weekend(match, now, 1 if match.group("pre") == "next" else 0)


@_pattern(r"\b(?:by|before|until|till)\s+(?:the\s+)?end\s+of\s+(?:the|this)\s+month\b")
def _by_month_end_en(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(_first_of_next_month(now.date()), now))


@_pattern(r"\b(?:at\s+)?(?:the\s+)?end\s+of\s+(?:the|this)\s+month\b")
def _month_end_en(match: re.Match[str], now: datetime) -> _Token:
    return _day(match, _first_of_next_month(now.date()) - timedelta(days=1))


@_pattern(r"\b(?:this|within\s+the|within\s+this)\s+week\b")
def _this_week_en(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(_monday(now.date()) + timedelta(days=7), now))


@_pattern(r"\bnext\s+week\b")
def _next_week_en(match: re.Match[str], now: datetime) -> _Token:
    monday = _monday(now.date()) + timedelta(days=7)
    return _span(match, _at(monday, now), _at(monday + timedelta(days=7), now))


@_pattern(r"\bnext\s+month\b")
def _next_month_en(match: re.Match[str], now: datetime) -> _Token:
    first = _first_of_next_month(now.date())
    return _span(match, _at(first, now), _at(_first_of_next_month(first), now))


@_pattern(r"\b(?:in|within|over)\s+the\s+next\s+(?:few|couple\s+of|2|3)\s+days\b|\bthese\s+days\b")
def _next_days_en(match: re.Match[str], now: datetime) -> _Token:
    return _span(match, now, _at(now.date() + timedelta(days=3), now))


@_pattern(
    rf"\b(?P<mon>{'|'.join(_MONTHS_EN)})[a-z]*\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>{'|'.join(_MONTHS_EN)})[a-z]*\b"
)
def _month_day_en(match: re.Match[str], now: datetime) -> _Token | None:
    month_word = match.group("mon") or match.group("mon2")
    day = int(match.group("d") or match.group("d2"))
    found = _date_on_or_after(now.date(), _MONTHS_EN.index(month_word[:3]) + 1, day)
    return None if found is None else _day(match, found)


# --- festivals, solar terms and lunar dates -----------------------------------------------
#
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
    return _date_on_or_after(today, month, day)


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
def _festival(match: re.Match[str], now: datetime) -> _Token | None:
    how, holiday, fallback = _FESTIVALS[match.group("f")]
    qualifier = match.group("q").removeprefix("节")
    if qualifier.endswith("后"):
        return None
    day = _festival_day(now.date(), how)
    if day is None:
        return None
    if qualifier in ("之前", "以前", "前"):
        return _span(match, now, _at(day, now))
    if qualifier in ("期间", "假期", "放假的时候", "放假", "那几天") or (
        not qualifier and fallback > 1
    ):
        first, last = _holiday_span(day, holiday, fallback)
        return _span(match, max(_at(first, now), now), _at(last + timedelta(days=1), now))
    return _day(match, day)


_LUNAR_DAY = (
    r"初[一二三四五六七八九十]|十[一二三四五六七八九]|二十[一二三四五六七八九]?"
    r"|廿[一二三四五六七八九]|三十"
)
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}


def _lunar_day_number(word: str) -> int | None:
    if word.startswith("初"):
        return _number(word[1:])
    if word.startswith("廿"):
        units = _number(word[1:])
        return None if units is None else 20 + units
    return _number(word)


@_pattern(
    rf"(?:农历|阴历)(?P<m1>十[一二]|[一二三四五六七八九十]|正|冬|腊)月(?P<d1>{_LUNAR_DAY})"
    rf"|(?P<m2>[正冬腊])月(?P<d2>{_LUNAR_DAY})"
)
def _lunar_month_day(match: re.Match[str], now: datetime) -> _Token | None:
    month_word = match.group("m1") or match.group("m2")
    month = _LUNAR_MONTHS.get(month_word) or _number(month_word)
    day = _lunar_day_number(match.group("d1") or match.group("d2"))
    if month is None or day is None or not 1 <= month <= 12 or not 1 <= day <= 30:
        return None
    found = _next_lunar(now.date(), month, day)
    return None if found is None else _day(match, found)


# "初五", "初八上午": the lunar day of this lunar month, or the next one's when passed. Not the
# school years 初一/初二/初三 ("孩子上初三", "初三的数学").
@_pattern(
    r"(?<![上读念在是])(?P<d>初[一二三四五六七八九十])"
    r"(?![的]?(?:学生|年级|班|生|数学|英语|语文|物理|化学|课|孩子|学期|毕业|了|中))"
)
def _lunar_day(match: re.Match[str], now: datetime) -> _Token | None:
    day = _lunar_day_number(match.group("d"))
    found = None if day is None else _next_lunar(now.date(), None, day)
    return None if found is None else _day(match, found)


# --- composing a window -------------------------------------------------------------------


def _compose(
    tokens: list[_Token], now: datetime
) -> tuple[tuple[datetime | None, datetime | None], list[_Token]]:
    day = _first(tokens, "day")
    span = _first(tokens, "span")
    clock = _first(tokens, "clock")
    part_token = _first(tokens, "part")
    part = part_token.part if part_token else (day.part if day else None)
    used = [t for t in (day, span if day is None else None, clock, part_token) if t is not None]

    if day is not None and day.day is not None:
        on = day.day
    elif span is not None and span.span is not None and (clock or part):
        on = span.span[0].date()
    else:
        on = now.date()

    if clock is not None and clock.clock is not None:
        start = _at(on, now, *_hour_minute(clock.clock, part, clock.meridiem))
        if clock.until is not None:
            end = _range_end(clock.until, start, clock.meridiem)
        else:
            end = start + timedelta(hours=1)
        return (start, end), used
    if part is not None:
        first, last = _PART_HOURS[part]
        return (_at(on, now, first), _at(on, now, last)), used
    if day is not None:
        return (_at(on, now), _at(on + timedelta(days=1), now)), used
    if span is not None and span.span is not None:
        return span.span, used
    return (None, None), []


def _first(tokens: list[_Token], kind: str) -> _Token | None:
    return next((t for t in tokens if t.kind == kind), None)


def _hour_minute(clock: tuple[int, int], part: str | None, meridiem: str | None) -> tuple[int, int]:
    hour, minute = clock
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif meridiem is None and hour <= 12:
        if part in _PM_PARTS and hour < 12:
            hour += 12
        elif part == "evening" and hour == 12:
            hour = 24
        elif part == "noon" and hour <= 2:
            hour += 12
        elif part is None and 1 <= hour <= 6:
            hour += 12  # "3点半" with nothing else: residents mean the afternoon
    return hour, minute


def _range_end(until: tuple[int, int], start: datetime, meridiem: str | None) -> datetime:
    """The end of "下午2点到5点", "晚上11点到1点", "9:00-11:30": the first matching time after
    the start, reading a bare 1-12 as either half of the day."""
    hour, minute = until
    hours = [hour]
    if meridiem == "pm" and hour < 12:
        hours = [hour + 12]
    elif meridiem is None and hour <= 12:
        hours = [hour % 12, hour % 12 + 12]
    day = start.date()
    candidates = [
        datetime.combine(day + timedelta(days=d), time(h, minute), tzinfo=start.tzinfo)
        for d in (0, 1)
        for h in hours
    ]
    return min(c for c in candidates if c > start)


_JOINER = re.compile(r"[\s,，、的]*|\s*(?:at|on|in the|,)\s*")


def _matched_text(folded: str, used: list[_Token]) -> str | None:
    if not used:
        return None
    pieces: list[str] = []
    ordered = sorted(used, key=lambda t: t.start)
    begin, end = ordered[0].start, ordered[0].end
    for token in ordered[1:]:
        if _JOINER.fullmatch(folded[end : token.start]):  # "明天 下午3点", "明天的下午"
            end = max(end, token.end)
        else:
            pieces.append(folded[begin:end].strip())
            begin, end = token.start, token.end
    pieces.append(folded[begin:end].strip())
    return " ".join(pieces)


# --- urgency ------------------------------------------------------------------------------

_URGENT_ZH = re.compile(r"十万火急|越快越好|着急|紧急|尽快|马上|赶紧|赶快|立刻|立即|急")
_NEGATION_ZH = re.compile(
    r"(?:不|别|没|不用|不必|不需要|不是很|不太|不那么|没那么)[很太那么是用]*$"
)
_URGENT_EN = re.compile(
    r"\basap\b|\burgent(?:ly)?\b|\bright away\b|\bas soon as possible\b|\bimmediately\b"
    r"|\bemergency\b"
)
_NOT_URGENT_EN = re.compile(
    r"\bnot\s+(?:very\s+|that\s+|so\s+)?urgent\b|\bno\s+rush\b|\bno\s+hurry\b"
    r"|\bnot\s+in\s+a\s+hurry\b|\bnot\s+an\s+emergency\b"
)


def _is_urgent(folded: str) -> bool:
    for match in _URGENT_ZH.finditer(folded):
        before = folded[max(0, match.start() - 4) : match.start()]
        if _NEGATION_ZH.search(before):
            continue  # 不急, 不着急, 不用马上, 不是很急
        if match.group() == "马上" and re.match(r"就?要", folded[match.end() :]):
            continue  # 马上要中考了: "about to", not "right now"
        return True
    english = _NOT_URGENT_EN.sub(" ", folded)
    return _URGENT_EN.search(english) is not None


# --- calendar helpers ---------------------------------------------------------------------


def _at(day: date, now: datetime, hour: int = 0, minute: int = 0) -> datetime:
    """Wall-clock time on `day` in now's timezone; hour 24 is the next day's midnight."""
    if hour >= 24:
        day, hour = day + timedelta(days=hour // 24), hour % 24
    return datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_offset(prefix: str | None) -> int | None:
    """None: the next such day; else weeks from the current Monday-based week."""
    if prefix is None or prefix == "每":
        return None
    if prefix.startswith("下下"):
        return 2
    if prefix.startswith("下"):
        return 1
    if prefix.startswith("上"):
        return -1
    return 0


def _weekday_date(now: datetime, weekday: int, week_offset: int | None) -> date:
    today = now.date()
    if week_offset is None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    return _monday(today) + timedelta(days=7 * week_offset + weekday)


def _weekend(match: re.Match[str], now: datetime, week_offset: int) -> _Token:
    saturday = _monday(now.date()) + timedelta(days=7 * week_offset + 5)
    start = max(_at(saturday, now), now)  # a weekend in progress: what is left of it
    return _span(match, start, _at(saturday + timedelta(days=2), now))


def _first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_on_or_after(today: date, month: int, day: int) -> date | None:
    """This year's month/day, or next year's when it has passed."""
    if not 1 <= month <= 12:
        return None
    candidate = _valid_date(today.year, month, day)
    if candidate is not None and candidate >= today:
        return candidate
    return _valid_date(today.year + 1, month, day)


def _meridiem(raw: str | None) -> str | None:
    if not raw:
        return None
    return "am" if raw.startswith("a") else "pm"
