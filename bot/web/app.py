"""The web application: factory, security headers, sessions, CSRF, login rate limit."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.i18n import LANGUAGES, Translator
from bot.ops import Ops
from bot.services import web_access
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.web.charts import ChartStore
from bot.web.ratelimit import Limiter, make_limiter
from bot.web.scope import Viewer, session_viewer

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
COOKIE = "wishbot_session"
CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# An SVG chart is a document of its own: pygal inlines its styles, and it runs no script.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"

# Refusals of scope say so in the status too: another grid's wish is forbidden, a missing one 404.
ERROR_STATUS = {
    "staff.not_your_grid": 403,
    "errors.staff_only": 403,
    "web.community_staff_only": 403,
    "wish.unknown": 404,
}

APP: web.AppKey[AppContext] = web.AppKey("app", AppContext)
CHARTS: web.AppKey[ChartStore] = web.AppKey("charts", ChartStore)
IMAGES: web.AppKey[ChartStore] = web.AppKey("images", ChartStore)  # check-in QR codes (PNG)
BOT_USERNAME: web.AppKey[str] = web.AppKey("bot_username", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# Login attempts per client address: shared through Redis when configured (bot/web/ratelimit).
LIMITER: web.AppKey[Limiter] = web.AppKey("limiter")


def client_of(request: web.Request) -> str:
    remote = request.remote or "?"
    if remote in ("127.0.0.1", "::1"):  # behind the reverse proxy on this machine
        return request.headers.get("X-Real-IP", remote)
    return remote


def ctx(request: web.Request) -> AppContext:
    return request.app[APP]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except UserError as err:
        viewer = request.get("viewer")
        lang = viewer.language if isinstance(viewer, Viewer) else default_language(request)
        response = aiohttp_jinja2.render_template(
            "error.html",
            request,
            {"t": Translator(lang), "message": Translator(lang)(err.key, **err.params)},
            status=ERROR_STATUS.get(err.key, 400),
        )
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def default_language(request: web.Request) -> str:
    return ctx(request).settings.community.default_language


async def current_viewer(request: web.Request) -> Viewer | None:
    """The logged-in staff member behind the request's cookie, or None."""
    if "viewer" in request:
        viewer: Viewer | None = request["viewer"]
        return viewer
    cookie = request.cookies.get(COOKIE)
    viewer = None
    if cookie:
        app = ctx(request)
        async with app.sessions() as session:
            found = await web_access.touch_staff_session(app, session, cookie)
            if found is not None:
                viewer = session_viewer(found)
                request["active_session"] = found.active
            await session.rollback()
    request["viewer"] = viewer
    return viewer


def staff_only(handler: Handler) -> Handler:
    """Pages for logged-in staff; others are sent to the page that says how to log in."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        viewer = await current_viewer(request)
        if viewer is None:
            if request.method == "GET":
                raise web.HTTPFound("/login")
            raise web.HTTPForbidden(text="login needed")
        if request.method == "POST":
            form = await request.post()
            if not web_access.new_csrf_ok(viewer.csrf, str(form.get("csrf", "")) or None):
                log.warning("CSRF refusal user=%s path=%s", viewer.user_id, request.path)
                raise web.HTTPForbidden(text="CSRF token missing or wrong")
        return await handler(request)

    return wrapped


def page(request: web.Request, template: str, viewer: Viewer, **context: Any) -> web.Response:
    t = Translator(viewer.language)
    return aiohttp_jinja2.render_template(
        template,
        request,
        {"t": t, "viewer": viewer, "languages": LANGUAGES, "path": request.path_qs, **context},
    )


async def image_png(request: web.Request) -> web.Response:
    png = request.app[IMAGES].get(request.match_info["key"])
    if png is None:
        raise web.HTTPNotFound()
    return web.Response(body=png, content_type="image/png")


async def chart_svg(request: web.Request) -> web.Response:
    svg = request.app[CHARTS].get(request.match_info["key"])
    if svg is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=svg,
        content_type="image/svg+xml",
        headers={"Content-Security-Policy": SVG_CSP},
    )


def freeze_startup_heap() -> None:
    """Move everything alive at startup (modules, settings, templates: ~300,000 objects) out
    of the garbage collector's way. Without it every full collection walks them all, and the
    overview of a district (thousands of records per request) triggers one every few
    requests: measured 0.3–0.9 s each on the shared machine, the whole p95 of the page.
    Called once by the serving process (not by tests: a frozen object is never freed)."""
    gc.collect()
    gc.freeze()


async def _close_limiters(web_app: web.Application) -> None:
    await web_app[LIMITER].close()


def make_web_app(app: AppContext, bot_username: str = "") -> web.Application:
    from bot.web import auth_views
    from bot.web.pages import (
        broadcasts,
        escalations,
        events,
        forresident,
        h5,
        lists,
        overview,
        patrols,
        points,
        posters,
        queue,
        reports,
        residents,
        roster_import,
        suggestions,
        volunteers,
        wishes,
    )

    web_app = web.Application(middlewares=[security_headers], client_max_size=1024**2)
    web_app[APP] = app
    web_app[CHARTS] = ChartStore()
    web_app[IMAGES] = ChartStore(ttl=3600, limit=200)
    web_app[BOT_USERNAME] = bot_username
    web_app[LIMITER] = make_limiter(
        app.settings.redis.url,
        "login",
        app.settings.web.login_attempts_per_minute,
        60.0,
        key=web_access.settings_signing_key(app.settings),
    )
    web_app.on_cleanup.append(_close_limiters)
    env = aiohttp_jinja2.setup(
        web_app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    env.filters["num1"] = lambda v: "—" if v is None else f"{v:.1f}"
    web_app.router.add_static("/static/", HERE / "static", name="static")
    web_app.router.add_get("/charts/{key}.svg", chart_svg)
    web_app.router.add_get("/images/{key}.png", image_png)
    auth_views.routes(web_app)
    overview.routes(web_app)
    queue.routes(web_app)
    wishes.routes(web_app)
    volunteers.routes(web_app)
    reports.routes(web_app)
    events.routes(web_app)
    broadcasts.routes(web_app)
    points.routes(web_app)
    posters.routes(web_app)
    h5.routes(web_app)
    escalations.routes(web_app)
    roster_import.routes(web_app)
    suggestions.routes(web_app)
    forresident.routes(web_app)
    patrols.routes(web_app)  # 治安巡查 and standing posts (issue 13)
    lists.routes(web_app)  # issue 13: 三张清单
    residents.routes(web_app)  # issue 12 follow-up: forget a record without Telegram
    return web_app


class WebServer:
    """Serve the dashboard in the current event loop (beside the bot, or alone)."""

    def __init__(self, app: AppContext, bot_username: str = "", ops: Ops | None = None) -> None:
        self.app = app
        self.ops = ops  # /healthz and /metrics beside the dashboard
        self.bot_username = bot_username  # for the check-in QR deep links
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        web_settings = self.app.settings.web
        web_app = make_web_app(self.app, self.bot_username)
        if self.ops is not None:
            self.ops.add_routes(web_app)
        self.runner = web.AppRunner(web_app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, web_settings.host or "127.0.0.1", web_settings.port)
        await site.start()
        freeze_startup_heap()
        log.info("web dashboard at %s", web_settings.base_url)
        return web_settings.base_url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
