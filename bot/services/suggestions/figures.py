"""The month's suggestion figures (received, answered, fixed, satisfaction), per scope.

- received: filed in the month;
- answered: first reply of any kind (answer, fix under way, fixed, declined) in the month;
- fixed: marked 已整改 in the month;
- satisfaction: of the residents who said so in the month, the share satisfied.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Suggestion
from bot.services.suggestions.states import OPEN

Grids = Collection[int] | None  # None: every grid


@dataclass(frozen=True, slots=True)
class SuggestionFigures:
    received: int
    answered: int
    fixed: int
    rated: int
    satisfied: int
    open_now: int

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


async def _count(session: AsyncSession, *where: Any) -> int:
    return int(await session.scalar(select(func.count(Suggestion.id)).where(*where)) or 0)


async def figures(
    session: AsyncSession, start: datetime, end: datetime, grids: Grids = None
) -> SuggestionFigures:
    scope = [] if grids is None else [Suggestion.grid_id.in_(list(grids))]

    def within(column: Any) -> list[Any]:
        return [column >= start, column < end, *scope]

    return SuggestionFigures(
        received=await _count(session, *within(Suggestion.created_at)),
        answered=await _count(session, *within(Suggestion.answered_at)),
        fixed=await _count(session, *within(Suggestion.fixed_at)),
        rated=await _count(session, *within(Suggestion.rated_at)),
        satisfied=await _count(
            session, Suggestion.satisfied.is_(True), *within(Suggestion.rated_at)
        ),
        open_now=await _count(session, Suggestion.status.in_(sorted(OPEN)), *scope),
    )
