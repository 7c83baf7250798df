"""Checking roster rows (each bad line with its reasons) and classifying the good ones against
who is known: new, matched to a registered volunteer, already on the roster, or a conflict.

Identity: the same person is the same name plus the same unit, or the same name plus the same
last four phone digits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.db.models import Grid
from bot.services.errors import UserError
from bot.services.people.actors import mask_phone
from bot.services.people.roster_file import header_columns, norm

NAME_MAX, ORG_MAX = 64, 128
FIELDS = ("name", "unit", "branch", "grid", "phone")
_PHONE_SEPARATORS = str.maketrans("", "", " -()（）")


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
        self.exact: dict[str, Grid] = {norm(g.name): g for g in self.grids}
        self.exact.update({norm(g.code): g for g in self.grids})  # a code wins over a name

    def __call__(self, value: str) -> Grid | None:
        key = norm(value)
        if not key:
            return None
        found = self.exact.get(key)
        if found is not None:
            return found
        starts = [g for g in self.grids if norm(g.name).startswith(key)]
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
    if norm(name) != norm(other.name):
        return False
    return norm(unit) == norm(other.unit) or (last4 is not None and last4 == other.phone_last4)


@dataclass(slots=True)
class Classified:
    new: list[RosterRow] = field(default_factory=list)
    matched: list[tuple[RosterRow, int]] = field(default_factory=list)  # with the user id
    already: list[RosterRow] = field(default_factory=list)  # on the roster already
    conflicts: list[RowIssue] = field(default_factory=list)


class Known:
    """Registered volunteers and roster entries, indexed by normalised name."""

    def __init__(
        self, volunteers: Iterable[Person], entries: Iterable[Person], matched: set[int]
    ) -> None:
        self.volunteers: dict[str, list[Person]] = defaultdict(list)
        self.entries: dict[str, list[Person]] = defaultdict(list)
        for v in volunteers:
            self.volunteers[norm(v.name)].append(v)
        for e in entries:
            self.entries[norm(e.name)].append(e)
        self.matched_users = matched


def classify(rows: Iterable[RosterRow], known: Known) -> Classified:
    result = Classified()
    seen: dict[str, list[RosterRow]] = defaultdict(list)  # by normalised name
    for row in rows:
        twin = next(
            (
                s
                for s in seen[norm(row.name)]
                if same_person(row.name, row.unit, row.phone_last4, _as_person(s))
            ),
            None,
        )
        if twin is not None:
            result.conflicts.append(RowIssue(row.line, "duplicate", {"other": twin.line}))
            continue
        seen[norm(row.name)].append(row)
        issue = _classify_one(row, known, result)
        if issue is not None:
            result.conflicts.append(issue)
    return result


def _as_person(row: RosterRow) -> Person:
    return Person(row.line, row.name, row.unit, row.grid_id, row.phone_last4)


def _classify_one(row: RosterRow, known: Known, result: Classified) -> RowIssue | None:
    name = norm(row.name)
    listed = [e for e in known.entries[name] if same_person(row.name, row.unit, row.phone_last4, e)]
    if listed:
        entry = listed[0]
        if norm(entry.unit) == norm(row.unit) and entry.grid_id == row.grid_id:
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
    if norm(volunteer.unit) != norm(row.unit) or volunteer.grid_id != row.grid_id:
        return RowIssue(
            row.line,
            "registered_differs",
            {"unit": volunteer.unit, "grid": volunteer.grid_code},
        )
    result.matched.append((row, volunteer.key))
    known.matched_users.add(volunteer.key)  # one roster line per person
    return None
