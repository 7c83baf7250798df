"""The roster import's dry-run preview for the web: the checked rows of a batch and its issues
sorted into what the dashboard shows (new / changed / unchanged / errors, with line numbers).

Reads only; checking, importing and cancelling stay in :mod:`bot.services.people.roster`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid
from bot.db.models.roster import RosterBatch
from bot.services.errors import UserError
from bot.services.people.roster import RosterCheck
from bot.services.people.roster_rows import RowIssue

# A known person whose unit or grid differs: the file would change them (not imported).
CHANGED = frozenset({"roster_differs", "registered_differs"})
ROWS_SHOWN = 500


@dataclass(frozen=True, slots=True)
class PreviewRow:
    line: int
    name: str
    unit: str
    branch: str
    grid: str
    phone: str  # the last four digits only, masked: "****1234"


@dataclass(frozen=True, slots=True)
class BatchView:
    id: int
    file_name: str
    status: str  # checked | imported | cancelled
    counts: dict[str, Any]
    rows: list[PreviewRow]  # the rows an import would add (first ROWS_SHOWN)
    total_rows: int


def split_issues(check: RosterCheck) -> tuple[list[RowIssue], list[RowIssue]]:
    """(changed, errors): known people the file disagrees with; everything else refused."""
    changed = [i for i in check.conflicts if i.code in CHANGED]
    errors = sorted(
        [*check.bad, *(i for i in check.conflicts if i.code not in CHANGED)],
        key=lambda i: i.line,
    )
    return changed, errors


async def batch_view(session: AsyncSession, staff_user_id: int, batch_id: int) -> BatchView:
    """A batch as its uploader sees it (others: not found, as the bot's decision refuses)."""
    batch = await session.get(RosterBatch, batch_id)
    if batch is None or batch.uploaded_by != staff_user_id:
        raise UserError("reports.roster_gone")
    grids = dict((await session.execute(select(Grid.id, Grid.code))).all())
    rows = [
        PreviewRow(
            line=int(r["line"]),
            name=str(r["name"]),
            unit=str(r["unit"]),
            branch=str(r.get("branch") or ""),
            grid=str(r.get("grid_code") or grids.get(int(r["grid_id"]), "")),
            phone=f"****{r['phone_last4']}" if r.get("phone_last4") else "",
        )
        for r in batch.rows[:ROWS_SHOWN]
    ]
    view = BatchView(
        batch.id, batch.file_name, batch.status, dict(batch.counts), rows, len(batch.rows)
    )
    await session.rollback()  # read only
    return view
