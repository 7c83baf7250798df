"""Reports: monthly 报到率 / 活动率 per grid and the month's outcome figures, each with a chart
and a table; the quarterly evaluation per home organisation as an XLSX download."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid
from bot.i18n import Translator
from bot.services import audit
from bot.services.errors import UserError
from bot.services.outreach import ratings
from bot.services.reports import evaluations, xlsx
from bot.services.reports.outcomes import outcome_figures
from bot.services.reports.rates import rate_lines
from bot.services.suggestions import figures as suggestion_figures
from bot.web import charts
from bot.web.app import CHARTS, ctx, page, staff_only
from bot.web.scope import Viewer, may_see_grid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@staff_only
async def reports_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    t = Translator(viewer.language)
    now, tz = app.now(), app.settings.tz
    year, month = evaluations.parse_month(request.query.get("month"), now, tz)
    period = evaluations.month_period(tz, year, month)
    async with app.sessions() as session:
        report = await rate_lines(app, session, year, month)
        figures = await outcome_figures(session, period.start, period.end, viewer.grids)
        grid_ids = {g.code: g.id for g in await _grids(session) if may_see_grid(viewer, g.id)}
        sg = await suggestion_figures.figures(session, period.start, period.end, viewer.grids)
        rated = await ratings.averages(session, period.start, period.end, viewer.grids)
    lines = [g for g in report.grids if g.grid_code in grid_ids]
    labels = [g.grid_code or "" for g in lines]
    svg = charts.grouped_bar(
        t("web.chart_rates", period=period.label),
        labels,
        [
            (t("web.col_registration"), [_pct(g.registration_rate) for g in lines]),
            (t("web.col_activity"), [_pct(g.activity_rate) for g in lines]),
        ],
        t("web.no_data"),
    )
    quarter = evaluations.last_complete_quarter(now, tz)
    return page(
        request,
        "reports.html",
        viewer,
        period=period.label,
        lines=lines,
        o=figures,
        rates_chart=request.app[CHARTS].put(svg),
        quarter=f"{quarter[0]}Q{quarter[1]}",
        sg=sg,
        rated_events=len(rated),
        event_rating=ratings.overall(rated),
    )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


async def _grids(session: AsyncSession) -> list[Grid]:
    return list(await session.scalars(select(Grid)))


@staff_only
async def evaluation_xlsx(request: web.Request) -> web.StreamResponse:
    """每季一评 for every home organisation: community staff only (it spans every grid)."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if not viewer.community_wide or viewer.user_id is None:
        raise UserError("web.community_staff_only")
    t = Translator(viewer.language)
    year, quarter = evaluations.parse_quarter(
        request.query.get("quarter"), app.now(), app.settings.tz
    )
    label = f"{year}Q{quarter}"
    async with app.sessions() as session:
        rows = await evaluations.quarterly_evaluation(app, session, year, quarter)
        audit.record(session, viewer.user_id, "web.report_download", "report", label)
        await session.commit()
    headers = [t(f"reports.col.{c}") for c in xlsx.COLUMNS]
    body = xlsx.evaluation_xlsx(headers, t("reports.sheet_all"), rows, evaluations.by_unit(rows))
    name = quote(f"evaluation-{label}.xlsx")
    return web.Response(
        body=body,
        content_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/evaluation.xlsx", evaluation_xlsx)
