"""`/why`: the offers made for a wish with their score breakdowns, one volunteer explained."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Offer, Resident, Volunteer, Wish
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.tasks.offers import wish_query
from bot.services.tasks.volunteer_pool import build_pool, engine_weights, load_grids
from matching.ranking import ExplainResult, explain


async def why(
    app: AppContext, session: AsyncSession, wish_id: int, volunteer_user_id: int | None = None
) -> tuple[list[Offer], ExplainResult | None]:
    """Staff ask why: the offers with their score breakdowns, and one volunteer explained now."""
    offers = list(
        (
            await session.scalars(select(Offer).where(Offer.wish_id == wish_id).order_by(Offer.id))
        ).all()
    )
    if volunteer_user_id is None:
        return offers, None
    wish = await session.get(Wish, wish_id)
    if wish is None:
        raise UserError("wish.unknown", id=wish_id)
    grid_map = await load_grids(session)
    community = grid_map.grid_community.get(wish.grid_id, -1)
    area = [g for g, c in grid_map.grid_community.items() if c == community]
    own_grid = await session.scalar(
        select(Volunteer.grid_id).where(Volunteer.user_id == volunteer_user_id)
    )
    if own_grid is not None:
        area.append(own_grid)
    ctx = await build_pool(session, app.settings, app.now(), grids=area, grid_map=grid_map)
    resident = await session.get(Resident, wish.resident_id)
    query = wish_query(
        app,
        wish,
        (resident.building or "") if resident else "",
        ctx.grid_community.get(wish.grid_id, -1),
        {o.volunteer_id for o in offers},
    )
    try:
        return offers, explain(ctx.pool, query, engine_weights(app.settings), volunteer_user_id)
    except KeyError:
        return offers, None  # not in the pool: not approved, paused or blocked


@dataclass(frozen=True, slots=True)
class WhyReport:
    """`/why WISH [NAME]`: the offers made, the offered volunteers' names, one name explained."""

    offers: list[Offer]
    names: dict[int, str]
    explained: ExplainResult | None
    unknown_name: bool = False


async def why_report(
    app: AppContext, session: AsyncSession, wish_id: int, name: str | None
) -> WhyReport:
    volunteer_id = None
    if name:
        volunteer_id = await session.scalar(select(Volunteer.user_id).where(Volunteer.name == name))
        if volunteer_id is None:
            return WhyReport([], {}, None, unknown_name=True)
    found, explained = await why(app, session, wish_id, volunteer_id)
    rows = await session.execute(
        select(Volunteer.user_id, Volunteer.name).where(
            Volunteer.user_id.in_([o.volunteer_id for o in found])
        )
    )
    return WhyReport(found, {row.user_id: row.name for row in rows}, explained)
