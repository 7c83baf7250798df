"""Evaluation reports as files: one XLSX workbook (a summary sheet and a sheet per unit) and
a CSV per unit (反馈至所在党组织). Pure: rows and header texts in, bytes out.

CSV is written as UTF-8 with a BOM, so that Excel (which assumes the local code page
otherwise) opens the Chinese text correctly.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.services import exports
from bot.services.reports.evaluations import EvaluationRow

# Column order of every evaluation file; the header texts are reports.col.<name>.
COLUMNS = (
    "rank",
    "name",
    "unit",
    "branch",
    "community",
    "grid",
    "services",
    "points",
    "rating",
    "ratings",
    "response_hours",
)
_WIDTHS = {"name": 10, "unit": 22, "branch": 24, "community": 12, "grid": 18}
_NUMBER_FORMATS = {"rating": "0.00", "response_hours": "0.0"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FILE_FORBIDDEN = re.compile(r'[\\/:*?"<>|\s]+')
SHEET_MAX = 31  # Excel's limit on a sheet name

Cell = exports.Cell


def row_values(row: EvaluationRow) -> list[Cell]:
    """One row's cells, in COLUMNS order; empty where there is nothing to show."""
    return [
        row.rank,
        row.name,
        row.unit,
        row.branch,
        row.community,
        row.grid_name,
        row.services,
        row.points,
        row.rating_avg,
        row.ratings,
        row.response_hours,
    ]


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name for a unit ("/" and friends are not allowed)."""
    base = _SHEET_FORBIDDEN.sub("_", name).strip("' ") or "_"
    title, n = base[:SHEET_MAX], 1
    while title.casefold() in taken:
        n += 1
        suffix = f"~{n}"
        title = base[: SHEET_MAX - len(suffix)] + suffix
    taken.add(title.casefold())
    return title


def file_part(name: str) -> str:
    """A unit name made safe for a file name."""
    return _FILE_FORBIDDEN.sub("_", name).strip("._")[:60] or "_"


def evaluation_xlsx(
    headers: Sequence[str],
    summary_title: str,
    rows: Iterable[EvaluationRow],
    by_unit: dict[str, list[EvaluationRow]],
) -> bytes:
    """The workbook: ``summary_title`` with every row, then one sheet per unit."""
    if len(headers) != len(COLUMNS):
        raise ValueError(f"{len(COLUMNS)} headers expected, got {len(headers)}")
    book = Workbook()
    taken: set[str] = set()
    summary = book.active
    assert summary is not None
    summary.title = sheet_title(summary_title, taken)
    _fill(summary, headers, rows)
    for unit, unit_rows in by_unit.items():
        _fill(book.create_sheet(sheet_title(unit, taken)), headers, unit_rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill(sheet: Worksheet, headers: Sequence[str], rows: Iterable[EvaluationRow]) -> None:
    exports.append_row(sheet, list(headers))
    for row in rows:
        exports.append_row(sheet, row_values(row))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _WIDTHS.get(column, 9)
        number_format = _NUMBER_FORMATS.get(column)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format


def evaluation_csv(headers: Sequence[str], rows: Iterable[EvaluationRow]) -> bytes:
    return exports.csv_bytes(headers, (row_values(row) for row in rows))
