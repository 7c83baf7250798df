"""Points and shop: ledger search, declarations to review (approve / reject through the
declarations service), reward stock, and pickups waiting (hand over through the shop)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.db.models import LedgerEntry, Redemption, Reward, Volunteer
from bot.db.models.points import REDEMPTION_HELD
from bot.services.errors import UserError
from bot.services.points import declarations, shop
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer

LEDGER_ROWS = 100


@staff_only
async def points_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    q = request.query.get("q", "").strip()[:64]
    ledger = (
        select(LedgerEntry, Volunteer.name)
        .join(Volunteer, Volunteer.user_id == LedgerEntry.user_id)
        .order_by(LedgerEntry.id.desc())
        .limit(LEDGER_ROWS)
    )
    pickups = (
        select(Redemption, Reward.name, Volunteer.name)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(Volunteer, Volunteer.user_id == Redemption.user_id)
        .where(Redemption.status == REDEMPTION_HELD)
        .order_by(Redemption.id)
    )
    if viewer.grid_ids is not None:
        ledger = ledger.where(Volunteer.grid_id.in_(list(viewer.grid_ids)))
        pickups = pickups.where(Volunteer.grid_id.in_(list(viewer.grid_ids)))
    if q:
        ledger = ledger.where(Volunteer.name == q)
    async with app.sessions() as session:
        entries = list(await session.execute(ledger))
        waiting = list(await session.execute(pickups))
        pending = await declarations.pending(
            session,
            viewer.user_id or 0,
            via_convenor=app.settings.points.declarations_via_convenor,  # 召集人汇总 first
        )
        rewards = await shop.list_rewards(session, for_volunteers=False)
    return page(
        request,
        "points.html",
        viewer,
        q=q,
        entries=entries,
        waiting=waiting,
        pending=pending,
        rewards=rewards,
        tz=app.settings.tz,
        done=request.query.get("done"),
    )


@staff_only
async def points_action(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if viewer.user_id is None:
        raise web.HTTPForbidden()
    action, item = request.match_info["action"], int(request.match_info["item"])
    form = await request.post()
    async with app.sessions() as session:
        if action == "approve":
            raw = str(form.get("amount", "")).strip()
            amount = declarations.parse_points(app, raw) if raw else None
            await declarations.approve(app, session, viewer.user_id, item, amount)
        elif action == "reject":
            await declarations.reject(
                app, session, viewer.user_id, item, str(form.get("reason", ""))
            )
        elif action == "handover":
            await shop.hand_over(app, session, viewer.user_id, item)
        else:
            raise UserError("errors.stale_button")
    raise web.HTTPFound(f"/points?done={action}")


def routes(app: web.Application) -> None:
    app.router.add_get("/points", points_page)
    app.router.add_post(r"/points/{action}/{item:\d+}", points_action)
