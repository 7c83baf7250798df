"""List exports as CSV (UTF-8 with BOM, for Excel) or XLSX, formula-safe.

A cell that starts with = + - @ or a tab / carriage return would be run as a formula by a
spreadsheet (CSV injection); such text is written with a leading apostrophe in CSV and as a
plain string cell in XLSX. (A shared safe-cell writer is being added elsewhere; this one small
function can then point at it.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

Cell = str | int | float | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else safe_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"  # text, never a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
