"""Points end to end: the real bot against the fake Bot API server.

A verified task → points → passbook (and its CSV) → redeem in the shop → handover by code;
the leaderboard's order and opt-out; a declaration approved from its card; an adjustment.

The task is put in the database as "confirmed" (resident rated it) and verified through the
tasks service, which awards through the ledger: the chat flow up to there is tested in
tests/e2e/test_loop.py.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.db.models import Wish
from bot.db.models.points import LedgerEntry
from bot.demo.stage import Person, Stage
from bot.services.people.grids import grid_by_code
from bot.services.points import ledger
from bot.services.tasks import lifecycle
from tests.conftest import ManualClock
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e
ADMIN = 9001


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    async with Stage(sqlite_url, admins=(ADMIN,), clock=clock) as s:
        yield s


@pytest.fixture
async def admin(stage: Stage) -> Person:
    person = stage.person(ADMIN, "王主任")
    await person.say("/start")
    return person


async def _confirmed_task(stage: Stage, volunteer_uid: int, resident_uid: int) -> int:
    """A task its resident confirmed with five stars, waiting for staff verification."""
    async with stage.app.sessions() as session:
        grid = await grid_by_code(session, "G02")
        assert grid is not None
        wish = Wish(
            resident_id=resident_uid,
            grid_id=grid.id,
            text="厨房水管漏水了，请帮忙修一下",
            category="repair",
            difficulty="normal",
            urgent=True,
            status="confirmed",
            volunteer_id=volunteer_uid,
            rating=5,
            claimed_at=stage.clock(),
            done_at=stage.clock(),
        )
        session.add(wish)
        await session.commit()
        return wish.id


async def _entries(stage: Stage, uid: int) -> list[LedgerEntry]:
    async with stage.app.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(LedgerEntry).where(LedgerEntry.user_id == uid).order_by(LedgerEntry.id)
                )
            ).all()
        )


async def test_task_points_passbook_redeem_handover(stage: Stage, admin: Person) -> None:
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    ann_uid = await resident(stage, stage.person(101, "张阿姨"))
    admin_uid = await user_id(stage, admin)
    wish_id = await _confirmed_task(stage, li_uid, ann_uid)
    mark = stage.fake.mark()
    async with stage.app.sessions() as session:
        await lifecycle.verify(stage.app, session, wish_id, admin_uid)
    # repair/normal 10 + urgent 2 + five stars 2 + first service of the year 5
    told = await li.expect("积分到账", after=mark)
    assert "+19" in told.text and f"任务 #{wish_id}" in told.text

    book = await li.say("/points", expect="积分存折")
    assert "可用积分：19 分" in book.text and "本月获得：19 分" in book.text
    assert "加急 +2" in book.text
    statement = await li.press("完整明细", expect=None)
    assert statement is None
    # settle() can return before a handler that is still at work sends: wait for the file.
    await stage.fake.wait_for(lambda: any(m.kind == "document" for m in li.inbox()), timeout=10)
    document = next(m for m in reversed(li.inbox()) if m.kind == "document")
    assert document.filename is not None and document.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO((document.document or b"").decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间", "类型", "积分", "余额"]
    assert rows[1][1:4] == ["获得", "+19", "19"]

    # Staff put a reward in the shop.
    await admin.say("/rewards", expect="兑换品")
    await admin.press("新增兑换品", expect="名字")
    await admin.say("保温杯", expect="多少积分")
    await admin.say("15", expect="多少件")
    await admin.say("2", expect="几次")
    await admin.say("1", expect="领取")
    await admin.say("社区服务站一楼", expect="已上架")

    # Li redeems it: points held at once, a pickup code issued, staff told.
    await li.say("/shop", expect="积分超市")
    await li.press("保温杯", expect="需要积分：15 分")
    mark = stage.fake.mark()
    done = await li.press("兑换", expect="取货码")
    assert done is not None
    code = re.search(r"取货码：([2-9A-Z]{6})", done.text)
    assert code is not None
    staff_note = await admin.expect("新的兑换", after=mark)
    assert code.group(1) in staff_note.text
    book = await li.say("/points", expect="积分存折")
    assert "可用积分：4 分" in book.text and "另有 15 分兑换中（待领取）" in book.text
    # The limit is one per person.
    await li.say("/shop", expect="积分超市")
    await li.press("保温杯", expect="需要积分")
    query = await stage.fake.press(li.user, li.id, None, text="兑换")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None, timeout=10)
    assert stage.fake.callback_answers[-1].show_alert
    assert "不够" in (stage.fake.callback_answers[-1].text or "")  # 4 points left

    # Staff hand it over with the code.
    card = await admin.say(f"/handover {code.group(1).lower()}", expect="待领取")
    assert "李明" in card.text and "保温杯" in card.text
    mark = stage.fake.mark()
    await admin.press("确认已领取", message_id=card.message_id, expect="已确认领取")
    await li.expect("您已领取", after=mark)
    book = await li.say("/points", expect="积分存折")
    assert "可用积分：4 分" in book.text and "兑换中" not in book.text.split("最近")[0]
    assert "兑换“保温杯”（取货码" in book.text
    kinds = [(e.kind, e.amount) for e in await _entries(stage, li_uid)]
    assert kinds == [("award", 19), ("hold", -15), ("release", 15), ("spend", -15)]
    # The same code again: already handed over, nothing changes.
    again = await admin.say(f"/handover {code.group(1)}", expect="已领取")
    assert again.buttons == []


async def _award(stage: Stage, uid: int, amount: int, source: str) -> None:
    async with stage.app.sessions() as session:
        await ledger.award(
            stage.app,
            session,
            user_id=uid,
            amount=amount,
            reason="社区活动",
            source_type="event",
            source_id=source,
        )
        await session.commit()


async def test_leaderboard_order_and_opt_out(stage: Stage, admin: Person) -> None:
    shy, bold, calm = (stage.person(i, n) for i, n in ((301, "害羞"), (302, "大方"), (303, "平和")))
    shy_uid = await volunteer(stage, shy)
    bold_uid = await volunteer(stage, bold)
    calm_uid = await volunteer(stage, calm, grid="G01")
    await _award(stage, shy_uid, 30, "1")
    await _award(stage, bold_uid, 20, "2")
    await _award(stage, bold_uid, 10, "3")  # 30 points in two services: first
    await _award(stage, calm_uid, 50, "4")
    # 害羞 hides her name from the public boards.
    await shy.say("/points", expect="积分存折")
    await shy.press("隐藏我的名字", expect="可用积分")
    assert stage.fake.callback_answers[-1].text is not None
    board = await bold.say("/rank", expect="积分榜")
    lines = [line for line in board.text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert lines == [
        "1. 大方（我） — 30 分（服务 2 次）",
        f"2. 志愿者 #{shy_uid} — 30 分（服务 1 次）",
    ]
    assert "我的排名：第 1 名" in board.text
    own = await shy.say("/rank", expect="积分榜")
    assert "2. 害羞（我） — 30 分" in own.text and "隐藏名字" in own.text
    # The whole community: 平和 of the first grid leads.
    await bold.press("本社区", message_id=board.message_id, expect="幸福社区")
    edited = bold.stage.fake.last(bold.id)
    assert edited.text.splitlines()[2].startswith("1. 平和 — 50 分")
    await bold.press("本年", message_id=board.message_id, expect="2026年")


async def test_declaration_approved_from_its_card(stage: Stage, admin: Person) -> None:
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    await li.say("/declare", expect="做了什么")
    await li.say("陪独居老人去医院复查，帮忙挂号取药", expect="什么时候")
    await li.say("11月18日上午", expect="补充")
    await li.press("跳过", expect="照片")
    await li.press("跳过", expect="核对")
    mark = stage.fake.mark()
    await li.press("提交申报", expect="已提交")
    card = await admin.expect("新的党员申报", after=mark)
    assert "陪独居老人" in card.text and "建议积分：10 分" in card.text
    mark = stage.fake.mark()
    await admin.press("通过（10 分）", message_id=card.message_id, expect="已通过")
    told = await li.expect("已通过核实", after=mark)
    assert "10 分" in told.text
    assert [(e.source_type, e.amount) for e in await _entries(stage, li_uid)] == [
        ("declaration", 10)
    ]


async def test_declaration_with_photo_rejected_with_a_reason(stage: Stage, admin: Person) -> None:
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    await li.say("/declare", expect="做了什么")
    await li.say("/points", expect="积分存折")  # a command midway does not end the form
    await li.say("帮楼道清理杂物", expect="什么时候")
    await li.say("上周六", expect="补充")
    await li.say("和邻居一起，约2小时", expect="照片")
    await li.say("没有照片", expect="发一张照片")
    mark = stage.fake.mark()
    await stage.fake.send_photo(li.user)
    confirm = await li.expect("核对", after=mark)
    assert "照片：有" in confirm.text and "约2小时" in confirm.text
    mark = stage.fake.mark()
    await li.press("提交申报", expect="已提交")
    card = await admin.expect("新的党员申报", after=mark)
    assert card.kind == "photo"
    await admin.press("不通过", message_id=card.message_id, expect="原因")
    mark = stage.fake.mark()
    await admin.say("照片看不出是哪栋楼，请补充说明", expect="已退回")
    told = await li.expect("没有通过", after=mark)
    assert "照片看不出" in told.text
    assert await _entries(stage, li_uid) == []


async def test_staff_adjust_by_typing_part_of_the_name(stage: Stage, admin: Person) -> None:
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    await admin.say("/adjust", expect="哪位志愿者")
    await admin.say("张", expect="没有找到")
    await admin.say("李", expect="请选择")
    await admin.press("李明", expect="加多少分")
    await admin.say("零", expect="整数")
    await admin.say("8", expect="原因")
    confirm = await admin.say("协助组织社区义诊", expect="请确认")
    assert "+8" in confirm.text and "李明" in confirm.text
    mark = stage.fake.mark()
    await admin.press("确认", expect="已调整")
    told = await li.expect("调整了您的积分", after=mark)
    assert "协助组织社区义诊" in told.text
    # Taking away more than there is: refused at confirmation, nothing changes.
    await admin.say("/adjust", expect="哪位志愿者")
    await admin.say("李明", expect="请选择")
    await admin.press("李明", expect="8 分")
    await admin.say("-20", expect="原因")
    await admin.say("更正", expect="请确认")
    query = await stage.fake.press(admin.user, admin.id, None, text="确认")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None, timeout=10)
    assert stage.fake.callback_answers[-1].show_alert
    assert "积分不能变成负数" in (stage.fake.callback_answers[-1].text or "")
    assert [(e.kind, e.amount) for e in await _entries(stage, li_uid)] == [("adjust", 8)]


async def test_cancel_from_either_side_and_editing_a_reward(stage: Stage, admin: Person) -> None:
    li = stage.person(201, "李明")
    li_uid = await volunteer(stage, li)
    await _award(stage, li_uid, 50, "1")
    await admin.say("/rewards", expect="还没有兑换品")
    await admin.press("新增兑换品", expect="名字")
    await admin.say("雨伞", expect="多少积分")
    await admin.say("0", expect="整数")  # a price must be at least 1
    await admin.say("20", expect="多少件")
    await admin.say("1", expect="几次")
    await admin.say("0", expect="领取")
    card = await admin.say("服务站", expect="已上架")
    await admin.press("领取地点", message_id=card.message_id, expect="领取地点")
    await admin.say("社区服务站二楼", expect="已保存")
    # Li takes the only one, then changes her mind: points back, the umbrella back on the shelf.
    await li.say("/shop", expect="积分超市")
    await li.press("雨伞", expect="社区服务站二楼")
    await li.press("兑换", expect="取货码")
    await li.press("我的兑换", expect="等您领取")
    await li.press("取消“雨伞”", expect="已取消兑换")
    shelf = await li.say("/shop", expect="积分超市")
    assert "雨伞 · 20分 · 剩1件" in shelf.button_texts()
    # Taken again, and this time staff cancel it at the counter.
    await li.press("雨伞", expect="需要积分")
    done = await li.press("兑换", expect="取货码")
    assert done is not None
    code = re.search(r"取货码：([2-9A-Z]{6})", done.text)
    assert code is not None
    card = await admin.say(f"/handover {code.group(1)}", expect="待领取")
    mark = stage.fake.mark()
    await admin.press("取消这次兑换", message_id=card.message_id, expect="已取消")
    await li.expect("已被社区取消", after=mark)
    assert await _balance(stage, li_uid) == 50
    kinds = [e.kind for e in await _entries(stage, li_uid)]
    assert kinds == ["award", "hold", "release", "hold", "release"]
    # Withdrawn rewards leave the volunteers' shelf.
    rewards = await admin.say("/rewards", expect="兑换品管理")
    await admin.press("雨伞", message_id=rewards.message_id, expect="上架中")
    await admin.press("下架", expect="已下架")
    await li.say("/shop", expect="暂时没有")


async def _balance(stage: Stage, uid: int) -> int:
    async with stage.app.sessions() as session:
        return await ledger.balance(session, uid)
