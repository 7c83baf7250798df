"""治安巡查 and standing posts on the dashboard: the month's figures per grid (patrols,
patrollers, hours, hazards found / decided / fixed, posts held and checked in), within the
viewer's grid scope, with a chart and the same numbers as a table."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import Translator
from bot.services.reports import evaluations
from bot.services.reports import patrols as patrol_report
from bot.web import charts
from bot.web.app import CHARTS, ctx, page, staff_only
from bot.web.scope import Viewer


@staff_only
async def patrols_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    t = Translator(viewer.language)
    year, month = evaluations.parse_month(request.query.get("month"), app.now(), app.settings.tz)
    grid_ids = None if viewer.grid_ids is None else set(viewer.grid_ids)
    async with app.sessions() as session:
        report = await patrol_report.monthly(app, session, year, month, grid_ids=grid_ids)
    svg = charts.grouped_bar(
        t("patrols.web.chart", period=report.period),
        [g.code for g in report.grids],
        [
            (t("patrols.web.col_patrols"), [float(g.patrols) for g in report.grids]),
            (t("patrols.web.col_found"), [float(g.hazards_found) for g in report.grids]),
            (t("patrols.web.col_fixed"), [float(g.hazards_fixed) for g in report.grids]),
        ],
        t("web.no_data"),
    )
    return page(
        request,
        "patrols.html",
        viewer,
        period=report.period,
        rows=report.grids,
        total=report.total,
        chart=request.app[CHARTS].put(svg),
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/patrols", patrols_page)
