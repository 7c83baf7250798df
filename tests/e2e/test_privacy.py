"""Privacy (issue 9, part 8): numbers typed into free text are masked for everyone but the
writer and staff's review card; /delete_me leaves none of the person's data anywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from bot.db.models import Wish
from bot.demo.stage import Person, Stage
from bot.services.context import AppContext
from bot.services.privacy import mask_personal
from tests.e2e.seed import resident, volunteer

pytestmark = pytest.mark.e2e

PHONE = "13912345678"
ID_CARD = "320102199001011234"
LANDLINE = "025-83456789"
WISH = f"厨房水管漏水了，周六上午来修，电话{PHONE}，座机{LANDLINE}，身份证{ID_CARD}"


def _leaks(text: str) -> list[str]:
    return [n for n in (PHONE, ID_CARD, "83456789") if n in text]


def test_mask_personal_finds_mobiles_landlines_and_id_numbers() -> None:
    assert mask_personal(f"电话{PHONE}。") == "电话139****5678。"
    assert mask_personal("+86 139-1234-5678") == "139****5678"
    assert mask_personal("(010)12345678") == "010****5678"
    assert mask_personal(ID_CARD) == "320102********1234"
    assert mask_personal("32010219900101123X") == "320102********123X"
    # Dates, times, short numbers and long order numbers are left alone.
    for plain in ("2026年11月29日 9:00", "8栋1单元302", "订单2026112912345678901234"):
        assert mask_personal(plain) == plain


async def test_numbers_in_a_wish_reach_only_its_writer_and_the_review_card(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    li, wang = stage.person(201, "李明"), stage.person(202, "王刚")
    await volunteer(stage, li)
    await volunteer(stage, wang)
    draft = await ann.say(WISH, expect="核对")
    assert PHONE in draft.text  # the writer sees what she wrote
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿")
    review = await admin.expect("水管漏水", after=mark)
    assert not set(_leaks(WISH)) - set(_leaks(review.text))  # staff's review card: all of it
    await admin.press("✅ 通过", message_id=review.message_id, expect="难度")
    await admin.press("一般", expect="期限")
    mark = stage.fake.mark()
    await admin.press("不限", expect="已通过")
    offer = await li.expect("适合您", after=mark)
    other = await wang.expect("适合您", after=mark)
    assert _leaks(offer.text) == [] and _leaks(other.text) == []
    assert "139****5678" in offer.text
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    await stage.fake.settle()
    # The holder's card and every relayed word: masked too (the contact button gives the phone).
    assert not [m.text for m in li.inbox() if _leaks(m.text)]
    details = next(m for m in reversed(li.inbox()) if "联系居民" in " ".join(m.button_texts()))
    await li.press("联系居民", message_id=details.message_id, expect="转达")
    await li.say("好的", expect="已转达")
    relayed = await ann.expect("志愿者说")
    await ann.press("回复", message_id=relayed.message_id, expect="转达")
    mark = stage.fake.mark()
    await ann.say(f"我的另一个号码是{PHONE}", expect="已转达")
    back = await li.expect("居民说", after=mark)
    assert _leaks(back.text) == []
    # Her own view keeps her words.
    await ann.say("/mywishes", expect="#1")
    own = await ann.press("#1 ", expect="水管")
    assert own is not None and PHONE in own.text
    assert not [m.text for m in wang.inbox() + li.inbox() if _leaks(m.text)]
    async with stage.app.sessions() as session:
        assert (await session.scalars(select(Wish.text))).one() == WISH  # stored as written


ANN_ID, LI_ID = 880000101, 880000201
RELAY_TO_LI = "我家在8栋1单元，门铃坏了请敲门"
RELAY_TO_ANN = "阿姨好，我是小李，周六上午9点到"
DONE_NOTE = "水管接头换好了，旧接头已带走"
COMMENT = "小李很细心，谢谢"


async def _everything(stage: Stage) -> list[tuple[str, str, str]]:
    return await every_value(stage.app)


async def every_value(app: AppContext) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-empty value in every table."""
    found: list[tuple[str, str, str]] = []
    async with app.sessions() as session:
        conn = await session.connection()
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in tables:
            result = await session.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result.all():
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        found.append((table, column, str(value)))
    return found


async def test_delete_me_leaves_none_of_the_persons_data_in_any_table(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    ann, li = stage.person(ANN_ID, "张阿姨"), stage.person(LI_ID, "李明")
    await resident(stage, ann, phone=PHONE)
    await volunteer(stage, li)
    # The whole loop through the bot: her words, relays both ways, his done note, her comment.
    await ann.say(WISH, expect="核对")
    mark = stage.fake.mark()
    await ann.press("没问题", expect="已登记为心愿")
    review = await admin.expect("水管漏水", after=mark)
    await admin.press("✅ 通过", message_id=review.message_id, expect="难度")
    await admin.press("一般", expect="期限")
    mark = stage.fake.mark()
    await admin.press("不限", expect="已通过")
    offer = await li.expect("适合您", after=mark)
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    details = await li.expect("8栋1单元", after=mark)
    await li.press("联系居民", message_id=details.message_id, expect="转达")
    await li.say(RELAY_TO_ANN, expect="已转达")
    relayed = await ann.expect("志愿者说")
    await ann.press("回复", message_id=relayed.message_id, expect="转达")
    await ann.say(RELAY_TO_LI, expect="已转达")
    await li.press("✅ 已完成", message_id=details.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await li.say(DONE_NOTE, expect="标记完成")
    ask = await ann.expect("打个分", after=mark)
    await ann.press("⭐⭐⭐⭐⭐", message_id=ask.message_id, expect="谢谢您的评价")
    await ann.say(COMMENT)
    await stage.fake.settle()
    needles = {
        "ann": ["张阿姨", PHONE, ID_CARD, "83456789", "水管漏水", RELAY_TO_LI, COMMENT, ANN_ID],
        "li": ["李明", RELAY_TO_ANN, DONE_NOTE, LI_ID],
    }
    before = await _everything(stage)
    for person in needles.values():  # the test would prove nothing if they were not there
        assert all(any(str(n) in v for _, _, v in before) for n in person), person
    # Both ask to be forgotten.
    for person in (ann, li):
        await person.say("/delete_me", expect="确定要删除")
        await person.press("确定删除", expect="已删除")
    await stage.fake.settle()
    after = await _everything(stage)
    leaks = [
        (table, column, value[:60], needle)
        for needle in [str(n) for person in needles.values() for n in person]
        for table, column, value in after
        if needle in value
    ]
    assert leaks == []
