"""Is this message small talk rather than a wish? ("谢谢你们啦！", "你好", "👍", "在吗")

`small_talk(text)` returns the kind of small talk, or None when the text may be a wish:

- "thanks": 谢谢 / 感谢 / 辛苦了 / thank you...
- "greeting": 你好 / 早上好 / 在吗 / hello...
- "chitchat": 好的 / 哈哈 / 你是谁 / 晚安 / ok / bye...
- "emoji": nothing but emoji, symbols and punctuation ("🙏🙏🙏😭😭😭", "👍", "？？？")
- "junk": text that is plainly not a person's request (SQL, markup: "'; DROP TABLE wishes; --")

The rule: take away the small-talk phrases, the words they are said to (你们, 师傅, 志愿者...),
particles and punctuation; if nothing is left, it was small talk. Anything left over is a
request and stays a wish, so "谢谢，能帮我修一下水龙头吗" is a wish.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["KINDS", "small_talk"]

KINDS = ("thanks", "greeting", "chitchat", "emoji", "junk")

_PHRASES: dict[str, tuple[str, ...]] = {
    "thanks": (
        "谢谢",
        "谢啦",
        "多谢",
        "感谢",
        "感恩",
        "辛苦了",
        "辛苦",
        "麻烦了",
        "太感谢",
        "非常感谢",
        "万分感谢",
        "谢了",
        "给你们点赞",
        "点赞",
        "真好",
        "太好了",
        "thank you",
        "thanks",
        "thx",
        "ty",
        "cheers",
        "much appreciated",
        "appreciate it",
        "many thanks",
    ),
    "greeting": (
        "你好",
        "您好",
        "你们好",
        "大家好",
        "早上好",
        "上午好",
        "中午好",
        "下午好",
        "晚上好",
        "早安",
        "早",
        "在吗",
        "在不在",
        "有人吗",
        "哈喽",
        "嗨",
        "hello",
        "hi",
        "hey",
        "good morning",
        "good afternoon",
        "good evening",
        "anyone there",
    ),
    "chitchat": (
        "好的",
        "好滴",
        "好嘞",
        "好",
        "行",
        "可以",
        "没问题",
        "知道了",
        "明白了",
        "明白",
        "收到",
        "嗯嗯",
        "嗯",
        "哦",
        "噢",
        "哈哈",
        "呵呵",
        "嘿嘿",
        "晚安",
        "再见",
        "拜拜",
        "你是谁",
        "你是机器人吗",
        "你叫什么名字",
        "你好吗",
        "吃了吗",
        "吃饭了吗",
        "测试",
        "试试",
        "ok",
        "okay",
        "okk",
        "yes",
        "no",
        "lol",
        "haha",
        "bye",
        "good night",
        "how are you",
        "who are you",
        "are you a bot",
        "test",
        "testing",
    ),
}

# Said to someone, or filler: gone along with the phrases, never a request on their own.
_ADDRESSEES = (
    "你们",
    "您们",
    "大家",
    "各位",
    "志愿者",
    "师傅",
    "小哥",
    "小姐姐",
    "同志",
    "社区",
    "工作人员",
    "书记",
    "党员",
    "机器人",
    "小助手",
    "真的",
    "真是",
    "实在",
    "太",
    "非常",
    "特别",
    "十分",
    "很",
    "了",
    "啦",
    "啊",
    "呀",
    "哈",
    "哦",
    "喔",
    "呢",
    "吧",
    "嘛",
    "哇",
    "哟",
    "的",
    "您",
    "你",
    "我",
    "so much",
    "very much",
    "a lot",
    "all",
    "everyone",
    "guys",
    "there",
    "so",
    "you",
    "again",
)

_JUNK = re.compile(
    r"\b(?:drop|truncate|delete|alter)\s+table\b|\bselect\b.+\bfrom\b|\bunion\s+select\b"
    r"|<\s*/?\s*script|\bor\s+'?1'?\s*=\s*'?1|;\s*--|\$\{|\{\{|</?\w+[^>]*>|\bjavascript:",
    re.IGNORECASE,
)

_ALL = sorted(
    [(p, kind) for kind, phrases in _PHRASES.items() for p in phrases]
    + [(a, "") for a in _ADDRESSEES],
    key=lambda item: len(item[0]),
    reverse=True,
)
_LATIN_WORD = re.compile(r"[a-z]")


def _strip_marks(text: str) -> str:
    """Letters, digits and CJK kept; emoji, symbols, punctuation and spaces between CJK gone."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in "LN":
            kept.append(ch)
        elif ch.isspace() or category[0] in "PSZC":
            kept.append(" ")
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def small_talk(text: str) -> str | None:
    """The kind of small talk (one of KINDS), or None when the text may be a wish."""
    folded = unicodedata.normalize("NFKC", text).lower().strip()
    if not folded:
        return None
    if _JUNK.search(folded):
        return "junk"
    rest = _strip_marks(folded)
    if not rest:
        return "emoji"
    found: list[str] = []
    padded = f" {rest} "
    for phrase, kind in _ALL:
        if _LATIN_WORD.match(phrase):
            pattern = rf"(?<![a-z]){re.escape(phrase)}(?![a-z])"
        else:
            pattern = re.escape(phrase)
        padded, n = re.subn(pattern, " ", padded)
        if n and kind:
            found.append(kind)
    if padded.strip() or not found:
        return None
    for kind in ("thanks", "greeting", "chitchat"):
        if kind in found:
            return kind
    return None
