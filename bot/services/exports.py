"""The one writer of every exported file: cells and CSV fields that are safe to open.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and tab / carriage return can smuggle one in), so a name typed as ``=HYPERLINK(...)`` would
become a live link: OWASP's CSV-injection rule. Such text is written as text: in XLSX as a
string cell (never a formula), in CSV behind a leading apostrophe. Plain numbers such as
``+19`` or ``-5`` stay as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from openpyxl.cell.cell import TYPE_STRING
from openpyxl.worksheet.worksheet import Worksheet

Cell = str | int | float | None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def risky(value: object) -> bool:
    """Text a spreadsheet could take for a formula."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and _NUMBER.fullmatch(value) is None
    )


def csv_field(value: Cell) -> Cell:
    if value is None:
        return ""
    return "'" + value if risky(value) and isinstance(value, str) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """CSV as UTF-8 with a BOM (Excel then reads the Chinese), every field safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_field(h) for h in header])
    for row in rows:
        writer.writerow([csv_field(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def append_row(sheet: Worksheet, values: Sequence[Cell]) -> None:
    """``sheet.append`` that never writes a formula: risky text stays a string cell."""
    sheet.append(list(values))
    row = sheet.max_row
    for index, value in enumerate(values, start=1):
        if risky(value):
            cell = sheet.cell(row=row, column=index)
            cell.value = value
            cell.data_type = TYPE_STRING
