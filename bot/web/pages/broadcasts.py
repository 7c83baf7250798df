"""Broadcasts: progress (refreshing itself while any is sending), pause / resume / cancel
through the bot's broadcast service, and each one's final counts."""

from __future__ import annotations

from aiohttp import web

from bot.db.models.delivery import BC_PAUSED, BC_SENDING
from bot.services.outreach import broadcasts
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer

LIVE_REFRESH_SECONDS = 10
STATES = ("delivered", "pending", "paused", "sending", "blocked", "failed", "invalid", "unknown")


@staff_only
async def broadcasts_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    async with app.sessions() as session:
        items = await broadcasts.recent(session, viewer.user_id or 0, limit=30)
    live = any(b.status in (BC_SENDING, BC_PAUSED) for b in items)
    return page(
        request,
        "broadcasts.html",
        viewer,
        items=items,
        states=STATES,
        refresh=LIVE_REFRESH_SECONDS if live else None,
        tz=app.settings.tz,
    )


@staff_only
async def broadcast_action(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    action = request.match_info["action"]
    broadcast_id = int(request.match_info["broadcast_id"])
    do = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}
    if action not in do or viewer.user_id is None:
        raise web.HTTPNotFound()
    async with app.sessions() as session:
        await do[action](app, session, viewer.user_id, broadcast_id)
    raise web.HTTPFound("/broadcasts")


def routes(app: web.Application) -> None:
    app.router.add_get("/broadcasts", broadcasts_page)
    app.router.add_post(r"/broadcasts/{broadcast_id:\d+}/{action}", broadcast_action)
