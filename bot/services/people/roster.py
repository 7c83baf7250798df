"""The roster of expected in-service members: import (dry run first), matching.

A roster file (CSV or XLSX; header row in Chinese or English) lists name, unit, branch, grid
and phone. Checking it stores only the rows that passed, in a batch the staff member then
imports or cancels; bad rows (by line number, with the reason) are never imported.

Identity: the same person is the same name plus the same unit, or the same name plus the same
last four phone digits (only those are kept: see bot/db/models/roster.py). A row that matches
someone by identity but disagrees on unit or grid is a *conflict* for a person to look at.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Resident, Volunteer
from bot.db.models.roster import RosterBatch, RosterEntry
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import mask_phone

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
NAME_MAX, ORG_MAX = 64, 128
FIELDS = ("name", "unit", "branch", "grid", "phone")
REQUIRED_COLUMNS = ("name", "unit", "grid")
# Header words people put in roster sheets (compared after _norm: no spaces, lower case).
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
_PHONE_SEPARATORS = str.maketrans("", "", " -()（）")


# --- reading the file -----------------------------------------------------------------------


def _norm(value: str) -> str:
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
        word = _norm(cell)
        for field_name, aliases in HEADER_ALIASES.items():
            if word in aliases and field_name not in columns:
                columns[field_name] = index
    missing = [f for f in REQUIRED_COLUMNS if f not in columns]
    if missing:
        raise UserError("reports.roster_header")
    return columns


# --- checking rows --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowIssue:
    """What is wrong with one line: ``code`` names the text, ``params`` fill it."""

    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    name: str
    unit: str
    branch: str
    grid_id: int
    grid_code: str
    phone_last4: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "name": self.name,
            "unit": self.unit,
            "branch": self.branch,
            "grid_id": self.grid_id,
            "grid_code": self.grid_code,
            "phone_last4": self.phone_last4,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RosterRow:
        return cls(
            line=int(data["line"]),
            name=str(data["name"]),
            unit=str(data["unit"]),
            branch=str(data["branch"]),
            grid_id=int(data["grid_id"]),
            grid_code=str(data["grid_code"]),
            phone_last4=str(data["phone_last4"]) if data.get("phone_last4") else None,
        )


def phone_last4(raw: str) -> str | None:
    """The last four digits of a plausible phone number ('' → None); ValueError if not one."""
    value = raw.translate(_PHONE_SEPARATORS)
    if not value:
        return None
    digits = value.removeprefix("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise ValueError(raw)
    return digits[-4:]


class _GridFinder:
    """A grid by its code, its full name, or the start of its name if only one fits
    ("第一网格" for "第一网格（1-6栋）")."""

    def __init__(self, grids: Iterable[Grid]) -> None:
        self.grids = list(grids)
        self.exact: dict[str, Grid] = {_norm(g.name): g for g in self.grids}
        self.exact.update({_norm(g.code): g for g in self.grids})  # a code wins over a name

    def __call__(self, value: str) -> Grid | None:
        key = _norm(value)
        if not key:
            return None
        found = self.exact.get(key)
        if found is not None:
            return found
        starts = [g for g in self.grids if _norm(g.name).startswith(key)]
        return starts[0] if len(starts) == 1 else None


def check_rows(
    table: Sequence[tuple[int, list[str]]], grids: Iterable[Grid]
) -> tuple[list[RosterRow], list[RowIssue]]:
    """Rows that pass, and the problems of the others (several reasons per line if need be)."""
    if not table:
        raise UserError("reports.roster_empty")
    _, header = table[0]
    columns = header_columns(header)
    find_grid = _GridFinder(grids)
    good: list[RosterRow] = []
    bad: list[RowIssue] = []

    def get(cells: list[str], name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    for line, cells in table[1:]:
        values = {name: get(cells, name) for name in FIELDS}
        issues: list[RowIssue] = []
        if not values["name"]:
            issues.append(RowIssue(line, "missing_name"))
        elif len(values["name"]) > NAME_MAX:
            issues.append(RowIssue(line, "too_long", {"max": NAME_MAX}))
        if not values["unit"]:
            issues.append(RowIssue(line, "missing_unit"))
        elif len(values["unit"]) > ORG_MAX or len(values["branch"]) > ORG_MAX:
            issues.append(RowIssue(line, "too_long", {"max": ORG_MAX}))
        grid = find_grid(values["grid"])
        if not values["grid"]:
            issues.append(RowIssue(line, "missing_grid"))
        elif grid is None:
            issues.append(RowIssue(line, "unknown_grid", {"grid": values["grid"][:32]}))
        try:
            last4 = phone_last4(values["phone"])
        except ValueError:
            issues.append(RowIssue(line, "bad_phone", {"phone": mask_phone(values["phone"][:24])}))
            last4 = None
        if issues or grid is None:
            bad.extend(issues)
            continue
        good.append(
            RosterRow(
                line=line,
                name=values["name"],
                unit=values["unit"],
                branch=values["branch"],
                grid_id=grid.id,
                grid_code=grid.code,
                phone_last4=last4,
            )
        )
    return good, bad


# --- classifying rows against what we know --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """Someone already known: a registered volunteer or a roster entry."""

    key: int  # the volunteer's user id or the roster entry id
    name: str
    unit: str
    grid_id: int
    phone_last4: str | None
    grid_code: str = ""


def same_person(name: str, unit: str, last4: str | None, other: Person) -> bool:
    if _norm(name) != _norm(other.name):
        return False
    return _norm(unit) == _norm(other.unit) or (last4 is not None and last4 == other.phone_last4)


@dataclass(slots=True)
class Classified:
    new: list[RosterRow] = field(default_factory=list)
    matched: list[tuple[RosterRow, int]] = field(default_factory=list)  # with the user id
    already: list[RosterRow] = field(default_factory=list)  # on the roster already
    conflicts: list[RowIssue] = field(default_factory=list)


class _Known:
    """Registered volunteers and roster entries, indexed by normalised name."""

    def __init__(
        self, volunteers: Iterable[Person], entries: Iterable[Person], matched: set[int]
    ) -> None:
        self.volunteers: dict[str, list[Person]] = defaultdict(list)
        self.entries: dict[str, list[Person]] = defaultdict(list)
        for v in volunteers:
            self.volunteers[_norm(v.name)].append(v)
        for e in entries:
            self.entries[_norm(e.name)].append(e)
        self.matched_users = matched


def classify(rows: Iterable[RosterRow], known: _Known) -> Classified:
    result = Classified()
    seen: dict[str, list[RosterRow]] = defaultdict(list)  # by normalised name
    for row in rows:
        twin = next(
            (
                s
                for s in seen[_norm(row.name)]
                if same_person(row.name, row.unit, row.phone_last4, _as_person(s))
            ),
            None,
        )
        if twin is not None:
            result.conflicts.append(RowIssue(row.line, "duplicate", {"other": twin.line}))
            continue
        seen[_norm(row.name)].append(row)
        issue = _classify_one(row, known, result)
        if issue is not None:
            result.conflicts.append(issue)
    return result


def _as_person(row: RosterRow) -> Person:
    return Person(row.line, row.name, row.unit, row.grid_id, row.phone_last4)


def _classify_one(row: RosterRow, known: _Known, result: Classified) -> RowIssue | None:
    name = _norm(row.name)
    listed = [e for e in known.entries[name] if same_person(row.name, row.unit, row.phone_last4, e)]
    if listed:
        entry = listed[0]
        if _norm(entry.unit) == _norm(row.unit) and entry.grid_id == row.grid_id:
            result.already.append(row)
            return None
        return RowIssue(row.line, "roster_differs", {"unit": entry.unit, "grid": entry.grid_code})
    fits = [
        v for v in known.volunteers[name] if same_person(row.name, row.unit, row.phone_last4, v)
    ]
    if not fits:
        result.new.append(row)
        return None
    if len(fits) > 1:
        return RowIssue(row.line, "ambiguous", {"count": len(fits)})
    volunteer = fits[0]
    if volunteer.key in known.matched_users:
        return RowIssue(row.line, "already_matched")
    if _norm(volunteer.unit) != _norm(row.unit) or volunteer.grid_id != row.grid_id:
        return RowIssue(
            row.line,
            "registered_differs",
            {"unit": volunteer.unit, "grid": volunteer.grid_code},
        )
    result.matched.append((row, volunteer.key))
    known.matched_users.add(volunteer.key)  # one roster line per person
    return None


async def _known(session: AsyncSession) -> _Known:
    grid_codes = dict((await session.execute(select(Grid.id, Grid.code))).all())
    volunteers = [
        Person(
            key=v.user_id,
            name=v.name,
            unit=v.unit,
            grid_id=v.grid_id,
            phone_last4=_last4_or_none(phone),
            grid_code=grid_codes.get(v.grid_id, ""),
        )
        for v, phone in (
            await session.execute(
                select(Volunteer, Resident.phone)
                .outerjoin(Resident, Resident.user_id == Volunteer.user_id)
                .where(Volunteer.status == "approved")
            )
        )
    ]
    entries = [
        Person(e.id, e.name, e.unit, e.grid_id, e.phone_last4, grid_codes.get(e.grid_id, ""))
        for e in await session.scalars(select(RosterEntry))
    ]
    matched = set(
        await session.scalars(
            select(RosterEntry.matched_user_id).where(RosterEntry.matched_user_id.is_not(None))
        )
    )
    return _Known(volunteers, entries, {int(uid) for uid in matched if uid is not None})


def _last4_or_none(phone: str | None) -> str | None:
    try:
        return phone_last4(phone or "")
    except ValueError:
        return None


# --- the use cases --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RosterCheck:
    """The dry run: what an import would do. Only new and matched rows would be imported."""

    batch_id: int
    rows: int
    new: int
    matched: int
    already: int
    conflicts: list[RowIssue]
    bad: list[RowIssue]

    @property
    def bad_lines(self) -> int:
        return len({issue.line for issue in self.bad})

    @property
    def importable(self) -> int:
        return self.new + self.matched


@dataclass(frozen=True, slots=True)
class RosterImported:
    imported: int
    matched: int
    skipped: int  # rows that became conflicts or duplicates since the dry run


async def check_roster(
    app: AppContext, session: AsyncSession, staff_user_id: int, file_name: str, content: bytes
) -> RosterCheck:
    """Dry run: read and check the file, keep the good rows in a batch, change nothing else."""
    table = read_table(content)
    await begin_write(session)
    grids = (await session.scalars(select(Grid).where(Grid.active))).all()
    good, bad = check_rows(table, grids)
    classified = classify(good, await _known(session))
    keep = classified.new + [row for row, _ in classified.matched]
    counts = {
        "rows": len(table) - 1,
        "new": len(classified.new),
        "matched": len(classified.matched),
        "already": len(classified.already),
        "conflicts": len(classified.conflicts),
        "bad_lines": len({i.line for i in bad}),
    }
    batch = RosterBatch(
        file_name=file_name[:128] or "roster",
        uploaded_by=staff_user_id,
        created_at=app.now(),
        rows=[row.to_dict() for row in sorted(keep, key=lambda r: r.line)],
        counts=counts,
    )
    session.add(batch)
    await session.flush()
    audit.record(session, staff_user_id, "roster.check", "roster_batch", batch.id, **counts)
    await session.commit()
    return RosterCheck(
        batch_id=batch.id,
        rows=counts["rows"],
        new=counts["new"],
        matched=counts["matched"],
        already=counts["already"],
        conflicts=sorted(classified.conflicts, key=lambda i: i.line),
        bad=bad,
    )


async def _decide(
    session: AsyncSession, batch_id: int, staff_user_id: int, status: str, now: datetime
) -> RosterBatch:
    """Move a checked batch to imported/cancelled; only the first decision counts."""
    await begin_write(session)
    result = await session.execute(
        update(RosterBatch)
        .where(
            RosterBatch.id == batch_id,
            RosterBatch.uploaded_by == staff_user_id,  # the one who checked it decides
            RosterBatch.status == "checked",
        )
        .values(status=status, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        batch = await session.get(RosterBatch, batch_id)
        if batch is None:
            raise UserError("reports.roster_gone")
        if batch.uploaded_by != staff_user_id:
            raise UserError("reports.roster_not_yours")
        raise UserError(
            "reports.roster_already_imported"
            if batch.status == "imported"
            else "reports.roster_already_cancelled"
        )
    batch = await session.get(RosterBatch, batch_id, populate_existing=True)
    assert batch is not None
    return batch


async def import_roster(
    app: AppContext, session: AsyncSession, staff_user_id: int, batch_id: int
) -> RosterImported:
    """Import a checked batch once. Rows are checked again against what changed meanwhile."""
    now = app.now()
    batch = await _decide(session, batch_id, staff_user_id, "imported", now)
    rows = [RosterRow.from_dict(r) for r in batch.rows]
    classified = classify(rows, await _known(session))
    chosen = [(row, None) for row in classified.new] + list(classified.matched)
    chosen.sort(key=lambda pair: pair[0].line)  # in the file's order
    if chosen:  # one bulk INSERT: a district roster has tens of thousands of rows
        await session.execute(
            insert(RosterEntry), [_entry(batch.id, row, uid, now) for row, uid in chosen]
        )
    result = RosterImported(
        imported=len(classified.new) + len(classified.matched),
        matched=len(classified.matched),
        skipped=len(classified.conflicts) + len(classified.already),
    )
    audit.record(
        session,
        staff_user_id,
        "roster.import",
        "roster_batch",
        batch.id,
        imported=result.imported,
        matched=result.matched,
        skipped=result.skipped,
    )
    await session.commit()
    return result


async def cancel_roster(
    app: AppContext, session: AsyncSession, staff_user_id: int, batch_id: int
) -> None:
    batch = await _decide(session, batch_id, staff_user_id, "cancelled", app.now())
    batch.rows = []  # nothing of the file is kept once the staff member said no
    audit.record(session, staff_user_id, "roster.cancel", "roster_batch", batch.id)
    await session.commit()


def _entry(batch_id: int, row: RosterRow, user_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "name": row.name,
        "unit": row.unit,
        "branch": row.branch,
        "grid_id": row.grid_id,
        "phone_last4": row.phone_last4,
        "matched_user_id": user_id,
        "matched_at": now if user_id is not None else None,
        "imported_at": now,
    }


async def link_registrations(app: AppContext, session: AsyncSession) -> int:
    """Match roster entries to volunteers who registered since (报到): by identity only, and
    only when exactly one volunteer fits. Returns how many were linked. Commits."""
    await begin_write(session)
    known = await _known(session)
    linked = 0
    unmatched = await session.scalars(
        select(RosterEntry).where(RosterEntry.matched_user_id.is_(None)).order_by(RosterEntry.id)
    )
    now = app.now()
    for entry in unmatched.all():
        fits = [
            v
            for v in known.volunteers[_norm(entry.name)]
            if same_person(entry.name, entry.unit, entry.phone_last4, v)
            and v.key not in known.matched_users
        ]
        if len(fits) == 1:
            entry.matched_user_id, entry.matched_at = fits[0].key, now
            known.matched_users.add(fits[0].key)
            linked += 1
    await session.commit()
    return linked
