"""Login through the bot's one-time link, logout, language, and the wall-screen tokens."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.db.models import Grid
from bot.i18n import LANGUAGES, Translator
from bot.services import web_access
from bot.web.app import (
    APP,
    COOKIE,
    LIMITER,
    client_of,
    ctx,
    current_viewer,
    default_language,
    page,
    staff_only,
)
from bot.web.scope import Viewer, display_viewer, may_manage_displays


def _anon(request: web.Request) -> Viewer:
    return display_viewer(None, default_language(request))


async def login_help(request: web.Request) -> web.StreamResponse:
    if await current_viewer(request) is not None:
        raise web.HTTPFound("/overview")
    return page(request, "login.html", _anon(request), token=None, refused=False)


async def login_confirm(request: web.Request) -> web.StreamResponse:
    """GET shows a button; only the POST uses the link (link previews never spend it)."""
    return page(
        request, "login.html", _anon(request), token=request.match_info["token"], refused=False
    )


async def login(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    if not await request.app[LIMITER].allow(client_of(request)):
        return page(request, "login.html", _anon(request), token=None, refused=True, limited=True)
    async with app.sessions() as session:
        opened = await web_access.redeem_login_link(
            app, session, request.match_info["token"], client_of(request)
        )
    if opened is None:
        return page(request, "login.html", _anon(request), token=None, refused=True)
    response = web.HTTPFound("/overview")
    response.set_cookie(
        COOKIE,
        opened.cookie,
        httponly=True,
        samesite="Lax",
        secure=app.settings.web.secure_cookies,
        path="/",
    )
    raise response


@staff_only
async def logout(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    async with app.sessions() as session:
        await web_access.end_session(app, session, request["active_session"])
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


@staff_only
async def language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    lang = str(form.get("language", ""))
    if lang in LANGUAGES:
        async with ctx(request).sessions() as session:
            await web_access.set_session_language(session, request["active_session"], lang)
    back = str(form.get("back", "/overview"))
    raise web.HTTPFound(back if back.startswith("/") and not back.startswith("//") else "/")


@staff_only
async def displays(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    if not may_manage_displays(viewer):
        raise web.HTTPForbidden(text=Translator(viewer.language)("web.community_staff_only"))
    app = ctx(request)
    issued: str | None = None
    async with app.sessions() as session:
        if request.method == "POST":
            form = await request.post()
            if form.get("revoke"):
                await web_access.revoke_display_token(
                    app, session, viewer.user_id or 0, int(str(form["revoke"]))
                )
            else:
                grid = str(form.get("grid", ""))
                _, secret = await web_access.issue_display_token(
                    app,
                    session,
                    viewer.user_id or 0,
                    str(form.get("label", "")),
                    int(grid) if grid.isdigit() else None,
                )
                issued = f"{app.settings.web.base_url}/display/{secret}"
        tokens = await web_access.display_tokens(session)
        grids = list(await session.scalars(select(Grid).order_by(Grid.code)))
    return page(request, "displays.html", viewer, tokens=tokens, grids=grids, issued=issued)


def routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/login", login_help)
    app.router.add_get("/login/{token}", login_confirm)
    app.router.add_post("/login/{token}", login)
    app.router.add_post("/logout", logout)
    app.router.add_post("/language", language)
    app.router.add_get("/displays", displays)
    app.router.add_post("/displays", displays)
    assert APP in app


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/overview")
