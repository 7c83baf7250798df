"""Points and shop: ledger search (name, reason, dates; paged; CSV/XLSX), audited adjustments
through the bot's adjustment service (one form, one effect), declarations to review (approve /
reject through the declarations service), reward stock, and pickups waiting (hand over)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.db.models import Redemption, Reward, Volunteer
from bot.db.models.points import REDEMPTION_HELD
from bot.services.errors import UserError
from bot.services.points import declarations, shop
from bot.web.app import ctx, page, staff_only
from bot.web.pages import points_ledger
from bot.web.pages.points_ledger import ledger_context
from bot.web.scope import Viewer


@staff_only
async def points_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    pickups = (
        select(Redemption, Reward.name, Volunteer.name)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(Volunteer, Volunteer.user_id == Redemption.user_id)
        .where(Redemption.status == REDEMPTION_HELD)
        .order_by(Redemption.id)
    )
    if viewer.grid_ids is not None:
        pickups = pickups.where(Volunteer.grid_id.in_(list(viewer.grid_ids)))
    async with app.sessions() as session:
        ledger = await ledger_context(request, app, session, viewer)
        if isinstance(ledger, web.Response):  # the CSV / XLSX download
            return ledger
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
        waiting=waiting,
        pending=pending,
        rewards=rewards,
        tz=app.settings.tz,
        done=request.query.get("done"),
        **ledger,
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
    points_ledger.routes(app)
