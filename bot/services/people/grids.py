"""Grids (网格): synced from config; looked up by code, page or a typed fragment of the name."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import GridConfig
from bot.db.models import Grid
from bot.db.tx import begin_write, transactional


@dataclass(frozen=True, slots=True)
class GridView:
    id: int
    code: str
    name: str
    community: str


def _view(grid: Grid) -> GridView:
    return GridView(grid.id, grid.code, grid.name, grid.community)


@transactional
async def sync_grids(session: AsyncSession, grids: list[GridConfig]) -> None:
    """Make the grids table match config. Grids gone from config are deactivated, not deleted."""
    await begin_write(session)
    existing = {g.code: g for g in (await session.scalars(select(Grid))).all()}
    wanted = {g.code for g in grids}
    for cfg in grids:
        row = existing.get(cfg.code)
        if row is None:
            session.add(
                Grid(
                    code=cfg.code,
                    name=cfg.name,
                    community=cfg.community,
                    neighbours=list(cfg.neighbours),
                )
            )
        else:
            row.name, row.community, row.active = cfg.name, cfg.community, True
            row.neighbours = list(cfg.neighbours)
    for code, row in existing.items():
        if code not in wanted:
            row.active = False
    await session.commit()


async def active_grids(session: AsyncSession) -> list[GridView]:
    rows = await session.scalars(select(Grid).where(Grid.active).order_by(Grid.code))
    return [_view(g) for g in rows]


async def grid_by_id(session: AsyncSession, grid_id: int) -> GridView | None:
    grid = await session.get(Grid, grid_id)
    return _view(grid) if grid is not None and grid.active else None


async def grid_by_code(session: AsyncSession, code: str) -> GridView | None:
    grid = await session.scalar(select(Grid).where(Grid.code == code, Grid.active))
    return _view(grid) if grid is not None else None


def search_grids(grids: list[GridView], query: str, limit: int = 8) -> list[GridView]:
    """Grids whose code or name fits what the person typed ("7栋", "第二", "g02")."""
    query = query.strip()
    if not query:
        return []
    exact = [g for g in grids if query.lower() in (g.code.lower(), g.name.lower())]
    if exact:
        return exact
    choices = {i: f"{g.code} {g.name}" for i, g in enumerate(grids)}
    hits = process.extract(
        query,
        choices,
        scorer=fuzz.partial_ratio,
        processor=default_process,
        limit=limit,
        score_cutoff=60,
    )
    return [grids[key] for _, _, key in hits]
