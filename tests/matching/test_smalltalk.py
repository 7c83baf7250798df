"""Small talk is answered, not filed: table-driven with colloquial samples, both ways."""

from __future__ import annotations

import pytest

from matching.smalltalk import KINDS, small_talk

SMALL_TALK: list[tuple[str, str]] = [
    # thanks
    ("谢谢你们啦！", "thanks"),
    ("谢谢", "thanks"),
    ("谢谢谢谢", "thanks"),
    ("太感谢了！！", "thanks"),
    ("非常感谢志愿者", "thanks"),
    ("谢谢师傅，辛苦了", "thanks"),
    ("辛苦了辛苦了🙏", "thanks"),
    ("感谢社区！", "thanks"),
    ("多谢多谢", "thanks"),
    ("真是太感谢你们了", "thanks"),
    ("谢谢小哥", "thanks"),
    ("给你们点赞👍", "thanks"),
    ("Thank you so much!", "thanks"),
    ("thanks!!", "thanks"),
    ("Thanks a lot, guys", "thanks"),
    ("ｔｈａｎｋｓ", "thanks"),  # full-width
    # greetings
    ("你好", "greeting"),
    ("您好！", "greeting"),
    ("你好呀～", "greeting"),
    ("在吗", "greeting"),
    ("在吗？？", "greeting"),
    ("有人吗", "greeting"),
    ("早上好", "greeting"),
    ("大家好", "greeting"),
    ("哈喽", "greeting"),
    ("hello", "greeting"),
    ("Hi there", "greeting"),
    ("Good morning!", "greeting"),
    # chit-chat
    ("好的", "chitchat"),
    ("好的好的", "chitchat"),
    ("嗯嗯", "chitchat"),
    ("收到", "chitchat"),
    ("哈哈哈", "chitchat"),
    ("晚安", "chitchat"),
    ("拜拜", "chitchat"),
    ("你是谁", "chitchat"),
    ("你是机器人吗？", "chitchat"),
    ("你好吗", "chitchat"),
    ("吃了吗", "chitchat"),
    ("测试", "chitchat"),
    ("ok", "chitchat"),
    ("OK👌", "chitchat"),
    ("bye", "chitchat"),
    ("who are you?", "chitchat"),
    ("lol", "chitchat"),
    # emoji and marks only
    ("👍", "emoji"),
    ("🙏🙏🙏😭😭😭", "emoji"),
    ("❤️❤️", "emoji"),
    ("？？？", "emoji"),
    ("。。。", "emoji"),
    ("🌹", "emoji"),
    # junk
    ("'; DROP TABLE wishes; --", "junk"),
    ("<script>alert(1)</script>", "junk"),
    ("1' OR '1'='1", "junk"),
    ("SELECT * FROM users", "junk"),
    ("${jndi:ldap://x}", "junk"),
]

WISHES = [
    "谢谢，能帮我修一下水龙头吗",
    "你好，我家水管漏水了",
    "您好，请问有人能陪我去医院吗",
    "在吗？楼道灯坏了",
    "谢谢你们！另外厨房的灯也不亮了",
    "好的，那周六上午来修吧",
    "早上好，我想学用手机挂号",
    "辛苦了，下周还能再来帮我买菜吗",
    "麻烦帮我换个灯泡",
    "hello, my kitchen tap is leaking",
    "thanks, could someone help me carry a sofa?",
    "Hi, I need help with my phone",
    "楼道灯坏了",
    "帮我读一下这封信",
    "水龙头",
    "no rush, the fence is broken",
    "谢谢帮忙修好了，不过又漏了",
    "测试一下血压计怎么用",
    "我家老人需要陪诊",
    "select a volunteer who can fix bikes",  # English 'select' without 'from'
]


@pytest.mark.parametrize(("text", "kind"), SMALL_TALK)
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    assert small_talk(text) == kind


@pytest.mark.parametrize("text", WISHES)
def test_wishes_stay_wishes(text: str) -> None:
    assert small_talk(text) is None


def test_the_tables_are_broad() -> None:
    assert len(SMALL_TALK) >= 50 and len(WISHES) >= 20
    assert {kind for _, kind in SMALL_TALK} == set(KINDS)


def test_empty_text_is_not_small_talk() -> None:
    assert small_talk("") is None
    assert small_talk("   ") is None


def test_no_labelled_wish_outside_other_is_small_talk() -> None:
    """Across every labelled set, only 'other' rows (e.g. "谢谢你们🙏") may read as small talk."""
    from tests.matching.conftest import DATA, TRAINING_TSV

    hits = []
    for path in [*sorted(DATA.glob("*.tsv")), TRAINING_TSV]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            category, text = line.split("\t", 1)
            if category != "other" and small_talk(text) is not None:
                hits.append((path.name, text))
    assert hits == []
