"""The web wish form (H5) a poster's second QR code opens: no login, no script, big type.

GET /h5 shows the form for the poster's signed grid (and building); POST step "preview" shows
what the classifier understood; POST step "confirm" files the wish through the bot's intake
services and sends the resident to a private status link, where a finished task is confirmed
and rated through the bot's own lifecycle service.

Rate limits (as the dashboard's login limit): per client address on every POST, per phone on
filings; shared through Redis when it is configured, else kept in this process.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.db.models import Wish
from bot.i18n import LANGUAGES, Translator
from bot.services.errors import UserError
from bot.services.intake import web_form, wishes
from bot.services.outreach.posters import PosterPlace, form_signature_ok
from bot.services.tasks import lifecycle
from bot.services.web_access import settings_signing_key
from bot.web.app import APP, client_of, ctx, default_language
from bot.web.ratelimit import Limiter, make_limiter

IP_LIMIT = (10, 600.0)  # POSTs per client address per 10 minutes
PHONE_LIMIT = (3, 3600.0)  # filings per phone per hour
H5_IP: web.AppKey[Limiter] = web.AppKey("h5_ip")
H5_PHONE: web.AppKey[Limiter] = web.AppKey("h5_phone")
HONEYPOT = "website"


def _key(request: web.Request) -> bytes:
    return settings_signing_key(ctx(request).settings)


def _lang(request: web.Request, form: Any = None) -> str:
    lang = str((form or {}).get("lang") or request.query.get("lang") or "")
    return lang if lang in LANGUAGES else default_language(request)


def _render(
    request: web.Request, template: str, lang: str, status: int = 200, **context: Any
) -> web.Response:
    return aiohttp_jinja2.render_template(
        template,
        request,
        {"t": Translator(lang), "lang": lang, "languages": LANGUAGES, **context},
        status=status,
    )


def _refuse(request: web.Request, lang: str, key: str, status: int = 400) -> web.Response:
    return _render(request, "h5_message.html", lang, status=status, message_key=key)


def _place(request: web.Request, data: Any) -> PosterPlace | None:
    grid = str(data.get("g", ""))
    building = str(data.get("b", "")) or None
    signature = str(data.get("s", ""))
    if not grid or not signature:
        return None
    place = PosterPlace(grid, building)
    return place if form_signature_ok(_key(request), place, signature) else None


async def form_page(request: web.Request) -> web.StreamResponse:
    lang = _lang(request)
    place = _place(request, request.query)
    if place is None:
        return _refuse(request, lang, "h5.bad_link")
    async with ctx(request).sessions() as session:
        grid = await web_form.active_grid(session, place.grid)
    if grid is None:
        return _refuse(request, lang, "h5.bad_link")
    return _render(
        request,
        "h5_form.html",
        lang,
        place=place,
        signature=request.query["s"],
        grid_name=grid.name,
        token=web_form.form_token(
            _key(request), place.grid, place.building, ctx(request).now().timestamp()
        ),
        values={},
        error=None,
        max_length=ctx(request).settings.wishes.max_length,
    )


async def form_post(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    form = await request.post()
    lang = _lang(request, form)
    if not await request.app[H5_IP].allow(client_of(request)):
        return _refuse(request, lang, "h5.slow_down", status=429)
    place = _place(request, form)
    if place is None:
        return _refuse(request, lang, "h5.bad_link")
    token = str(form.get("token", ""))
    if not web_form.form_token_ok(
        _key(request), place.grid, place.building, token, app.now().timestamp()
    ):
        return _refuse(request, lang, "h5.stale_form")
    if form.get(HONEYPOT):
        return _refuse(request, lang, "h5.bad_form")
    async with app.sessions() as session:
        grid = await web_form.active_grid(session, place.grid)
    if grid is None:
        return _refuse(request, lang, "h5.bad_link")
    values = {k: str(form.get(k, "")) for k in ("text", "room", "name", "phone", "category")}
    context: dict[str, Any] = {
        "place": place,
        "signature": str(form.get("s", "")),
        "grid_name": grid.name,
        "token": str(form.get("token", "")),
        "values": values,
        "max_length": app.settings.wishes.max_length,
    }
    t = Translator(lang)
    if form.get("step") == "edit":
        return _render(request, "h5_form.html", lang, error=None, **context)
    try:
        if not form.get("consent"):
            raise UserError("h5.need_consent")
        text = wishes.check_length(app, values["text"])
        caller = web_form.clean_caller(
            values["name"], values["phone"], place.building, values["room"]
        )
    except UserError as err:
        return _render(
            request, "h5_form.html", lang, status=400, error=t(err.key, **err.params), **context
        )
    draft = wishes.understand(app, text)
    categories = {c.id: c for c in app.settings.categories.resolved}
    if form.get("step") != "confirm":
        return _render(
            request,
            "h5_confirm.html",
            lang,
            draft=draft,
            categories=list(categories.values()),
            when=_when(app, draft),
            **context,
        )
    if not await request.app[H5_PHONE].allow(caller.phone):
        return _refuse(request, lang, "h5.slow_down", status=429)
    chosen = values["category"]
    if chosen in categories:
        draft = replace(draft, category=chosen)
    try:
        async with app.sessions() as session:
            user_id = await web_form.web_resident(app, session, grid.id, caller, lang)
            checked = await wishes.draft_wish(app, session, user_id, text)
            again = await web_form.sent_before(session, checked.duplicate_of, user_id, text)
            if again is not None:
                # The same form sent twice (a double tap, a reload): one wish, its status link.
                wish_id = again
            else:
                wish = await wishes.file_wish(
                    app, session, user_id, replace(checked, category=draft.category), web=True
                )
                wish_id = wish.id
    except UserError as err:
        return _render(
            request, "h5_form.html", lang, status=400, error=t(err.key, **err.params), **context
        )
    token = web_form.status_token(_key(request), wish_id)
    raise web.HTTPSeeOther(f"/h5/s/{token}?lang={lang}&new=1")


def _when(app: Any, draft: wishes.Draft) -> str | None:
    if draft.time_start is None:
        return None
    tz = app.settings.tz
    start = draft.time_start.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if draft.time_end is None:
        return start
    return f"{start} – {draft.time_end.astimezone(tz).strftime('%H:%M')}"


async def _status_wish(request: web.Request) -> Any:
    wish_id = web_form.wish_of_status_token(_key(request), request.match_info["token"])
    if wish_id is None:
        return None
    async with ctx(request).sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or not web_form.is_web_filed(wish):
            return None
        return wish, await web_form.volunteer_given_name(session, wish)


async def status_page(request: web.Request) -> web.StreamResponse:
    lang = _lang(request)
    found = await _status_wish(request)
    if found is None:
        return _refuse(request, lang, "h5.bad_status_link", status=404)
    wish, volunteer = found
    app = ctx(request)
    category = app.settings.categories.get(wish.category)
    return _render(
        request,
        "h5_status.html",
        lang,
        wish=wish,
        volunteer=volunteer,
        category=category.name(lang) if category else wish.category,
        token=request.match_info["token"],
        new=bool(request.query.get("new")),
        done=request.query.get("done"),
    )


async def status_confirm(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    lang = _lang(request, form)
    if not await request.app[H5_IP].allow(client_of(request)):
        return _refuse(request, lang, "h5.slow_down", status=429)
    found = await _status_wish(request)
    if found is None:
        return _refuse(request, lang, "h5.bad_status_link", status=404)
    wish, _ = found
    rating = str(form.get("rating", ""))
    if not rating.isdigit() or not 1 <= int(rating) <= 5:
        return _refuse(request, lang, "h5.pick_stars")
    app = ctx(request)
    try:
        async with app.sessions() as session:
            await lifecycle.confirm(app, session, wish.id, wish.resident_id, int(rating))
    except UserError as err:  # e.g. confirmed already: said in the resident's page, not staff's
        message = Translator(lang)(err.key, **err.params)
        return _render(request, "h5_message.html", lang, status=400, message=message)
    raise web.HTTPSeeOther(f"/h5/s/{request.match_info['token']}?lang={lang}&done=1")


async def _close_limiters(app: web.Application) -> None:
    await app[H5_IP].close()
    await app[H5_PHONE].close()


def routes(app: web.Application) -> None:
    settings = app[APP].settings
    redis, key = settings.redis.url, settings_signing_key(settings)
    app[H5_IP] = make_limiter(redis, "h5_ip", *IP_LIMIT, key=key)
    app[H5_PHONE] = make_limiter(redis, "h5_phone", *PHONE_LIMIT, key=key)
    app.on_cleanup.append(_close_limiters)
    app.router.add_get("/h5", form_page)
    app.router.add_post("/h5", form_post)
    app.router.add_get(r"/h5/s/{token:[0-9]{1,18}-[0-9a-f]{32}}", status_page)
    app.router.add_post(r"/h5/s/{token:[0-9]{1,18}-[0-9a-f]{32}}/confirm", status_confirm)
