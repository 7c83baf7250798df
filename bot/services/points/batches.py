"""召集人汇总: a convenor forwards the pending declarations of their group in a batch with a
summary; staff verify the batch (approve all, or item by item) or return it.

Each item is decided through :mod:`declarations` (so points go through the ledger once,
whatever happens); the batch's own status follows :mod:`batch_states`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Convenor, DeclarationBatch, DeclarationBatchItem, Grid, Volunteer
from bot.db.models.lists import BATCH_FORWARDED, BATCH_RETURNED, BATCH_VERIFIED
from bot.db.models.points import DECLARATION_PENDING, Declaration
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid
from bot.services.points import batch_states, declarations
from bot.services.points.convenors import in_open_batch, require_convenor
from bot.services.points.declarations import DeclarationView

SUMMARY_MAX = 300
BATCH_MAX = declarations.LIST_MAX  # items per batch: one card must show them all


@dataclass(frozen=True, slots=True)
class BatchView:
    id: int
    convenor_id: int
    convenor_name: str
    group: str  # the grid's name or the home organisation
    summary: str
    status: str
    created_at: datetime
    items: list[DeclarationView]

    @property
    def pending(self) -> list[DeclarationView]:
        return [d for d in self.items if d.status == DECLARATION_PENDING]


def _group_of(convenor: Convenor) -> ColumnElement[bool]:
    if convenor.grid_id is not None:
        return Declaration.grid_id == convenor.grid_id
    return Volunteer.branch == (convenor.branch or "")


async def waiting(session: AsyncSession, convenor_user_id: int) -> list[DeclarationView]:
    """The group's pending declarations not yet forwarded (oldest first, one card's worth)."""
    convenor = await require_convenor(session, convenor_user_id)
    ids = (
        await session.scalars(
            select(Declaration.id)
            .join(Volunteer, Volunteer.user_id == Declaration.user_id)
            .where(
                Declaration.status == DECLARATION_PENDING,
                Declaration.user_id != convenor_user_id,
                _group_of(convenor),
                ~in_open_batch(),
            )
            .order_by(Declaration.id)
            .limit(BATCH_MAX)
        )
    ).all()
    return [await declarations.declaration_view(session, i) for i in ids]


async def batch_view(session: AsyncSession, batch_id: int) -> BatchView:
    row = (
        await session.execute(
            select(DeclarationBatch, Volunteer.name, Volunteer.branch, Grid.name)
            .outerjoin(Volunteer, Volunteer.user_id == DeclarationBatch.convenor_id)
            .outerjoin(Grid, Grid.id == DeclarationBatch.grid_id)
            .where(DeclarationBatch.id == batch_id)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise UserError("convenor.batch_unknown")
    batch, name, branch, grid_name = row
    ids = (
        await session.scalars(
            select(DeclarationBatchItem.declaration_id)
            .where(DeclarationBatchItem.batch_id == batch_id)
            .order_by(DeclarationBatchItem.declaration_id)
        )
    ).all()
    items = [await declarations.declaration_view(session, i) for i in ids]
    return BatchView(
        id=batch.id,
        convenor_id=batch.convenor_id,
        convenor_name=name or "",
        group=grid_name or branch or "",
        summary=batch.summary,
        status=batch.status,
        created_at=batch.created_at,
        items=items,
    )


async def forward(
    app: AppContext, session: AsyncSession, convenor_user_id: int, summary: str
) -> BatchView:
    """Put every waiting declaration of the group in a new batch and tell the reviewers."""
    summary = " ".join(summary.split())
    if not summary or len(summary) > SUMMARY_MAX or summary.startswith("/"):
        raise UserError("declare.text_invalid", max=SUMMARY_MAX)
    await begin_write(session)
    convenor = await require_convenor(session, convenor_user_id)
    items = await waiting(session, convenor_user_id)
    if not items:
        raise UserError("convenor.nothing_waiting")
    batch = DeclarationBatch(
        convenor_id=convenor_user_id,
        grid_id=convenor.grid_id,
        summary=summary,
        status=BATCH_FORWARDED,
        created_at=app.now(),
    )
    session.add(batch)
    await session.flush()
    for item in items:
        session.add(DeclarationBatchItem(batch_id=batch.id, declaration_id=item.id))
    audit.record(
        session, convenor_user_id, "batch.forward", "declaration_batch", batch.id, n=len(items)
    )
    reviewers = await staff_for_grid(session, convenor.grid_id)
    batch_id = batch.id
    await session.commit()
    for staff_id in reviewers:
        await app.notifier.notify(staff_id, Notice("convenor.batch_review", {"batch_id": batch_id}))
    return await batch_view(session, batch_id)


async def forwarded(session: AsyncSession, staff_user_id: int) -> list[BatchView]:
    """Batches waiting for this staff member (their grid's, or all for community staff)."""
    rows = list(
        await session.execute(
            select(DeclarationBatch.id, DeclarationBatch.grid_id)
            .where(DeclarationBatch.status == BATCH_FORWARDED)
            .order_by(DeclarationBatch.id)
        )
    )
    views = []
    for batch_id, grid_id in rows:
        if await staff_covers_grid(session, staff_user_id, grid_id):
            views.append(await batch_view(session, batch_id))
    return views


async def _open_batch(session: AsyncSession, staff_user_id: int, batch_id: int) -> DeclarationBatch:
    batch = await session.get(DeclarationBatch, batch_id, populate_existing=True)
    if batch is None:
        raise UserError("convenor.batch_unknown")
    if not await staff_covers_grid(session, staff_user_id, batch.grid_id):
        raise UserError("convenor.not_your_grid")
    if batch.status != BATCH_FORWARDED:
        raise UserError("convenor.batch_closed")
    return batch


async def _pending_ids(session: AsyncSession, batch_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(Declaration.id)
                .join(
                    DeclarationBatchItem,
                    and_(
                        DeclarationBatchItem.declaration_id == Declaration.id,
                        DeclarationBatchItem.batch_id == batch_id,
                    ),
                )
                .where(Declaration.status == DECLARATION_PENDING)
                .order_by(Declaration.id)
            )
        ).all()
    )


async def _settle(
    app: AppContext, session: AsyncSession, staff_user_id: int, batch_id: int
) -> BatchView:
    """After a decision: verified once no item is pending (exactly once), and the convenor told."""
    await begin_write(session)
    left = len(await _pending_ids(session, batch_id))
    status = batch_states.after(BATCH_FORWARDED, "decide", left)
    closed = False
    if status == BATCH_VERIFIED:
        result = await session.execute(
            update(DeclarationBatch)
            .where(DeclarationBatch.id == batch_id, DeclarationBatch.status == BATCH_FORWARDED)
            .values(status=status, decided_by=staff_user_id, decided_at=app.now())
            .execution_options(synchronize_session=False)
        )
        closed = result.rowcount == 1  # type: ignore[attr-defined]
        if closed:
            audit.record(session, staff_user_id, "batch.verified", "declaration_batch", batch_id)
    await session.commit()
    view = await batch_view(session, batch_id)
    if closed:
        approved = sum(1 for d in view.items if d.status == "approved")
        await app.notifier.notify(
            view.convenor_id,
            Notice(
                "convenor.batch_verified",
                {"id": batch_id, "approved": approved, "total": len(view.items)},
            ),
        )
    return view


async def approve_all(
    app: AppContext, session: AsyncSession, staff_user_id: int, batch_id: int
) -> BatchView:
    """Approve every pending item at its suggested points; items decided meanwhile are skipped."""
    await _open_batch(session, staff_user_id, batch_id)
    for declaration_id in await _pending_ids(session, batch_id):
        try:
            await declarations.approve(app, session, staff_user_id, declaration_id)
        except UserError as err:
            if err.key != "declare.already_reviewed":
                raise
    audit.record(session, staff_user_id, "batch.approve_all", "declaration_batch", batch_id)
    return await _settle(app, session, staff_user_id, batch_id)


async def decide_item(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    batch_id: int,
    declaration_id: int,
    *,
    approve: bool,
    reason: str = "",
) -> BatchView:
    await _open_batch(session, staff_user_id, batch_id)
    member = await session.get(DeclarationBatchItem, (batch_id, declaration_id))
    if member is None:
        raise UserError("convenor.batch_unknown")
    if approve:
        await declarations.approve(app, session, staff_user_id, declaration_id)
    else:
        await declarations.reject(app, session, staff_user_id, declaration_id, reason)
    return await _settle(app, session, staff_user_id, batch_id)


async def return_batch(
    app: AppContext, session: AsyncSession, staff_user_id: int, batch_id: int, reason: str
) -> BatchView:
    """Send the batch back: its undecided items wait for the convenor again."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > declarations.REASON_MAX or reason.startswith("/"):
        raise UserError("declare.text_invalid", max=declarations.REASON_MAX)
    await begin_write(session)
    await _open_batch(session, staff_user_id, batch_id)
    status = batch_states.after(BATCH_FORWARDED, "return", 0)
    result = await session.execute(
        update(DeclarationBatch)
        .where(DeclarationBatch.id == batch_id, DeclarationBatch.status == BATCH_FORWARDED)
        .values(status=status, decided_by=staff_user_id, decided_at=app.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise UserError("convenor.batch_closed")
    audit.record(session, staff_user_id, "batch.return", "declaration_batch", batch_id)
    await session.commit()
    view = await batch_view(session, batch_id)
    await app.notifier.notify(
        view.convenor_id, Notice("convenor.batch_returned", {"id": batch_id, "reason": reason})
    )
    return view


async def counts(session: AsyncSession) -> dict[str, int]:
    """Batches by status (for the dashboard and tests)."""
    rows = await session.execute(
        select(DeclarationBatch.status, func.count()).group_by(DeclarationBatch.status)
    )
    found = {str(s): int(n) for s, n in rows}
    return {s: found.get(s, 0) for s in (BATCH_FORWARDED, BATCH_VERIFIED, BATCH_RETURNED)}
