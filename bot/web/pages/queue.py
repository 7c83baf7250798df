"""The review queue: the bot's review actions through the same services (dispatch)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.services.errors import UserError
from bot.services.intake import dispatch
from bot.services.intake.web_form import call_backs
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_act

DEADLINE_DAYS = ("0", "3", "7", "14")
ACTIONS = ("approve", "category", "reject", "escalate", "merge")


@staff_only
async def queue_page(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    async with app.sessions() as session:
        items = await dispatch.review_queue(session, viewer.user_id or 0, limit=50)
        web_filed = await call_backs(session, items)
    now = app.now()
    return page(
        request,
        "queue.html",
        viewer,
        items=items,
        web_filed=web_filed,
        ages={w.id: (now - w.created_at).total_seconds() / 3600 for w in items},
        categories=app.settings.categories.resolved,
        category_names={c.id: c.name(viewer.language) for c in app.settings.categories.resolved},
        departments=app.settings.community.departments,
        deadlines=DEADLINE_DAYS,
        done=request.query.get("done"),
        done_id=request.query.get("id"),
    )


@staff_only
async def queue_action(request: web.Request) -> web.StreamResponse:
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    if not may_act(viewer) or viewer.user_id is None:
        raise web.HTTPForbidden()
    action = request.match_info["action"]
    wish_id = int(request.match_info["wish_id"])
    form = await request.post()
    days = str(form.get("deadline", "0"))
    deadline = (
        None if days not in DEADLINE_DAYS or days == "0" else app.now() + timedelta(days=int(days))
    )
    async with app.sessions() as session:
        if action == "approve":
            await dispatch.approve(
                app,
                session,
                viewer.user_id,
                wish_id,
                difficulty=str(form.get("difficulty", "")),
                deadline=deadline,
            )
        elif action == "category":
            await dispatch.set_category(
                app, session, viewer.user_id, wish_id, str(form.get("category", ""))
            )
        elif action == "reject":
            await dispatch.reject(
                app, session, viewer.user_id, wish_id, str(form.get("reason", ""))
            )
        elif action == "escalate":
            await dispatch.escalate(
                app,
                session,
                viewer.user_id,
                wish_id,
                department=str(form.get("department", "")),
                note=str(form.get("note", ""))[:500],
                deadline=deadline,
            )
        elif action == "merge":
            into = str(form.get("into", "")).strip().lstrip("#＃")
            if not into.isdigit():
                raise UserError("staff.merge_number")
            await dispatch.merge(app, session, viewer.user_id, wish_id, int(into))
        else:
            raise web.HTTPNotFound()
    raise web.HTTPFound(f"/queue?done={action}&id={wish_id}")


def routes(app: web.Application) -> None:
    app.router.add_get("/queue", queue_page)
    app.router.add_post(r"/queue/{wish_id:\d+}/{action}", queue_action)
