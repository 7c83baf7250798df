"""代居民提交 on the dashboard: staff file a wish for a resident without Telegram, through the
same services as the bot's /forresident (record by phone on the grid, consent, intake), in
their grid scope, CSRF-checked, audited. The filer then follows it in the bot like any 代办."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.db.models import Grid
from bot.i18n import Translator
from bot.services.errors import UserError
from bot.services.forres import filing, records
from bot.services.intake import web_form, wishes
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act

FIELDS = ("grid", "name", "building", "phone", "consent", "text", "category")


async def _grids(request: web.Request, viewer: Viewer) -> list[Grid]:
    query = select(Grid).where(Grid.active).order_by(Grid.code)
    if viewer.grid_ids is not None:
        query = query.where(Grid.id.in_(list(viewer.grid_ids)))
    async with ctx(request).sessions() as session:
        return list(await session.scalars(query))


def _form(request: web.Request, viewer: Viewer, grids: list[Grid], **context: Any) -> web.Response:
    app = ctx(request)
    return page(
        request,
        "forresident.html",
        viewer,
        grids=grids,
        categories=app.settings.categories.resolved,
        max_length=app.settings.wishes.max_length,
        **{"values": {}, "error": None, **context},
    )


@staff_only
async def form_page(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    return _form(request, viewer, await _grids(request, viewer))


@staff_only
async def form_post(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    app = ctx(request)
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in FIELDS}
    grids = await _grids(request, viewer)
    t = Translator(viewer.language)
    try:
        if not may_act(viewer) or viewer.user_id is None:
            raise UserError("errors.staff_only")
        grid_id = int(values["grid"]) if values["grid"].isdigit() else 0
        if grid_id not in {g.id for g in grids}:
            raise UserError("forres.not_your_grid")
        if values["consent"] not in filing.CONSENT_METHODS:
            raise UserError("forres.consent_first")
        text = wishes.check_length(app, values["text"])
        new = records.clean_record(values["name"], values["building"], values["phone"])
        filer = viewer.user_id
        async with app.sessions() as session:
            resident = await records.create_record(app, session, filer, grid_id, new)
            draft = await filing.draft_for(app, session, filer, resident, text)
            again = await web_form.sent_before(session, draft.duplicate_of, resident, text)
            if again is not None:  # the same form sent twice: one wish
                raise web.HTTPSeeOther(f"/wishes/{again}")
            consent = await filing.record_consent(app, session, filer, resident, values["consent"])
            if app.settings.categories.get(values["category"]) is not None:
                draft = replace(draft, category=values["category"], confidence=1.0)
            wish = await filing.file_for(app, session, filer, resident, consent, draft)
    except UserError as err:
        message = t(err.key, **err.params)
        return _form(request, viewer, grids, values=values, error=message)
    raise web.HTTPSeeOther(f"/wishes/{wish.id}")


def routes(app: web.Application) -> None:
    app.router.add_get("/forresident", form_page)
    app.router.add_post("/forresident", form_post)
