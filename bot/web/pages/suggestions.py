"""Suggestions (社情民意): the month's figures (received, answered, fixed, satisfaction) and the
suggestions themselves, open ones first. Grid staff see their grid only (bot/web/scope.py)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import case, select

from bot.db.models import Grid, Suggestion
from bot.services.reports import evaluations
from bot.services.suggestions import figures
from bot.services.suggestions.states import OPEN
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer

LIST_MAX = 200


@staff_only
async def suggestions_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    now, tz = app.now(), app.settings.tz
    year, month = evaluations.parse_month(request.query.get("month"), now, tz)
    period = evaluations.month_period(tz, year, month)
    open_first = case((Suggestion.status.in_(sorted(OPEN)), 0), else_=1)
    query = (
        select(Suggestion, Grid.name)
        .join(Grid, Grid.id == Suggestion.grid_id)
        .order_by(open_first, Suggestion.id.desc())
        .limit(LIST_MAX)
    )
    if viewer.grid_ids is not None:
        query = query.where(Suggestion.grid_id.in_(list(viewer.grid_ids)))
    async with app.sessions() as session:
        got = await figures.figures(session, period.start, period.end, viewer.grids)
        rows = list(await session.execute(query))
    return page(
        request,
        "suggestions.html",
        viewer,
        period=period.label,
        f=got,
        rows=rows,
        tz=tz,
        now=now,
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/suggestions", suggestions_page)
