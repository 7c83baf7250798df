"""居民记录 on the dashboard: the records without Telegram in the viewer's grids (phone by its
last four digits), and "删除记录" → a confirm page → a CSRF-checked POST that forgets the record
through ``forres.forget`` (staff scope, audited, a second POST changes nothing)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.i18n import Translator
from bot.services.errors import UserError
from bot.services.forres import forget
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act

PAGE_SIZE = 50
# Another grid's record is forbidden, a missing (or not a without-Telegram) one is not found.
STATUS = {
    "forget.staff_only": 403,
    "errors.staff_only": 403,
    "forres.not_your_grid": 403,
    "forget.unknown": 404,
    "forget.has_telegram": 404,
}


def _refused(request: web.Request, viewer: Viewer, err: UserError) -> web.Response:
    t = Translator(viewer.language)
    return aiohttp_jinja2.render_template(
        "error.html",
        request,
        {"t": t, "message": t(err.key, **err.params)},
        status=STATUS.get(err.key, 400),
    )


def _staff_id(viewer: Viewer) -> int:
    if not may_act(viewer) or viewer.user_id is None:
        raise UserError("errors.staff_only")
    return viewer.user_id


def _record_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise UserError("forget.unknown")
    return int(raw)


@staff_only
async def list_page(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    raw = request.query.get("page", "1")
    page_no = max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1
    try:
        staff_id = _staff_id(viewer)
        async with ctx(request).sessions() as session:
            rows, total = await forget.list_records(
                session, staff_id, PAGE_SIZE, (page_no - 1) * PAGE_SIZE
            )
    except UserError as err:
        return _refused(request, viewer, err)
    return page(
        request,
        "residents.html",
        viewer,
        rows=rows,
        page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@staff_only
async def confirm_page(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    try:
        staff_id, record_id = _staff_id(viewer), _record_id(request)
        async with ctx(request).sessions() as session:
            record = await forget.record_to_forget(session, staff_id, record_id)
    except UserError as err:
        return _refused(request, viewer, err)
    return page(request, "resident_forget.html", viewer, record=record, done=None)


@staff_only
async def forget_post(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    app = ctx(request)
    t = Translator(viewer.language)
    try:
        staff_id, record_id = _staff_id(viewer), _record_id(request)
        async with app.sessions() as session:
            name = ""
            try:
                name = (await forget.record_to_forget(session, staff_id, record_id)).name
            except UserError as err:
                if err.key != "forget.unknown":
                    raise  # forgotten already: forget_record says so kindly
            result = await forget.forget_record(app, session, staff_id, record_id)
    except UserError as err:
        return _refused(request, viewer, err)
    if result.already:
        lines = [t("forget.already")]
    else:
        lines = [t("forget.done", name=name)]
        if result.cancelled:
            lines.append(t("forget.done_cancelled", n=result.cancelled))
    return page(request, "resident_forget.html", viewer, record=None, done=lines)


def routes(app: web.Application) -> None:
    app.router.add_get("/residents", list_page)
    app.router.add_get("/residents/{user_id}/forget", confirm_page)
    app.router.add_post("/residents/{user_id}/forget", forget_post)
