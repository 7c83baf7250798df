"""Limits on what goes out (issue 9, part 6): lengths, details per wish, invisible text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.types import BufferedInputFile
from sqlalchemy import func, select

from bot.db.models import Wish
from bot.demo.stage import Stage
from bot.fakeapi.images import tiny_png
from bot.fakeapi.server import FakeBotAPI
from bot.services.intake import wishes
from bot.tg.limits import MAX_CAPTION, MAX_TEXT, OutgoingLimits, cut, units
from bot.tg.shorten import shorten
from tests.conftest import ManualClock
from tests.e2e.seed import resident

pytestmark = pytest.mark.e2e

APOLOGY = "出了点问题"


@pytest.fixture
async def roomy(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    """A community that allows many additions, to build the longest card there can be."""
    async with Stage(sqlite_url, clock=clock, wishes={"max_details": 10}) as s:
        yield s


async def _long_wish(stage: Stage, uid: int, details: int) -> int:
    text = "厨房水管漏水了，请帮忙修一下。" + "情况说明" * 246 + "。"  # 1,000 characters
    assert len(text) == 1000
    async with stage.app.sessions() as session:
        draft = await wishes.draft_wish(stage.app, session, uid, text)
        wish = await wishes.file_wish(stage.app, session, uid, draft)
    for n in range(details):
        async with stage.app.sessions() as session:
            detail = f"第{n + 1}条补充：" + "补" * (500 - len(f"第{n + 1}条补充："))
            await wishes.add_details(stage.app, session, uid, wish.id, detail)
    return wish.id


async def test_a_1000_character_wish_with_7_details_of_500_is_shown_whole(roomy: Stage) -> None:
    ann = roomy.person(101, "张阿姨")
    uid = await resident(roomy, ann)
    await _long_wish(roomy, uid, details=7)
    await ann.say("/mywishes", expect="#1")
    mark = roomy.fake.mark()
    await ann.press("#1 ", expect="第7条补充")
    await roomy.fake.settle()
    sent = [m for m in ann.inbox() if m.marker > mark]
    assert not [m for m in sent if APOLOGY in m.text]
    assert all(units(m.text) <= MAX_TEXT for m in sent)
    whole = "".join(m.text for m in sent)
    assert all(f"第{n}条补充" in whole for n in range(1, 8))  # split, nothing lost
    assert "补充内容" in " ".join(sent[-1].button_texts())  # the buttons on the last part


async def test_details_per_wish_are_limited_with_a_kind_message(stage: Stage) -> None:
    ann = stage.person(101, "张阿姨")
    uid = await resident(stage, ann)
    wish_id = await _long_wish(stage, uid, details=stage.app.settings.wishes.max_details)
    await ann.say("/mywishes", expect="#1")
    await ann.press("#1 ", expect="补充")
    await ann.press("补充内容", expect="补充给")
    refused = await ann.say("还有一件事：楼上也漏水", expect="不能再补充")
    assert APOLOGY not in refused.text
    async with stage.app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        assert wish is not None and len(wish.details) == 5


@pytest.mark.parametrize(
    "text", ["\u200b" * 12, "\u200b\u200c\u200d\u2060\ufeff" * 3, "\x00\x07 \u200e"]
)
async def test_text_of_only_invisible_characters_is_empty(stage: Stage, text: str) -> None:
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    reply = await ann.say(text, expect="多写几个字")
    assert "核对" not in reply.text
    async with stage.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Wish)) == 0


def test_cut_and_shorten_count_as_telegram_does() -> None:
    assert cut("短", 10) == "短"
    long = "😀" * 3000  # 6,000 UTF-16 units
    assert units(cut(long, MAX_TEXT)) <= MAX_TEXT and cut(long, MAX_TEXT).endswith("…")
    assert shorten("厨房水管\n漏水了请帮忙", 6) == "厨房水管…"
    assert shorten("短句", 6) == "短句"


async def test_every_request_is_bounded_on_the_way_out() -> None:
    async with FakeBotAPI() as fake:
        fake.user(101, "张阿姨")
        bot = fake.make_bot()
        bot.session.middleware(OutgoingLimits())
        try:
            lines = "\n".join(f"第{n}行：" + "字" * 60 for n in range(150))  # ~10,000 chars
            last = await bot.send_message(101, lines)
            texts = [m.text for m in fake.messages(101)]
            assert len(texts) == 3 and all(units(t) <= MAX_TEXT for t in texts)
            assert "".join(texts).replace("\n", "") == lines.replace("\n", "")
            await bot.edit_message_text("改" * 5000, chat_id=101, message_id=last.message_id)
            edited = fake.messages(101)[-1].text
            assert units(edited) == MAX_TEXT and edited.endswith("…")
            photo = BufferedInputFile(tiny_png(), "p.png")
            await bot.send_photo(101, photo, caption="说明" * 1000)
            caption = fake.messages(101)[-1].text
            assert units(caption) == MAX_CAPTION and caption.endswith("…")
        finally:
            await bot.session.close()
