"""Overview (一屏观全域) and its big-screen mode; the wall screen through a display token."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from bot.i18n import Translator
from bot.services import web_access
from bot.services.context import AppContext
from bot.services.reports.outcomes import window
from bot.services.reports.overview import Overview, local_midnight, overview
from bot.web import charts
from bot.web.app import CHARTS, ctx, current_viewer, page, staff_only
from bot.web.scope import Viewer, display_viewer

WINDOWS = ("today", "7d", "30d")
CACHE_SECONDS = 30.0
_cache: dict[tuple[object, ...], tuple[float, Overview]] = {}


async def load_overview(app: AppContext, viewer: Viewer, key: str, cached: bool) -> Overview:
    """The overview for the viewer's scope; the wall screen may reuse one ≤ 30 s old."""
    now = app.now()
    cache_key = (key, viewer.grid_ids, id(app))
    hit = _cache.get(cache_key)
    if cached and hit is not None and hit[0] > time.monotonic():
        return hit[1]
    async with app.sessions() as session:
        data = await overview(
            app, session, viewer.grids, window(key, now, local_midnight(app, now))
        )
    _cache[cache_key] = (time.monotonic() + CACHE_SECONDS, data)
    return data


def chart_context(
    request: web.Request, app: AppContext, t: Translator, data: Overview, dark: bool
) -> dict[str, Any]:
    """Charts (rendered once per distinct set of numbers, see charts.py) and their tables."""
    return _render_charts(request, app, t, data, dark)


def _render_charts(
    request: web.Request, app: AppContext, t: Translator, data: Overview, dark: bool
) -> dict[str, Any]:
    store = request.app[CHARTS]
    cats = app.settings.categories
    statuses = [(t(f"status.wish.{s}"), n) for s, n in data.by_status.items()]
    categories = [
        (c.name(t.lang) if (c := cats.get(cid)) else cid, n) for cid, n in data.by_category.items()
    ]
    days = [d.strftime("%m-%d") for d, _, _ in data.trend]
    none = t("web.no_data")
    status_svg = charts.bar(
        t("web.chart_status"), [s for s, _ in statuses], [n for _, n in statuses], none, dark
    )
    category_svg = charts.bar(
        t("web.chart_category"), [c for c, _ in categories], [n for _, n in categories], none, dark
    )
    trend_svg = charts.trend(
        t("web.chart_trend"),
        days,
        [
            (t("web.filed"), [f for _, f, _ in data.trend]),
            (t("web.done"), [d for _, _, d in data.trend]),
        ],
        none,
        dark,
    )
    return {
        "statuses": statuses,
        "categories": categories,
        "trend_rows": [(d.strftime("%Y-%m-%d"), f, n) for d, f, n in data.trend],
        "status_chart": store.put(status_svg),
        "category_chart": store.put(category_svg),
        "trend_chart": store.put(trend_svg),
    }


def _window_key(request: web.Request) -> str:
    key = request.query.get("window", "30d")
    return key if key in WINDOWS else "30d"


@staff_only
async def overview_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    key = _window_key(request)
    big = request.query.get("big") == "1"
    data = await load_overview(app, viewer, key, cached=big)
    t = Translator(viewer.language)
    return page(
        request,
        "overview.html",
        viewer,
        data=data,
        key=key,
        windows=WINDOWS,
        big=big,
        refresh=app.settings.web.display_refresh_seconds if big else None,
        **chart_context(request, app, t, data, dark=big),
    )


async def display_page(request: web.Request) -> web.StreamResponse:
    """The wall screen: read only, no login, refreshes itself; a revoked token shows nothing."""
    app = ctx(request)
    async with app.sessions() as session:
        token = await web_access.display_by_secret(session, request.match_info["secret"])
    if token is None:
        raise web.HTTPNotFound(text="unknown or revoked display token")
    lang = request.query.get("lang", app.settings.community.default_language)
    viewer = display_viewer(token.grid_id, lang if lang in ("zh-CN", "en") else "zh-CN")
    request["viewer"] = viewer
    key = _window_key(request)
    data = await load_overview(app, viewer, key, cached=True)
    t = Translator(viewer.language)
    return page(
        request,
        "overview.html",
        viewer,
        data=data,
        key=key,
        windows=WINDOWS,
        big=True,
        refresh=app.settings.web.display_refresh_seconds,
        **chart_context(request, app, t, data, dark=True),
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/overview", overview_page)
    app.router.add_get("/display/{secret}", display_page)
    assert current_viewer is not None
