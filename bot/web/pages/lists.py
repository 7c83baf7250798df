"""三张清单 on the dashboard: the resources list (search, add, switch off/on) and the service
projects with their progress this month. Contacts are shown to staff, never to a display."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import Translator
from bot.services.errors import UserError
from bot.services.lists import needs, resources
from bot.services.reports import evaluations
from bot.services.reports.projects import project_lines
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act

QUERY_MAX = 64


async def _render(request: web.Request, viewer: Viewer, error: str = "") -> web.StreamResponse:
    app = ctx(request)
    query = request.query.get("q", "")[:QUERY_MAX]
    now = app.now().astimezone(app.settings.tz)
    period = evaluations.month_period(app.settings.tz, now.year, now.month)
    async with app.sessions() as session:
        found = await resources.search(
            app, session, viewer.grid_ids, query, include_inactive=may_act(viewer)
        )
        projects = await project_lines(session, viewer.grid_ids, period)
        need_lines = await needs.needs_by_category(session, viewer.grid_ids)
    t = Translator(viewer.language)
    categories = {c.id: c.name(t.lang) for c in app.settings.categories.resolved}
    return page(
        request,
        "lists.html",
        viewer,
        query=query,
        resources=found,
        projects=projects,
        needs=need_lines,
        period=period.label,
        categories=categories,
        kinds=resources.KIND_WORDS,
        show_contacts=may_act(viewer),
        error=error,
    )


@staff_only
async def lists_page(request: web.Request) -> web.StreamResponse:
    return await _render(request, request["viewer"])


@staff_only
async def add_resource(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if not may_act(viewer) or viewer.user_id is None:
        raise web.HTTPForbidden()
    form = await request.post()
    fields = ("kind", "title", "provider", "available", "contact", "phone", "categories")
    line = " | ".join(str(form.get(f, "")).replace("|", " ") for f in fields)
    try:
        parsed = resources.parse_line(app, line)
        async with app.sessions() as session:
            await resources.add(app, session, viewer.user_id, parsed)
    except UserError as err:
        t = Translator(viewer.language)
        return await _render(request, viewer, t(err.key, **err.params))
    raise web.HTTPFound("/lists")


@staff_only
async def switch_resource(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    action = request.match_info["action"]
    if not may_act(viewer) or viewer.user_id is None or action not in ("on", "off"):
        raise web.HTTPForbidden()
    resource_id = int(request.match_info["resource_id"])
    try:
        async with app.sessions() as session:
            await resources.set_active(app, session, viewer.user_id, resource_id, action == "on")
    except UserError as err:
        t = Translator(viewer.language)
        return await _render(request, viewer, t(err.key, **err.params))
    raise web.HTTPFound("/lists")


def routes(app: web.Application) -> None:
    app.router.add_get("/lists", lists_page)
    app.router.add_post("/lists/resources", add_resource)
    app.router.add_post(r"/lists/resources/{resource_id:\d+}/{action}", switch_resource)
