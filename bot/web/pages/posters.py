"""Posters (民情二维码) for download: each grid in the viewer's scope, optionally one building."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import select

from bot.db.models import Grid
from bot.i18n import Translator
from bot.poster import NoCJKFont, render
from bot.poster_cli import DEMO_BOT_USERNAME, PosterProblem, poster_content
from bot.web.app import BOT_USERNAME, ctx, page, staff_only
from bot.web.scope import Viewer

FORMATS = {"pdf": "application/pdf", "png": "image/png"}


async def _grids(request: web.Request, viewer: Viewer) -> list[Grid]:
    query = select(Grid).where(Grid.active).order_by(Grid.code)
    if viewer.grid_ids is not None:
        query = query.where(Grid.id.in_(list(viewer.grid_ids)))
    async with ctx(request).sessions() as session:
        return list(await session.scalars(query))


@staff_only
async def posters_page(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    return page(request, "posters.html", viewer, grids=await _grids(request, viewer))


@staff_only
async def poster_file(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    t = Translator(viewer.language)
    code = request.match_info["code"]
    if code not in {g.code for g in await _grids(request, viewer)}:
        raise web.HTTPNotFound(text="no such grid")
    fmt = request.query.get("format", "pdf")
    if fmt not in FORMATS:
        raise web.HTTPBadRequest(text="format: pdf or png")
    building = request.query.get("building", "").strip() or None
    username = request.app[BOT_USERNAME] or app.settings.telegram.username or DEMO_BOT_USERNAME
    try:
        content = poster_content(app.settings, code, building, username, t)
        # Drawing an A4 page at 300 dpi takes about a second: off the event loop.
        rendered = await asyncio.to_thread(render, content, t)
    except PosterProblem as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    except NoCJKFont as exc:
        raise web.HTTPServiceUnavailable(text=str(exc)) from exc
    name = f"poster-{code}{'-' + building if building else ''}.{fmt}"
    return web.Response(
        body=rendered.pdf if fmt == "pdf" else rendered.png,
        content_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/posters", posters_page)
    app.router.add_get(r"/posters/{code:[A-Za-z0-9-]{1,32}}", poster_file)
