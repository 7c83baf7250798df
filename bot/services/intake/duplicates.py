"""Neighbours reporting the same thing: find the likely earlier wish, tell the merged ones.

The link is the wish's existing `merged_into_id` (staff merge the later wish into the earlier
one); nothing new is stored. Matching itself is pure (matching.duplicates).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Resident, Wish
from bot.services.context import AppContext
from bot.services.intake import wish_states
from bot.services.notices import Notice
from matching.duplicates import Candidate, DuplicateMatch, neighbour_duplicate, same_building


async def neighbour_duplicate_of(
    app: AppContext, session: AsyncSession, wish: Wish
) -> DuplicateMatch | None:
    """An earlier open wish of another resident in the same grid that says the same thing."""
    cfg = app.settings.wishes
    if cfg.neighbour_window_hours <= 0 or wish.status != "submitted":
        return None
    since = wish.created_at - timedelta(hours=cfg.neighbour_window_hours)
    own = await session.get(Resident, wish.resident_id)
    rows = (
        await session.execute(
            select(Wish.id, Wish.text, Wish.category, Resident.building)
            .join(Resident, Resident.user_id == Wish.resident_id)
            .where(
                Wish.grid_id == wish.grid_id,
                Wish.resident_id != wish.resident_id,
                Wish.category == wish.category,
                Wish.status.in_(wish_states.OPEN),
                Wish.id < wish.id,
                Wish.created_at >= since,
            )
            .order_by(Wish.id)
        )
    ).all()
    candidates = [
        Candidate(
            int(wish_id),
            text,
            category,
            same_building(own.building if own else None, building),
        )
        for wish_id, text, category, building in rows
    ]
    return neighbour_duplicate(
        wish.text, wish.category, candidates, threshold=cfg.neighbour_similarity
    )


async def notify_merged(app: AppContext, wish_id: int) -> int:
    """Tell the residents whose wishes were merged into this one that it is done; how many."""
    async with app.sessions() as session:
        rows = (
            await session.execute(
                select(Wish.id, Wish.resident_id).where(Wish.merged_into_id == wish_id)
            )
        ).all()
    for merged_id, resident_id in rows:
        await app.notifier.notify(
            resident_id, Notice("duplicate.done_notice", {"id": merged_id, "into": wish_id})
        )
    return len(rows)
