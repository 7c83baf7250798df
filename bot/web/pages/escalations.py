"""吹哨 escalations: the open ones (overdue first) and the answered ones, in the viewer's grids,
and the form that records the department's answer through the bot's own service
(``dispatch.answer_escalation``: scope, audit, the review cards, the resident's notice)."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.services.errors import UserError
from bot.services.intake import dispatch
from bot.services.intake.escalation_list import STATES, escalation_counts, list_escalations
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act

ANSWER_MAX = 1000


def safe_back(raw: str, default: str) -> str:
    """Only a path of this site (never //host or a URL) to go back to."""
    return raw if raw.startswith("/") and not raw.startswith("//") else default


@staff_only
async def escalations_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    state = request.query.get("state", "open")
    state = state if state in STATES else "open"
    now = app.now()
    async with app.sessions() as session:
        rows = await list_escalations(session, viewer.grids, now, state)
        n_open, n_overdue = await escalation_counts(session, viewer.grids, now)
        await session.rollback()
    return page(
        request,
        "escalations.html",
        viewer,
        rows=rows,
        state=state,
        states=STATES,
        n_open=n_open,
        n_overdue=n_overdue,
        departments={d.id: d.name for d in app.settings.community.departments},
        tz=app.settings.tz,
        done=request.query.get("done"),
        done_id=request.query.get("id"),
        answer_max=ANSWER_MAX,
    )


@staff_only
async def answer(request: web.Request) -> web.StreamResponse:
    """Record the department's answer: close the wish, or give it back to volunteers."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if not may_act(viewer) or viewer.user_id is None:
        raise web.HTTPForbidden()
    wish_id = int(request.match_info["wish_id"])
    form = await request.post()
    outcome = str(form.get("outcome", ""))
    if outcome not in ("close", "reopen"):
        raise UserError("errors.stale_button")
    back = safe_back(str(form.get("back", "")), "/escalations")
    async with app.sessions() as session:
        try:
            await dispatch.answer_escalation(
                app,
                session,
                viewer.user_id,
                wish_id,
                answer=str(form.get("answer", "")),
                close=outcome == "close",
            )
        except UserError as err:
            # A second submit of the same form (or an answer from the bot meanwhile): the
            # escalation is answered already, so say that instead of failing.
            if err.key != "staff.wish_state_changed":
                raise
            await session.rollback()
            if await dispatch.open_escalation(session, wish_id) is not None:
                raise
            outcome = "already"
    sep = "&" if "?" in back else "?"
    raise web.HTTPFound(f"{back}{sep}" + urlencode({"done": f"answer_{outcome}", "id": wish_id}))


def routes(app: web.Application) -> None:
    app.router.add_get("/escalations", escalations_page)
    app.router.add_post(r"/escalations/{wish_id:\d+}/answer", answer)
