"""Exports safe to open (issue 9, part 7): text that looks like a formula stays text.

Before, a volunteer named ``=HYPERLINK(...)`` became a live formula in the evaluation XLSX
and a bare ``=...`` field in the CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from bot.config import Settings
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.points.passbook import EntryView, StatementRow, statement_csv
from bot.services.reports.evaluations import EvaluationRow
from bot.services.reports.xlsx import COLUMNS, evaluation_csv, evaluation_xlsx

EVIL = {
    "name": '=HYPERLINK("http://evil.example/","点我")',
    "unit": "+cmd|' /C calc'!A0",
    "branch": "-2+3+cmd|' /C calc'!A0",
    "community": "@SUM(1+1)*cmd|' /C calc'!A0",
    "grid_name": "\t=1+1",
}


def _row() -> EvaluationRow:
    return EvaluationRow(
        user_id=1,
        name=EVIL["name"],
        unit=EVIL["unit"],
        branch=EVIL["branch"],
        community=EVIL["community"],
        grid_code="G01",
        grid_name=EVIL["grid_name"],
        services=3,
        points=-5,
        rating_avg=4.5,
        ratings=2,
        response_hours=1.5,
        rank=1,
    )


def test_xlsx_writes_formula_like_text_as_text() -> None:
    headers = [f"={c}" for c in COLUMNS]  # even a header cannot become a formula
    data = evaluation_xlsx(headers, "全部", [_row()], {"=unit": [_row()]})
    book = load_workbook(io.BytesIO(data))
    assert len(book.sheetnames) == 2
    for sheet in book.worksheets:
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        values = [c.value for c in cells]
        assert all(text in values for text in EVIL.values())
        assert -5 in values and 4.5 in values  # numbers stay numbers


def test_csv_fields_that_start_a_formula_get_an_apostrophe() -> None:
    data = evaluation_csv([f"h{c}" for c in COLUMNS], [_row()])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    fields = rows[1]
    for text in EVIL.values():
        assert "'" + text in fields
    risky = [f for f in fields if f.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert risky == ["-5"]  # only the plain number (points) is left as it is


def test_passbook_statement_csv_is_safe_and_keeps_signed_amounts() -> None:
    app = AppContext(settings=Settings(), sessions=None, notifier=None)  # type: ignore[arg-type]
    entry = EntryView(
        at=datetime(2026, 11, 20, 8, tzinfo=UTC),
        kind="adjust",
        amount=19,
        reason="=cmd|' /C calc'!A0",
        source_type="staff",
        source_id="1",
    )
    data = statement_csv(app, [StatementRow(entry, 19)], Translator("zh-CN"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][2] == "+19"
    assert rows[1][4] == "'=cmd|' /C calc'!A0"
