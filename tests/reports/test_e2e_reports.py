"""Staff reports through the real bot and the fake Bot API server: a roster CSV sent as a
document (dry run, then import), /rates, and /evaluation's files read back."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.models import User, Volunteer, Wish, WishEvent
from bot.db.models.points import LedgerEntry
from bot.db.models.roster import RosterEntry
from bot.demo.stage import Person, Stage
from tests.conftest import ManualClock
from tests.e2e.conftest import register_volunteer

pytestmark = pytest.mark.e2e
ADMIN = 9001
ROSTER_CSV = (
    "姓名,单位,党组织,网格,电话\r\n"
    "李明,区供电公司,供电公司第三党支部,G02,13812345678\r\n"  # registered through the bot
    "王芳,区人民医院,医院党委,G01,13900001111\r\n"
    ",区人民医院,医院党委,G01,\r\n"  # line 4: no name
    "赵强,区环保局,环保局支部,G09,\r\n"  # line 5: no such grid
    "王芳,区人民医院,医院党委,第一网格,\r\n"  # line 6: the same person as line 3
).encode()


@pytest.fixture
async def stage(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Stage]:
    async with Stage(sqlite_url, admins=(ADMIN,), clock=clock) as s:
        yield s


@pytest.fixture
def admin(stage: Stage) -> Person:
    return stage.person(ADMIN, "王主任")


async def _user_id(stage: Stage, telegram_id: int) -> int:
    async with stage.app.sessions() as session:
        uid = await session.scalar(select(User.id).where(User.telegram_id == telegram_id))
        assert uid is not None
        return uid


async def test_roster_csv_document_dry_run_then_import(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    volunteer = stage.person(201, "李明")
    await register_volunteer(volunteer, admin)  # 李明, 区供电公司, 第二网格 (G02)

    mark = stage.fake.mark()
    await stage.fake.send_document(admin.user, "在职党员名单.csv", ROSTER_CSV, caption="/roster")
    summary = await admin.expect("名单检查结果", after=mark)
    text = summary.text
    assert "在职党员名单.csv，共5行" in text
    for line in (
        "· 新增：1人",
        "· 已登记的党员（将自动关联）：1人",
        "· 有冲突（不导入）：1行",
        "· 有错误（不导入）：2行",
        "第4行：缺少姓名",
        "第5行：没有“G09”这个网格",
        "第6行：和第3行是同一个人",
        "确认后将导入2人。",
    ):
        assert line in text, line
    assert summary.button_texts() == ["✅ 导入", "取消"]
    async with stage.app.sessions() as session:
        assert (await session.scalars(select(RosterEntry))).all() == []  # a dry run

    await admin.press("✅ 导入", message_id=summary.message_id, expect="已导入2人")
    li = await _user_id(stage, 201)
    async with stage.app.sessions() as session:
        entries = (await session.scalars(select(RosterEntry).order_by(RosterEntry.id))).all()
    assert [(e.name, e.phone_last4, e.matched_user_id) for e in entries] == [
        ("李明", "5678", li),
        ("王芳", "1111", None),
    ]
    decided = next(m for m in stage.fake.messages(admin.id) if m.message_id == summary.message_id)
    assert decided.buttons == []  # the buttons are gone: it is decided once

    rates = await admin.say("/rates", expect="报到率与活动率 · 2026-11")
    assert "【幸福社区】名单2人，已报到1人，报到率50.0%；本月活动0人，活动率0.0%。" in rates.text


async def test_roster_command_then_file_then_cancel(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    await admin.say("/roster", expect="请把在职党员名单发给我")
    await admin.say("这是名单", expect="请发送一个 CSV")
    mark = stage.fake.mark()
    await stage.fake.send_document(admin.user, "bad.csv", "名字,电话\r\n张三,1\r\n".encode())
    await admin.expect("表头", after=mark)  # still waiting for a corrected file
    mark = stage.fake.mark()
    await stage.fake.send_document(admin.user, "roster.csv", ROSTER_CSV)
    summary = await admin.expect("名单检查结果", after=mark)
    await admin.press("取消", message_id=summary.message_id, expect="没有导入")


async def test_evaluation_sends_summary_workbook_and_csv_per_unit(
    stage: Stage, admin: Person
) -> None:
    await admin.say("/start")
    await register_volunteer(stage.person(201, "李明"), admin)
    li = await _user_id(stage, 201)
    opened = datetime(2026, 10, 8, 2, tzinfo=UTC)
    async with stage.app.sessions() as session:
        volunteer = await session.get(Volunteer, li)
        assert volunteer is not None
        wish = Wish(
            resident_id=li,
            grid_id=volunteer.grid_id,
            text="厨房水管漏水了",
            category="repair",
            status="verified",
            volunteer_id=li,
            rating=5,
            claimed_at=opened + timedelta(hours=3),
            done_at=opened + timedelta(days=1),
        )
        session.add(wish)
        await session.flush()
        session.add(WishEvent(wish_id=wish.id, to_status="approved", at=opened))
        session.add(
            LedgerEntry(
                user_id=li,
                amount=12,
                kind="award",
                reason="维修",
                source_type="wish",
                source_id=str(wish.id),
                created_at=opened + timedelta(days=2),
            )
        )
        await session.commit()

    mark = stage.fake.mark()
    summary = await admin.say("/evaluation 2026Q4", expect="每季一评 · 2026Q4")
    assert "1. 李明（区供电公司）服务1次 · 12分 · 评分5.0 · 响应3.0小时" in summary.text

    def documents() -> list:  # type: ignore[type-arg]
        return [
            m for m in stage.fake.messages(admin.id) if m.kind == "document" and m.marker > mark
        ]

    await stage.fake.wait_for(lambda: len(documents()) == 2, timeout=10)
    workbook, unit_csv = documents()
    assert workbook.filename == "每季一评_2026Q4.xlsx"
    assert unit_csv.filename == "每季一评_2026Q4_区供电公司.csv"
    book = load_workbook(io.BytesIO(workbook.document))
    assert book.sheetnames == ["总表", "区供电公司"]
    expected = [
        1,
        "李明",
        "区供电公司",
        "供电公司第三党支部",
        "幸福社区",
        "第二网格（7-12栋）",
        1,
        12,
        5,
        1,
        3,
    ]
    assert list(next(book["区供电公司"].iter_rows(min_row=2, values_only=True))) == expected
    rows = list(csv.reader(io.StringIO(unit_csv.document.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "姓名", "所在单位"]
    assert rows[1] == [
        "1",
        "李明",
        "区供电公司",
        "供电公司第三党支部",
        "幸福社区",
        "第二网格（7-12栋）",
        "1",
        "12",
        "5.0",
        "1",
        "3.0",
    ]
