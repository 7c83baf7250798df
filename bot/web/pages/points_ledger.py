"""The points page's ledger: search (member name, reason, local dates), paging, CSV / XLSX, and
staff adjustments through the bot's adjustment service (scope, audit and notice are the
service's). Each adjustment form carries its own request id: submitting it twice (a double
click, a reload of the POST) adjusts once."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.points import adjustments
from bot.services.points.ledger import ADJUST_MAX
from bot.services.points.ledger_search import LedgerQuery, parse_day, search_ledger
from bot.web import export
from bot.web.app import ctx, staff_only
from bot.web.scope import Viewer, may_act

PAGE_SIZE = 50
EXPORT_MAX = 20_000
EXPORT_COLUMNS = ("when", "name", "grid", "amount", "reason")
REQUEST_ID = re.compile(r"[0-9a-f]{12}")


def _query(request: web.Request) -> tuple[LedgerQuery, dict[str, str]]:
    raw = {k: request.query.get(k, "").strip()[:64] for k in ("q", "reason", "since", "until")}
    since, until = parse_day(raw["since"]), parse_day(raw["until"])
    raw["since"] = since.isoformat() if since else ""
    raw["until"] = until.isoformat() if until else ""
    return LedgerQuery(name=raw["q"], reason=raw["reason"], since=since, until=until), raw


async def _download(
    app: AppContext, session: AsyncSession, viewer: Viewer, query: LedgerQuery, fmt: str
) -> web.Response:
    if not may_act(viewer):
        raise web.HTTPForbidden()
    t, tz = Translator(viewer.language), app.settings.tz
    rows, _ = await search_ledger(session, query, viewer.grids, tz, limit=EXPORT_MAX)
    audit.record(session, viewer.user_id, "web.export", "ledger", fmt, rows=len(rows))
    await session.commit()
    headers = [t(f"webops.ledger_col_{c}") for c in EXPORT_COLUMNS]
    data = [
        (
            r.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            r.name,
            r.grid_code,
            r.amount,
            r.reason,
        )
        for r in rows
    ]
    if fmt == "csv":
        body, ctype = export.to_csv(headers, data), "text/csv"
    else:
        body = export.to_xlsx("ledger", headers, data)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(
        body=body,
        content_type=ctype,
        headers={"Content-Disposition": f'attachment; filename="ledger.{fmt}"'},
    )


async def ledger_context(
    request: web.Request, app: AppContext, session: AsyncSession, viewer: Viewer
) -> dict[str, Any] | web.Response:
    """The ledger part of the points page (or its download when ?format=csv|xlsx)."""
    query, raw = _query(request)
    fmt = request.query.get("format")
    if fmt in ("csv", "xlsx"):
        return await _download(app, session, viewer, query, fmt)
    page_raw = request.query.get("page", "1")
    page_no = max(1, int(page_raw)) if page_raw.isdigit() else 1
    rows, total = await search_ledger(
        session,
        query,
        viewer.grids,
        app.settings.tz,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    picks: list[adjustments.VolunteerPick] = []
    if query.name and may_act(viewer) and viewer.user_id is not None:
        picks = await adjustments.find_volunteers(session, viewer.user_id, query.name)
        await session.rollback()
    return {
        "q": raw["q"],
        "ledger": raw,
        "entries": rows,
        "ledger_total": total,
        "ledger_page": page_no,
        "ledger_pages": max(1, -(-total // PAGE_SIZE)),
        "ledger_qs": lambda **o: urlencode(
            {k: v for k, v in {**raw, **o}.items() if v not in ("", None)}
        ),
        "adjust_picks": picks,
        "adjust_request": adjustments.new_request_id(),
        "adjusted": request.query.get("adjusted"),
        "adjust_max": ADJUST_MAX,
    }


@staff_only
async def adjust(request: web.Request) -> web.StreamResponse:
    """One staff correction (±) with a reason, as the bot's /adjust: scope, audit, notice."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if not may_act(viewer) or viewer.user_id is None:
        raise web.HTTPForbidden()
    form = await request.post()
    request_id = str(form.get("request", ""))
    member = str(form.get("member", ""))
    if not REQUEST_ID.fullmatch(request_id) or not member.isdigit():
        raise UserError("errors.stale_button")
    amount = adjustments.parse_adjust_amount(str(form.get("amount", "")))
    async with app.sessions() as session:
        entry = await adjustments.adjust(
            app,
            session,
            staff_user_id=viewer.user_id,
            user_id=int(member),
            amount=amount,
            reason=str(form.get("reason", "")),
            request_id=request_id,
        )
    outcome = "again" if entry is None else "done"
    raise web.HTTPFound("/points?" + urlencode({"adjusted": outcome, "q": form.get("q", "")}))


def routes(app: web.Application) -> None:
    app.router.add_post("/points/adjust", adjust)
