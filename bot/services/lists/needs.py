"""需求清单: the open wishes by category, beside the active resources of the same category,
so staff see at a glance where needs have no resource yet."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Resource, Wish
from bot.services.intake.wish_states import OPEN


@dataclass(frozen=True, slots=True)
class NeedLine:
    category: str
    open_wishes: int
    resources: int  # active resources offered for this category in the scope


async def needs_by_category(
    session: AsyncSession, grid_ids: frozenset[int] | None
) -> list[NeedLine]:
    """Categories with open wishes or resources, most open wishes first."""
    wishes = select(Wish.category, func.count()).where(Wish.status.in_(OPEN))
    offered = select(Resource.categories).where(Resource.active.is_(True))
    if grid_ids is not None:
        wishes = wishes.where(Wish.grid_id.in_(list(grid_ids)))
        offered = offered.where(
            or_(Resource.grid_id.is_(None), Resource.grid_id.in_(list(grid_ids)))
        )
    open_counts = Counter(
        {str(c): int(n) for c, n in await session.execute(wishes.group_by(Wish.category))}
    )
    resource_counts: Counter[str] = Counter()
    for categories in (await session.scalars(offered)).all():
        resource_counts.update(set(categories))
    keys = set(open_counts) | set(resource_counts)
    lines = [NeedLine(k, open_counts.get(k, 0), resource_counts.get(k, 0)) for k in keys]
    return sorted(lines, key=lambda line: (-line.open_wishes, -line.resources, line.category))
