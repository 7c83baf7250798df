"""项目清单 in the reports: each service project's progress, and what moved in a period
(milestones done, linked wishes served, linked events held)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.lists import projects
from bot.services.reports.evaluations import Period


@dataclass(frozen=True, slots=True)
class ProjectLine:
    id: int
    title: str
    owner: str
    status: str
    progress: float | None  # share of milestones done
    milestones_done: int
    milestones: int
    milestones_in_period: int
    wishes_served: int
    wishes: int
    events_in_period: int
    events: int


async def project_lines(
    session: AsyncSession, grid_ids: frozenset[int] | None, period: Period
) -> list[ProjectLine]:
    lines = []
    for view in await projects.listing(session, grid_ids):
        lines.append(
            ProjectLine(
                id=view.id,
                title=view.title,
                owner=view.owner,
                status=view.status,
                progress=view.progress,
                milestones_done=view.milestones_done,
                milestones=len(view.milestones),
                milestones_in_period=sum(
                    1
                    for m in view.milestones
                    if m.done_at is not None and period.contains(m.done_at)
                ),
                wishes_served=view.wishes_served,
                wishes=len(view.wishes),
                events_in_period=sum(1 for _, _, at in view.events if period.contains(at)),
                events=len(view.events),
            )
        )
    return lines
