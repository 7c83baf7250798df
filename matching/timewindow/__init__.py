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
  weekend the following one, 上周末 the last one (whole, in the past, like 上周六). A part of
  day with a multi-day span (周末上午) applies to the
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

The package: `lexicon` (words and numerals), `tokens` (a recognised piece and the pattern
registries), `chinese`, `english` and `festivals` (the patterns), `compose` (pieces to one
window), `urgency`, `dates` (calendar arithmetic).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from matching.timewindow import chinese, english, festivals
from matching.timewindow.compose import compose, matched_text
from matching.timewindow.tokens import Pattern, find_tokens, select
from matching.timewindow.urgency import is_urgent

__all__ = ["TimeInfo", "extract_time"]

# All patterns, in this order: a tie between two equally long matches at the same place goes
# to the one listed first.
_PATTERNS: tuple[Pattern, ...] = (*chinese.PATTERNS, *english.PATTERNS, *festivals.PATTERNS)


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
    tokens = select(find_tokens(folded, now, _PATTERNS))
    window, used = compose(tokens, now)
    matched = matched_text(folded, used)
    return TimeInfo(window[0], window[1], is_urgent(folded), matched)
