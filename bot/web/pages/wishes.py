"""Wish search (text, number, grid, status, category, dates; paged; CSV/XLSX) and one wish's
page: history, offers with the score breakdown (/why), relay count, rating, escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aiohttp import web
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Escalation, Grid, RelayMessage, Volunteer, Wish
from bot.i18n import Translator
from bot.services import audit
from bot.services.context import AppContext
from bot.services.intake.wish_states import STATES
from bot.services.tasks.why import why_report
from bot.web import export
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act, may_see_grid

PAGE_SIZE = 50
COUNT_CAP = 1000
EXPORT_MAX = 20_000
COMPONENTS = (
    "skill", "specialty", "availability", "nearness", "load", "fairness", "reliability", "duty",
    "newcomer",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Filters:
    q: str
    grid: int | None
    status: str | None
    category: str | None
    start: date | None
    end: date | None
    page: int

    def query_string(self, **override: object) -> str:
        values: dict[str, object] = {
            "q": self.q,
            "grid": self.grid or "",
            "status": self.status or "",
            "category": self.category or "",
            "from": self.start or "",
            "to": self.end or "",
            "page": self.page,
        }
        values.update(override)
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def parse_filters(request: web.Request, app: AppContext) -> Filters:
    q = request.query
    grid = q.get("grid", "")
    status = q.get("status", "")
    category = q.get("category", "")
    page_raw = q.get("page", "1")
    return Filters(
        q=q.get("q", "").strip()[:100],
        grid=int(grid) if grid.isdigit() else None,
        status=status if status in STATES else None,
        category=category if app.settings.categories.get(category) else None,
        start=_date(q.get("from", "")),
        end=_date(q.get("to", "")),
        page=max(1, int(page_raw)) if page_raw.isdigit() else 1,
    )


def conditions(app: AppContext, viewer: Viewer, f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if viewer.grid_ids is not None:  # the scope first: no other filter can widen it
        where.append(Wish.grid_id.in_(list(viewer.grid_ids)))
    if f.grid is not None:
        where.append(Wish.grid_id == f.grid)
    if f.status:
        where.append(Wish.status == f.status)
    if f.category:
        where.append(Wish.category == f.category)
    tz = app.settings.tz
    if f.start:
        where.append(Wish.created_at >= datetime.combine(f.start, time(), tz))
    if f.end:
        where.append(Wish.created_at < datetime.combine(f.end + timedelta(days=1), time(), tz))
    if f.q:
        number = f.q.lstrip("#＃")
        like = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        text_match = Wish.text.ilike(like, escape="\\")
        # A number is a wish number (the primary key): no text scan for it.
        where.append(Wish.id == int(number) if number.isdigit() else text_match)
    return where


async def search(
    app: AppContext, session: AsyncSession, viewer: Viewer, f: Filters, limit: int, offset: int
) -> tuple[list[tuple[Wish, str]], int]:
    where = conditions(app, viewer, f)
    # Counting stops at COUNT_CAP + 1 matches: a text search need not scan the whole table.
    capped = select(Wish.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = await session.scalar(select(func.count()).select_from(capped))
    rows = await session.execute(
        select(Wish, Grid.code)
        .join(Grid, Grid.id == Wish.grid_id)
        .where(*where)
        .order_by(Wish.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(w, code) for w, code in rows], int(total or 0)


EXPORT_COLUMNS = ("id", "grid", "category", "status", "created", "text", "rating")


@staff_only
async def wishes_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    f = parse_filters(request, app)
    fmt = request.query.get("format")
    t = Translator(viewer.language)
    async with app.sessions() as session:
        if fmt in ("csv", "xlsx"):
            if not may_act(viewer):
                raise web.HTTPForbidden()
            rows, _ = await search(app, session, viewer, f, EXPORT_MAX, 0)
            audit.record(session, viewer.user_id, "web.export", "wishes", fmt, rows=len(rows))
            await session.commit()
            return _export(app, t, rows, fmt)
        rows, total = await search(app, session, viewer, f, PAGE_SIZE, (f.page - 1) * PAGE_SIZE)
        grid_query = select(Grid).order_by(Grid.code)
        if viewer.grid_ids is not None:
            grid_query = grid_query.where(Grid.id.in_(list(viewer.grid_ids)))
        grids = list(await session.scalars(grid_query))
    pages = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    if total > COUNT_CAP:
        pages = max(pages, f.page + (len(rows) == PAGE_SIZE))
    return page(
        request,
        "wishes.html",
        viewer,
        rows=rows,
        total=total,
        more=total > COUNT_CAP,
        f=f,
        pages=pages,
        grids=grids,
        statuses=sorted(STATES),
        categories=app.settings.categories.resolved,
        tz=app.settings.tz,
    )


def _export(app: AppContext, t: Translator, rows: list[tuple[Wish, str]], fmt: str) -> web.Response:
    tz = app.settings.tz
    headers = [t(f"web.col_{c}") for c in EXPORT_COLUMNS]
    data = [
        (
            w.id,
            code,
            w.category,
            t(f"status.wish.{w.status}"),
            w.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            w.text,
            w.rating,
        )
        for w, code in rows
    ]
    if fmt == "csv":
        body, ctype = export.to_csv(headers, data), "text/csv"
    else:
        body = export.to_xlsx("wishes", headers, data)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(
        body=body,
        content_type=ctype,
        headers={"Content-Disposition": f'attachment; filename="wishes.{fmt}"'},
    )


@staff_only
async def wish_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    wish_id = int(request.match_info["wish_id"])
    async with app.sessions() as session:
        wish = await session.get(Wish, wish_id)
        if wish is None or not may_see_grid(viewer, wish.grid_id):
            raise web.HTTPNotFound(text="no such wish")  # another grid's wish does not exist here
        grid = await session.get(Grid, wish.grid_id)
        report = await why_report(app, session, wish_id, None)
        relays = await session.scalar(
            select(func.count()).select_from(RelayMessage).where(RelayMessage.wish_id == wish_id)
        )
        escalations = list(
            await session.scalars(
                select(Escalation).where(Escalation.wish_id == wish_id).order_by(Escalation.id)
            )
        )
        volunteer = await session.get(Volunteer, wish.volunteer_id) if wish.volunteer_id else None
        history = list(wish.history)
    departments = {d.id: d.name for d in app.settings.community.departments}
    return page(
        request,
        "wish.html",
        viewer,
        wish=wish,
        grid=grid,
        history=history,
        offers=report.offers,
        names=report.names,
        components=COMPONENTS,
        relays=int(relays or 0),
        escalations=escalations,
        departments=departments,
        volunteer=volunteer,
        tz=app.settings.tz,
        category=(
            c.name(viewer.language)
            if (c := app.settings.categories.get(wish.category))
            else wish.category
        ),
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/wishes", wishes_page)
    app.router.add_get(r"/wishes/{wish_id:\d+}", wish_page)
