"""Roster import (dry run, bad rows by line, conflicts, import once), matching and the rates."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.db.models import AuditEntry
from bot.db.models.roster import RosterBatch, RosterEntry
from bot.services.errors import UserError
from bot.services.people import roster, roster_rows
from bot.services.people.roster import RosterCheck
from bot.services.reports import rates
from tests.reports.conftest import DATA, World, at

BAD_ROWS_FILE = DATA / "roster_bad_rows.csv"


async def registered(world: World) -> dict[str, int]:
    """Volunteers already registered when the roster arrives."""
    return {
        "li": await world.volunteer("李明", "G01", unit="区供电公司"),
        "chen": await world.volunteer("陈红", "H01", unit="区人民医院", phone="13700009999"),
        # Pending volunteers are not registered yet: never matched.
        "zhou": await world.volunteer("周到", "G02", unit="区城管局", status="pending"),
    }


async def check(world: World, staff: int, content: bytes, name: str = "名单.csv") -> RosterCheck:
    async with world.app.sessions() as session:
        return await roster.check_roster(world.app, session, staff, name, content)


def issues(found: list[roster_rows.RowIssue]) -> list[tuple[int, str, dict[str, object]]]:
    return [(i.line, i.code, i.params) for i in found]


async def test_bad_rows_by_line_number_with_reasons(both: World) -> None:
    await registered(both)
    staff = await both.staff()
    result = await check(both, staff, BAD_ROWS_FILE.read_bytes())
    assert issues(result.bad) == [
        (4, "missing_name", {}),
        (5, "unknown_grid", {"grid": "G09"}),
        (6, "bad_phone", {"phone": "139****abcd"}),
        (7, "missing_unit", {}),
        (12, "missing_unit", {}),
        (12, "missing_grid", {}),
        (12, "bad_phone", {"phone": "**"}),
    ]
    assert issues(result.conflicts) == [
        (8, "duplicate", {"other": 3}),
        (9, "registered_differs", {"unit": "区人民医院", "grid": "H01"}),
    ]
    assert (result.rows, result.new, result.matched, result.already) == (10, 2, 1, 0)
    assert (result.bad_lines, result.importable) == (5, 3)


async def test_dry_run_changes_nothing_but_keeps_the_good_rows_least_data(world: World) -> None:
    await registered(world)
    staff = await world.staff()
    result = await check(world, staff, BAD_ROWS_FILE.read_bytes())
    async with world.app.sessions() as session:
        assert (await session.scalars(select(RosterEntry))).all() == []
        batch = await session.get(RosterBatch, result.batch_id)
        assert batch is not None and batch.status == "checked"
        assert [(r["line"], r["name"], r["grid_code"], r["phone_last4"]) for r in batch.rows] == [
            (2, "李明", "G01", "5678"),
            (3, "王芳", "G02", "1111"),
            (10, "周到", "G02", None),
        ]
        assert "13812345678" not in str(batch.rows)  # never the whole number
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.check"))
        assert audit is not None and audit.detail["bad_lines"] == 5


async def test_import_once_rechecks_and_matches(both: World) -> None:
    people = await registered(both)
    staff = await both.staff()
    result = await check(both, staff, BAD_ROWS_FILE.read_bytes())
    # Between the check and the import, 周到 is approved: the import links him too.
    async with both.app.sessions() as session:
        from bot.db.models import Volunteer

        volunteer = await session.get(Volunteer, people["zhou"])
        assert volunteer is not None
        volunteer.status = "approved"
        await session.commit()
    other = await both.staff("李干事")
    async with both.app.sessions() as session:
        with pytest.raises(UserError) as err:
            await roster.import_roster(both.app, session, other, result.batch_id)
        assert err.value.key == "reports.roster_not_yours"
    async with both.app.sessions() as session:
        done = await roster.import_roster(both.app, session, staff, result.batch_id)
    assert (done.imported, done.matched, done.skipped) == (3, 2, 0)
    async with both.app.sessions() as session:
        entries = (await session.scalars(select(RosterEntry).order_by(RosterEntry.name))).all()
        assert sorted(
            (e.name, e.unit, e.phone_last4, e.matched_user_id) for e in entries
        ) == sorted(
            [
                ("李明", "区供电公司", "5678", people["li"]),
                ("王芳", "区人民医院", "1111", None),
                ("周到", "区城管局", None, people["zhou"]),
            ]
        )
        assert {e.batch_id for e in entries} == {result.batch_id}
    for action, key in (
        ("import", "reports.roster_already_imported"),
        ("cancel", "reports.roster_already_imported"),
    ):
        async with both.app.sessions() as session:
            with pytest.raises(UserError) as err:
                if action == "import":
                    await roster.import_roster(both.app, session, staff, result.batch_id)
                else:
                    await roster.cancel_roster(both.app, session, staff, result.batch_id)
            assert err.value.key == key
    # The same file again: everyone is already on the roster; nothing to import.
    again = await check(both, staff, BAD_ROWS_FILE.read_bytes())
    assert (again.new, again.matched, again.already, again.importable) == (0, 0, 3, 0)


async def test_cancel_keeps_nothing(world: World) -> None:
    staff = await world.staff()
    result = await check(world, staff, BAD_ROWS_FILE.read_bytes())
    async with world.app.sessions() as session:
        await roster.cancel_roster(world.app, session, staff, result.batch_id)
    async with world.app.sessions() as session:
        batch = await session.get(RosterBatch, result.batch_id)
        assert batch is not None and (batch.status, batch.rows) == ("cancelled", [])
        with pytest.raises(UserError) as err:
            await roster.import_roster(world.app, session, staff, result.batch_id)
        assert err.value.key == "reports.roster_already_cancelled"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_xlsx_with_english_headers_in_another_order(world: World) -> None:
    staff = await world.staff()
    content = _xlsx(
        [
            ["Phone", "Grid", "Name", "Unit", "Branch"],
            [
                13812345678,
                "G01",
                "张三",
                "区财政局",
                "财政局支部",
            ],  # Excel keeps the phone a number
            [None, None, None, None, None],
            [None, "第二网格", "李四", "区财政局", None],
        ]
    )
    result = await check(world, staff, content, "roster.xlsx")
    assert (result.rows, result.new, result.bad) == (2, 2, [])
    async with world.app.sessions() as session:
        batch = await session.get(RosterBatch, result.batch_id)
        assert batch is not None
        assert [(r["line"], r["name"], r["grid_code"], r["phone_last4"]) for r in batch.rows] == [
            (2, "张三", "G01", "5678"),
            (4, "李四", "G02", None),
        ]


async def test_gbk_csv_from_excel_is_read(world: World) -> None:
    staff = await world.staff()
    text = (
        "姓名,工作单位,所在党组织,网格编号,手机号\r\n张三,区财政局,财政局支部,G01,13812345678\r\n"
    )
    content = text.encode("gb18030")
    result = await check(world, staff, content)
    assert (result.rows, result.new) == (1, 1)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"", "reports.roster_empty"),
        ("名字,电话\r\n张三,1\r\n".encode(), "reports.roster_header"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "reports.roster_format"),
        (b"PK\x03\x04not really a workbook", "reports.roster_unreadable"),
    ],
)
async def test_unusable_files_are_refused_and_nothing_is_kept(
    world: World, content: bytes, key: str
) -> None:
    staff = await world.staff()
    with pytest.raises(UserError) as err:
        await check(world, staff, content)
    assert err.value.key == key
    async with world.app.sessions() as session:
        assert (await session.scalars(select(RosterBatch))).all() == []


def test_phone_last4() -> None:
    assert roster_rows.phone_last4("+86 138-1234-5678") == "5678"
    assert roster_rows.phone_last4("(0510) 8123 4567") == "4567"
    assert roster_rows.phone_last4("") is None
    for bad in ("12345", "138abc45678", "1" * 16):
        with pytest.raises(ValueError):
            roster_rows.phone_last4(bad)


async def test_rates_per_grid_and_community(both: World) -> None:
    people = await registered(both)
    staff = await both.staff()
    result = await check(both, staff, BAD_ROWS_FILE.read_bytes())
    async with both.app.sessions() as session:
        await roster.import_roster(both.app, session, staff, result.batch_id)
    # 王芳 registers after the import (报到): /rates links her; she serves in November.
    wang = await both.volunteer("王芳", "G02", unit="区人民医院")
    await both.service(wang, opened=at(2026, 11, 3), claim_after=timedelta(hours=1))
    await both.service(people["li"], opened=at(2026, 10, 3))  # October: not active in November
    async with both.app.sessions() as session:
        report = await rates.rates(both.app, session, 2026, 11)
    assert report.period == "2026-11"
    grids = [(g.community, g.grid_code, g.expected, g.registered, g.active) for g in report.grids]
    assert grids == [("幸福社区", "G01", 1, 1, 0), ("幸福社区", "G02", 2, 1, 1)]
    (community,) = report.communities
    assert (community.community, community.expected, community.registered, community.active) == (
        "幸福社区",
        3,
        2,
        1,
    )
    assert community.registration_rate == pytest.approx(2 / 3)
    assert community.activity_rate == pytest.approx(0.5)
    async with both.app.sessions() as session:
        linked = await session.scalar(select(RosterEntry).where(RosterEntry.name == "王芳"))
        assert linked is not None and linked.matched_user_id == wang
    # In October 李明 was the active one.
    async with both.app.sessions() as session:
        october = await rates.rates(both.app, session, 2026, 10)
    assert [(g.grid_code, g.active) for g in october.grids] == [("G01", 1), ("G02", 0)]


async def test_rates_without_roster_are_empty(world: World) -> None:
    await registered(world)
    async with world.app.sessions() as session:
        report = await rates.rates(world.app, session, 2026, 11)
    assert (report.communities, report.grids) == ([], [])
