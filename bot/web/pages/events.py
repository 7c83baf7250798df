"""Events: the list with sign-ups and attendance, and the projector page that shows the
rotating check-in QR code and 6-digit code, renewing itself every web.checkin_rotate_seconds,
so on-site check-in needs no staff phone."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import qr
from bot.db.models import Event, EventRating, EventSignup
from bot.services.outreach import checkin
from bot.web.app import BOT_USERNAME, IMAGES, ctx, page, staff_only
from bot.web.scope import Viewer, may_act

LIST_MAX = 200


@staff_only
async def events_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    signed = func.sum(case((EventSignup.status == "signed", 1), else_=0))
    waiting = func.sum(case((EventSignup.status == "waiting", 1), else_=0))
    attended = func.sum(case((EventSignup.attended.is_(True), 1), else_=0))
    query = (
        select(Event, signed, waiting, attended)
        .outerjoin(EventSignup, EventSignup.event_id == Event.id)
        .group_by(Event.id)
        .order_by(Event.starts_at.desc())
        .limit(LIST_MAX)
    )
    if viewer.grid_ids is not None:  # grid staff: their grid's events and community-wide ones
        query = query.where(Event.grid_id.in_(list(viewer.grid_ids)) | Event.grid_id.is_(None))
    async with app.sessions() as session:
        rows = list(await session.execute(query))
        rated = await _ratings(session, [row[0].id for row in rows])
    return page(request, "events.html", viewer, rows=rows, tz=app.settings.tz, rated=rated)


async def _ratings(session: AsyncSession, event_ids: list[int]) -> dict[int, tuple[int, float]]:
    """Each listed event's ratings by its attendees: (how many, average)."""
    if not event_ids:
        return {}
    result = await session.execute(
        select(EventRating.event_id, func.count(EventRating.id), func.avg(EventRating.stars))
        .where(EventRating.event_id.in_(event_ids))
        .group_by(EventRating.event_id)
    )
    return {int(i): (int(n), float(a)) for i, n, a in result.all()}


@staff_only
async def projector(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if not may_act(viewer) or viewer.user_id is None:
        raise web.HTTPForbidden()
    event_id = int(request.match_info["event_id"])
    async with app.sessions() as session:
        event = await session.get(Event, event_id)
        if event is None or (
            viewer.grid_ids is not None
            and event.grid_id is not None
            and event.grid_id not in viewer.grid_ids
        ):
            raise web.HTTPNotFound(text="no such event")
        code = await checkin.issue_code(app, session, viewer.user_id, event_id)
    link = qr.checkin_link(request.app[BOT_USERNAME], code.token)
    image = request.app[IMAGES].put(qr.png(link))
    return page(
        request,
        "projector.html",
        viewer,
        code=code,
        image=image,
        big=True,
        refresh=app.settings.web.checkin_rotate_seconds,
        expires=code.expires_at.astimezone(app.settings.tz).strftime("%H:%M"),
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/events", events_page)
    app.router.add_get(r"/events/{event_id:\d+}/projector", projector)
