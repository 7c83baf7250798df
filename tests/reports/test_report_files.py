"""The quarterly report files, read back cell by cell (openpyxl) and row by row (csv)."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from bot.i18n import Translator
from bot.services.reports import evaluations, xlsx
from tests.reports.conftest import World
from tests.reports.test_evaluations import build_quarter

HEADERS_ZH = [
    "排名",
    "姓名",
    "所在单位",
    "所在党组织",
    "社区",
    "网格",
    "服务次数",
    "积分",
    "平均评分",
    "评分次数",
    "响应时间（小时）",
]
LI = [1, "李明", "区供电公司", "供电公司第三党支部", "幸福社区", "第一网格", 3, 42, 4.5, 2, 2.0]
WANG = [2, "王芳", "区人民医院", "医院党委", "幸福社区", "第二网格", 2, 30, None, 0, 3.5]
SUN = [3, "孙丽", "区人民医院", "医院党委", "幸福社区", "第二网格", 0, 0, None, 0, None]
ZHAO = [3, "赵强", "区供电公司", "供电公司第三党支部", "幸福社区", "第一网格", 0, 0, None, 0, None]
CHEN = [1, "陈红", "区人民医院", "医院党委", "河西社区", "河西一网格", 1, 0, None, 0, 1.0]


async def _files(world: World) -> tuple[bytes, dict[str, bytes]]:
    await build_quarter(world)
    async with world.app.sessions() as session:
        rows = await evaluations.quarterly_evaluation(world.app, session, 2026, 4)
    t = Translator("zh-CN")
    headers = [t(f"reports.col.{c}") for c in xlsx.COLUMNS]
    units = evaluations.by_unit(rows)
    workbook = xlsx.evaluation_xlsx(headers, t("reports.sheet_all"), rows, units)
    csvs = {unit: xlsx.evaluation_csv(headers, unit_rows) for unit, unit_rows in units.items()}
    return workbook, csvs


def _cells(sheet) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_quarterly_workbook_cell_by_cell(world: World) -> None:
    workbook, _ = await _files(world)
    book = load_workbook(io.BytesIO(workbook))
    assert book.sheetnames == ["总表", "区人民医院", "区供电公司"]
    assert _cells(book["总表"]) == [HEADERS_ZH, LI, WANG, SUN, ZHAO, CHEN]
    assert _cells(book["区人民医院"]) == [HEADERS_ZH, WANG, SUN, CHEN]
    assert _cells(book["区供电公司"]) == [HEADERS_ZH, LI, ZHAO]
    summary = book["总表"]
    assert summary.freeze_panes == "A2"
    assert summary["I2"].number_format == "0.00" and summary["K2"].number_format == "0.0"


async def test_quarterly_csv_per_unit(world: World) -> None:
    _, csvs = await _files(world)
    assert list(csvs) == ["区人民医院", "区供电公司"]
    raw = csvs["区供电公司"]
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [
        HEADERS_ZH,
        [
            "1",
            "李明",
            "区供电公司",
            "供电公司第三党支部",
            "幸福社区",
            "第一网格",
            "3",
            "42",
            "4.5",
            "2",
            "2.0",
        ],
        [
            "3",
            "赵强",
            "区供电公司",
            "供电公司第三党支部",
            "幸福社区",
            "第一网格",
            "0",
            "0",
            "",
            "0",
            "",
        ],
    ]
    hospital = list(csv.reader(io.StringIO(csvs["区人民医院"].decode("utf-8-sig"))))
    assert [r[1] for r in hospital[1:]] == ["王芳", "孙丽", "陈红"]


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert xlsx.sheet_title("总表", taken) == "总表"
    assert xlsx.sheet_title("A/B:C*D?[E]", taken) == "A_B_C_D__E_"
    long = "某某市某某区某某街道某某社区卫生服务中心第一党支部联合党委机关委员会"  # 35 long
    first = xlsx.sheet_title(long, taken)
    second = xlsx.sheet_title(long, taken)
    assert len(first) == 31 and len(second) <= 31
    assert first != second and second.endswith("~2")
    assert xlsx.file_part('区/供电:公司 "一"') == "区_供电_公司_一"
