"""The roster of expected in-service members: import (dry run first), matching.

A roster file (CSV or XLSX; header row in Chinese or English) lists name, unit, branch, grid
and phone. Checking it stores only the rows that passed, in a batch the staff member then
imports or cancels; bad rows (by line number, with the reason) are never imported.

Identity: the same person is the same name plus the same unit, or the same name plus the same
last four phone digits (only those are kept: see bot/db/models/roster.py). A row that matches
someone by identity but disagrees on unit or grid is a *conflict* for a person to look at.

This module holds the use cases; `roster_file` reads the file, `roster_rows` checks and
classifies its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from bot.services.people.roster_file import norm, read_table
from bot.services.people.roster_rows import (
    Known,
    Person,
    RosterRow,
    RowIssue,
    check_rows,
    classify,
    phone_last4,
    same_person,
)


async def _known(session: AsyncSession) -> Known:
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
    return Known(volunteers, entries, {int(uid) for uid in matched if uid is not None})


def _last4_or_none(phone: str | None) -> str | None:
    try:
        return phone_last4(phone or "")
    except ValueError:
        return None


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
            for v in known.volunteers[norm(entry.name)]
            if same_person(entry.name, entry.unit, entry.phone_last4, v)
            and v.key not in known.matched_users
        ]
        if len(fits) == 1:
            entry.matched_user_id, entry.matched_at = fits[0].key, now
            known.matched_users.add(fits[0].key)
            linked += 1
    await session.commit()
    return linked
