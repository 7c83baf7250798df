"""Wish history notes are codes rendered in the reader's language; old free-text rows still read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.db.models import Wish, WishEvent
from bot.i18n import LANGUAGES, Translator, catalog
from bot.services.context import AppContext
from bot.services.intake.history_notes import CODES, decode, encode, plain_text
from bot.tg.wish_cards import history_text, note_text

APP = AppContext(settings=Settings(), sessions=None, notifier=None)  # type: ignore[arg-type]
ZH, EN = Translator("zh-CN"), Translator("en")
AT = datetime(2026, 11, 29, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_every_code_has_a_text_in_every_language() -> None:
    for lang in LANGUAGES:
        assert {f"history.{c}" for c in CODES} <= set(catalog(lang))


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("filed", {}),
        ("offer_round", {"round": 2}),
        ("recategorised", {"from": "health", "to": "eldercare"}),
        ("released", {"reason": "busy"}),
        ("text", {"text": '{"code": "filed"} typed by a person'}),
    ],
)
def test_a_code_reads_back(code: str, params: dict[str, Any]) -> None:
    assert decode(encode(code, **params)) == (code, params)


def test_a_code_with_wrong_parameters_is_refused() -> None:
    with pytest.raises(ValueError, match="takes"):
        encode("offer_round")


@pytest.mark.parametrize(
    ("stored", "zh", "en"),
    [
        # Rows written before the codes: the wording reviewers found in English.
        ("round 1", "第 1 轮派单", "round 1 of offers"),
        ("category health→eldercare", "类别由“医疗健康”改为“助老陪伴”", "Category changed"),
        ("released: busy", "志愿者退回：临时有事", "given back by the volunteer"),
        ("time agreed", "已约定时间", "time agreed"),
        ("dispute: redo", "处理异议：重新派单", "dispute settled: offered again"),
        ("filed", "已提交", "Submitted"),
        ("5★", "评价 ★★★★★", "rated ★★★★★"),
        ("楼道灯坏了好几天", "楼道灯坏了好几天", "楼道灯坏了好几天"),  # typed by a person
        # Rows written now.
        (encode("offer_round", round=3), "第 3 轮派单", "round 3 of offers"),
        (encode("released", reason="sick"), "志愿者退回：身体不适", "given back by the volunteer"),
        (encode("merged_into", into=12), "合并到心愿 #12", "merged into wish #12"),
    ],
)
def test_notes_render_in_the_readers_language(stored: str, zh: str, en: str) -> None:
    assert zh in note_text(APP, ZH, stored)
    assert en in note_text(APP, EN, stored)


def test_a_chinese_history_has_no_english_notes() -> None:
    wish = Wish(id=7, category="repair", status="offered")
    wish.history = [
        WishEvent(from_status="submitted", to_status="submitted", note=encode("filed"), at=AT),
        WishEvent(from_status="submitted", to_status="approved", note=encode("auto"), at=AT),
        WishEvent(
            from_status="approved",
            to_status="offered",
            note=encode("offer_round", round=1),
            at=AT,
        ),
        WishEvent(from_status="offered", to_status="claimed", note=None, at=AT),
        WishEvent(from_status="claimed", to_status="in_progress", note="time agreed", at=AT),
        WishEvent(from_status="in_progress", to_status="offered", note="released: busy", at=AT),
    ]
    text = history_text(APP, ZH, wish)
    assert text.splitlines()[1:] == [
        "· 11-29 09:00 已提交",
        "· 11-29 09:00 已受理（自动受理）",
        "· 11-29 09:00 正在找志愿者（第 1 轮派单）",
        "· 11-29 09:00 志愿者已接单",
        "· 11-29 09:00 服务中（已约定时间）",
        "· 11-29 09:00 正在找志愿者（志愿者退回：临时有事）",
    ]
    assert not any(c.isascii() and c.isalpha() for c in text)


def test_the_dispute_card_gets_the_residents_words_only() -> None:
    assert plain_text(encode("text", text="没修好")) == "没修好"
    assert plain_text("没修好") == "没修好"
    assert plain_text(encode("dispute_redo")) == ""
