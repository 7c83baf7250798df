"""Reading a roster file: CSV (UTF-8 or GB18030, any of , tab ;) or XLSX, bounded in size
and rows, and the header row in Chinese or English words."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence

from bot.services.errors import UserError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
REQUIRED_COLUMNS = ("name", "unit", "grid")
# Header words people put in roster sheets (compared after norm: no spaces, lower case).
HEADER_ALIASES: dict[str, frozenset[str]] = {
    "name": frozenset({"name", "姓名", "名字", "党员姓名"}),
    "unit": frozenset({"unit", "employer", "单位", "工作单位", "所在单位", "单位名称"}),
    "branch": frozenset(
        {"branch", "partybranch", "党组织", "所在党组织", "党支部", "支部", "所在支部"}
    ),
    "grid": frozenset({"grid", "gridcode", "网格", "网格编号", "网格代码", "所在网格", "居住网格"}),
    "phone": frozenset(
        {"phone", "mobile", "tel", "电话", "手机", "手机号", "手机号码", "联系电话"}
    ),
}


def norm(value: str) -> str:
    """Comparable form: full-width folded (NFKC), no whitespace, case-folded."""
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps phone numbers as numbers: 13812345678.0
    return " ".join(str(value).split())


def _decode(content: bytes) -> str:
    # Excel in China saves "CSV" as GB18030/GBK unless told otherwise: try UTF-8 first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError("reports.roster_encoding")


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(content)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",\t;"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            yield reader.line_num, [_cell(v) for v in row]
    except csv.Error as exc:
        raise UserError("reports.roster_unreadable") from exc


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UserError("reports.roster_unreadable") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell(v) for v in values]
    finally:
        book.close()


def read_table(content: bytes) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty row; the format is told by the bytes."""
    if len(content) > MAX_BYTES:
        raise UserError("reports.roster_too_big", mb=MAX_BYTES // (1024 * 1024))
    if content.startswith(b"\xd0\xcf\x11\xe0"):  # the old binary .xls
        raise UserError("reports.roster_format")
    rows = _xlsx_rows(content) if content.startswith(b"PK\x03\x04") else _csv_rows(content)
    table: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        if any(cells):
            table.append((number, cells))
            if len(table) > MAX_ROWS + 1:
                raise UserError("reports.roster_too_many", max=MAX_ROWS)
    return table


def header_columns(cells: Sequence[str]) -> dict[str, int]:
    """Which column holds which field, from the header row (Chinese or English words)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        word = norm(cell)
        for field_name, aliases in HEADER_ALIASES.items():
            if word in aliases and field_name not in columns:
                columns[field_name] = index
    missing = [f for f in REQUIRED_COLUMNS if f not in columns]
    if missing:
        raise UserError("reports.roster_header")
    return columns
