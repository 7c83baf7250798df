"""The words the time reader knows: parts of day and their hours, numerals, weekday and
month names."""

from __future__ import annotations

PART_HOURS: dict[str, tuple[int, int]] = {
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
PART_WORDS: dict[str, str] = {
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
PM_PARTS = frozenset({"afternoon", "dusk", "evening", "late"})

# --- numbers ------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS |= {"七": 7, "八": 8, "九": 9}
NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"


def number(token: str) -> int | None:
    """0–99 from digits or Chinese numerals (十一, 二十五, 两); None if malformed."""
    if token.isdigit():
        return int(token)
    if "十" not in token:
        return _CN_DIGITS.get(token) if len(token) == 1 else None
    tens, _, units = token.partition("十")
    high = _CN_DIGITS.get(tens, -1) if tens else 1
    low = _CN_DIGITS.get(units, -1) if units else 0
    return None if high < 0 or low < 0 else high * 10 + low


WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
WEEKDAYS_ZH |= {str(n): n - 1 for n in range(1, 8)}
WEEKDAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS_EN = [
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
