"""Volunteers registry (filter, page, CSV/XLSX) and one member's record (一人一档): profile,
skills, free time, home organisation, every task with its rating, the points ledger, events
attended, declarations, and this year's duty (served at least once)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from sqlalchemy import ColumnElement, func, select

from bot.db.models import (
    Declaration,
    Event,
    EventSignup,
    Grid,
    LedgerEntry,
    Volunteer,
    Wish,
)
from bot.i18n import Translator
from bot.services import audit
from bot.services.people import registration
from bot.services.points.ledger import balance
from bot.web import export
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act, may_see_grid

PAGE_SIZE = 50
STATUSES = ("pending", "approved", "rejected", "suspended")
EXPORT_COLUMNS = ("name", "grid", "unit", "branch", "occupation", "status", "tasks")
DONE = ("done", "confirmed", "verified", "closed")


def _filters(viewer: Viewer, q: str, grid: int | None, status: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if viewer.grid_ids is not None:
        where.append(Volunteer.grid_id.in_(list(viewer.grid_ids)))
    if grid is not None:
        where.append(Volunteer.grid_id == grid)
    if status in STATUSES:
        where.append(Volunteer.status == status)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            Volunteer.name.ilike(like, escape="\\") | Volunteer.unit.ilike(like, escape="\\")
        )
    return where


@staff_only
async def registry(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    t = Translator(viewer.language)
    q = request.query.get("q", "").strip()[:64]
    grid_raw, status = request.query.get("grid", ""), request.query.get("status", "")
    grid = int(grid_raw) if grid_raw.isdigit() else None
    page_raw = request.query.get("page", "1")
    page_no = max(1, int(page_raw)) if page_raw.isdigit() else 1
    fmt = request.query.get("format")
    where = _filters(viewer, q, grid, status)
    tasks = (
        select(func.count())
        .where(Wish.volunteer_id == Volunteer.user_id, Wish.status.in_(DONE))
        .correlate(Volunteer)
        .scalar_subquery()
    )
    query = (
        select(Volunteer, Grid.code, tasks)
        .join(Grid, Grid.id == Volunteer.grid_id)
        .where(*where)
        .order_by(Volunteer.name, Volunteer.user_id)
    )
    async with app.sessions() as session:
        if fmt in ("csv", "xlsx"):
            if not may_act(viewer):
                raise web.HTTPForbidden()
            rows = list(await session.execute(query.limit(20_000)))
            audit.record(session, viewer.user_id, "web.export", "volunteers", fmt, rows=len(rows))
            await session.commit()
            headers = [t(f"web.vcol_{c}") for c in EXPORT_COLUMNS]
            data = [
                (v.name, code, v.unit, v.branch, v.occupation, t(f"status.volunteer.{v.status}"), n)
                for v, code, n in rows
            ]
            if fmt == "csv":
                body, ctype = export.to_csv(headers, data), "text/csv"
            else:
                body = export.to_xlsx("volunteers", headers, data)
                ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return web.Response(
                body=body,
                content_type=ctype,
                headers={"Content-Disposition": f'attachment; filename="volunteers.{fmt}"'},
            )
        total = await session.scalar(select(func.count()).select_from(Volunteer).where(*where))
        rows = list(await session.execute(query.limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE)))
        grid_query = select(Grid).order_by(Grid.code)
        if viewer.grid_ids is not None:
            grid_query = grid_query.where(Grid.id.in_(list(viewer.grid_ids)))
        grids = list(await session.scalars(grid_query))
    from urllib.parse import urlencode

    base = {"q": q, "grid": grid or "", "status": status}
    return page(
        request,
        "volunteers.html",
        viewer,
        rows=rows,
        total=int(total or 0),
        page_no=page_no,
        pages=max(1, -(-int(total or 0) // PAGE_SIZE)),
        q=q,
        grid=grid,
        status=status,
        statuses=STATUSES,
        grids=grids,
        qs=lambda **o: urlencode({k: v for k, v in {**base, **o}.items() if v not in ("", None)}),
    )


@staff_only
async def member(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    user_id = int(request.match_info["user_id"])
    tz = app.settings.tz
    year_start = datetime(app.now().astimezone(tz).year, 1, 1, tzinfo=tz)
    async with app.sessions() as session:
        volunteer = await session.get(Volunteer, user_id)
        if volunteer is None or not may_see_grid(viewer, volunteer.grid_id):
            raise web.HTTPNotFound(text="no such volunteer")
        grid = await session.get(Grid, volunteer.grid_id)
        tasks = list(
            await session.scalars(
                select(Wish).where(Wish.volunteer_id == user_id).order_by(Wish.id.desc()).limit(200)
            )
        )
        ledger = list(
            await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.user_id == user_id)
                .order_by(LedgerEntry.id.desc())
                .limit(100)
            )
        )
        points = await balance(session, user_id)
        events = list(
            await session.execute(
                select(Event, EventSignup)
                .join(EventSignup, EventSignup.event_id == Event.id)
                .where(EventSignup.user_id == user_id)
                .order_by(Event.starts_at.desc())
                .limit(100)
            )
        )
        declarations = list(
            await session.scalars(
                select(Declaration)
                .where(Declaration.user_id == user_id)
                .order_by(Declaration.id.desc())
                .limit(100)
            )
        )
    served_this_year = sum(
        1 for w in tasks if w.status in DONE and w.done_at and w.done_at >= year_start
    ) + sum(1 for e, s in events if s.attended and e.starts_at >= year_start)
    cats = {c.id: c.name(viewer.language) for c in app.settings.categories.resolved}
    slots = {s.id: s.name(viewer.language) for s in app.settings.volunteers.slots}
    return page(
        request,
        "member.html",
        viewer,
        v=volunteer,
        grid=grid,
        tasks=tasks,
        ledger=ledger,
        points=points,
        events=events,
        declarations=declarations,
        served_this_year=served_this_year,
        skills=[cats.get(s, s) for s in volunteer.skills],
        availability=[slots.get(s, s) for s in volunteer.availability],
        cats=cats,
        tz=tz,
    )


@staff_only
async def review(request: web.Request) -> web.StreamResponse:
    """Approve or reject a pending registration (the bot's review), in the viewer's grids."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    user_id = int(request.match_info["user_id"])
    form = await request.post()
    approve = form.get("decision") == "approve"
    reason = " ".join(str(form.get("reason", "")).split())[:300] or None
    async with app.sessions() as session:
        volunteer = await session.get(Volunteer, user_id)
        if volunteer is None or not may_see_grid(viewer, volunteer.grid_id) or not may_act(viewer):
            raise web.HTTPNotFound(text="no such volunteer")
        await session.rollback()
        await registration.review_volunteer(
            app, session, viewer.user_id or 0, user_id, approve=approve, reason=reason
        )
    raise web.HTTPFound("/volunteers?status=pending")


def routes(app: web.Application) -> None:
    app.router.add_post(r"/volunteers/{user_id:\d+}/review", review)
    app.router.add_get("/volunteers", registry)
    app.router.add_get(r"/volunteers/{user_id:\d+}", member)
