"""代办 through the real bot and the fake Bot API: a grid worker files for 刘大爷 (no Telegram),
a volunteer claims and phones him, the worker confirms with him in person, points once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.db.models import Grid, ProxyFiling, Staff, Wish, WishEvent
from bot.db.models.points import LedgerEntry
from bot.demo.stage import Person, Stage
from bot.services.forres import filing, records
from bot.services.people.grids import grid_by_code
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e

PHONE = "13800138000"
LEAK = "漏水"


async def grid_worker(stage: Stage, person: Person, grid: str) -> int:
    uid = await user_id(stage, person)
    async with stage.app.sessions() as session:
        g = (await session.scalars(select(Grid).where(Grid.code == grid))).one()
        session.add(Staff(user_id=uid, scope="grid", grid_id=g.id))
        await session.commit()
    return uid


async def test_a_grid_worker_files_for_liu_and_confirms_with_him_points_once(
    stage: Stage, admin: Person, clock: ManualClock
) -> None:
    await admin.say("/start")
    worker = stage.person(301, "刘网格员")
    await grid_worker(stage, worker, "G02")
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    # Find (nothing yet) → a new record → consent → his words → the card → filed.
    await worker.say("/forresident", expect="电话后四位")
    await worker.say("刘大爷", expect="没有找到")
    await worker.press("新建居民记录", expect="怎么称呼")
    await worker.say("刘大爷", expect="哪一栋")
    await worker.say("8栋2单元302", expect="联系电话")
    await worker.say("138-0013-8000", expect="当面问")
    await worker.press("口头同意", expect="的心愿")
    await worker.say("厨房水管漏水了，周六上午有人能来修吗", expect="请核对")
    mark = stage.fake.mark()
    card_id = worker.last().message_id
    double = await asyncio.gather(  # a double tap files one wish
        *(stage.fake.press(worker.user, worker.id, card_id, text="确认提交") for _ in range(2))
    )
    for query in double:
        await stage.fake.answered(query, timeout=10)
    await worker.expect("已为刘大爷登记心愿 #", after=mark)
    # He is G02's grid worker: the review card is his too; he approves it.
    card = await worker.expect(LEAK, after=mark)
    assert "代办 · 代没有 Telegram 的居民提交" in card.text
    await worker.press("✅ 通过", message_id=card.message_id, expect="难度")
    await worker.press("一般", expect="期限")
    mark = stage.fake.mark()
    await worker.press("不限", expect="已通过")
    told = await worker.expect("【代办 · 刘大爷】", after=mark)
    assert "受理" in told.text
    # The volunteer claims; his card says to phone (no chat), the phone only in a pop-up.
    offer = await li.expect("适合您", after=mark)
    assert PHONE not in offer.text and "刘大爷" not in offer.text
    mark = stage.fake.mark()
    await li.press("我来接单", message_id=offer.message_id, expect="接单成功")
    details = await li.expect("8栋2单元302", after=mark)
    assert "没有 Telegram" in details.text and PHONE not in details.text
    query = await stage.fake.press(li.user, li.id, details.message_id, text="查看电话")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    popup = stage.fake.answer_for(query)
    assert popup is not None and popup.show_alert and PHONE in (popup.text or "")
    claimed = await worker.expect("接单了", after=mark)
    assert "【代办 · 刘大爷】" in claimed.text and "李明" in claimed.text
    assert claimed.buttons == []  # the resident's own buttons are not passed on
    # Done → the worker asks him in person and taps his stars, twice in a hurry.
    await li.press("✅ 已完成", message_id=details.message_id, expect="完成情况")
    mark = stage.fake.mark()
    await li.say("水管接头换好了", expect="标记完成")
    ask = await worker.expect("请当面问问刘大爷", after=mark)
    assert "水管接头换好了" in ask.text
    mark = stage.fake.mark()
    presses = await asyncio.gather(
        *(
            stage.fake.press(worker.user, worker.id, ask.message_id, text="⭐⭐⭐⭐⭐")
            for _ in range(2)
        )
    )
    for query in presses:
        await stage.fake.answered(query, timeout=10)
    await worker.expect("已代居民当面确认心愿", after=mark)
    verify = await worker.expect("请核实", after=mark)
    await li.expect("评价", after=mark)
    await stage.fake.settle(timeout=10)
    said = [m for m in stage.fake.messages(worker.id) if "已代居民当面确认" in (m.text or "")]
    assert len(said) == 1
    mark = stage.fake.mark()
    await worker.press("✅ 核实通过", message_id=verify.message_id, expect="已核实")
    closed = await worker.expect("办结", after=mark)
    assert "【代办 · 刘大爷】" in closed.text
    await li.expect("社区已核实", after=mark)
    async with stage.app.sessions() as session:
        wish = (await session.scalars(select(Wish))).one()
        assert wish.status == "closed" and wish.rating == 5 and wish.volunteer_id == li_uid
        confirms = await session.scalar(
            select(func.count())
            .select_from(WishEvent)
            .where(WishEvent.wish_id == wish.id, WishEvent.to_status == "confirmed")
        )
        assert confirms == 1
        awards = (
            await session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.source_type == "wish", LedgerEntry.source_id == str(wish.id)
                )
            )
        ).all()
        assert [a.user_id for a in awards] == [li_uid]
        assert await session.get(ProxyFiling, wish.id) is not None


async def test_grid_scope_and_who_may_file(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    g02 = stage.person(302, "二网格员")
    g02_uid = await grid_worker(stage, g02, "G02")
    g01 = stage.person(301, "一网格员")
    await grid_worker(stage, g01, "G01")
    async with stage.app.sessions() as session:
        grid = await grid_by_code(session, "G02")
        assert grid is not None
        new = records.clean_record("刘大爷", "8栋2单元302", PHONE)
        liu = await records.create_record(stage.app, session, g02_uid, grid.id, new)
    # G01's worker does not find G02's resident, and a forged pick of him is refused.
    await g01.say("/forresident", expect="电话后四位")
    answer = await g01.say("刘大爷", expect="没有找到")
    query = await stage.fake.forge_press(g01.user, g01.id, answer.message_id, f"fr:pick:0:{liu}")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    popup = stage.fake.answer_for(query)
    assert popup is not None and "不在您负责的网格" in (popup.text or "")
    # G02's worker finds him by the phone's last four digits.
    await g02.say("/forresident", expect="电话后四位")
    found = await g02.say("8000", expect="请选择")
    assert any("刘大爷" in text for text in found.button_texts())
    assert PHONE not in found.text and PHONE not in " ".join(found.button_texts())
    # Volunteers (not allowed by default) and residents are refused kindly.
    li = stage.person(201, "李明")
    await volunteer(stage, li)
    await li.say("/forresident", expect="只允许网格员和社区工作人员")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    await ann.say("/forresident", expect="只有网格员和社区工作人员")
    async with stage.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Wish)) == 0


async def test_residents_register_later_and_their_records_join_them(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    worker = stage.person(302, "二网格员")
    worker_uid = await grid_worker(stage, worker, "G02")
    filed: dict[str, int] = {}
    async with stage.app.sessions() as session:
        grid = await grid_by_code(session, "G02")
        assert grid is not None
        for name, phone in (("刘大爷", PHONE), ("钱奶奶", "13900139000")):
            new = records.clean_record(name, "8栋2单元302", phone)
            uid = await records.create_record(stage.app, session, worker_uid, grid.id, new)
            consent = await filing.record_consent(stage.app, session, worker_uid, uid, "signed")
            draft = await filing.draft_for(stage.app, session, worker_uid, uid, "帮我去医院取药")
            wish = await filing.file_for(stage.app, session, worker_uid, uid, consent, draft)
            filed[name] = wish.id

    async def register_until_phone(person: Person) -> None:
        await person.say("/start", expect="身份")
        await person.press("我是居民", expect="网格")
        await person.press("第二网格", expect="楼栋")
        await person.press("跳过", expect="隐私")
        await person.press("同意", expect="电话")

    # Liu types his number: a typed number proves nothing, so he shares his contact to confirm.
    grandpa = stage.person(501, "刘大爷")
    await register_until_phone(grandpa)
    mark = stage.fake.mark()
    await grandpa.say(PHONE, expect="留下我的电话")
    ask = await grandpa.expect("这是您吗", after=mark)
    assert "刘**" in ask.text and "8栋" not in ask.text
    assert ask.button_texts() == ["不是我"]
    await grandpa.share_contact(PHONE, expect="已合并，1 个心愿")
    mine = await grandpa.say("/mywishes", expect="心愿")
    assert f"#{filed['刘大爷']}" in mine.text
    # Qian shares her contact when registering: a yes is enough.
    qian = stage.person(502, "钱奶奶")
    await register_until_phone(qian)
    ask = await qian.share_contact("+86 139 0013 9000", expect="这是您吗")
    assert "钱**" in ask.text
    await qian.press("是我，合并", expect="已合并，1 个心愿")
    async with stage.app.sessions() as session:
        for person, name in ((grandpa, "刘大爷"), (qian, "钱奶奶")):
            row = await session.get(Wish, filed[name])
            assert row is not None and row.resident_id == await user_id(stage, person)
