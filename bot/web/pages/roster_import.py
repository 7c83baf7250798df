"""Roster import on the volunteers page, as the bot's /roster: upload a CSV / XLSX, see the dry
run (new / changed / unchanged / errors with line numbers), then import or cancel it with a
confirm form. The roster service checks, imports once (a second confirm finds the batch decided
and changes nothing) and audits. A roster spans grids, so only community staff import it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField

from bot.i18n import Translator
from bot.services.errors import UserError
from bot.services.people import roster
from bot.services.people.roster_file import MAX_BYTES
from bot.services.people.roster_preview import batch_view, split_issues
from bot.web.app import ctx, page, staff_only
from bot.web.scope import Viewer, may_import_roster

ISSUES_SHOWN = 500
DECIDED = ("reports.roster_already_imported", "reports.roster_already_cancelled")


def _require(viewer: Viewer) -> int:
    if not may_import_roster(viewer) or viewer.user_id is None:
        raise web.HTTPForbidden(text=Translator(viewer.language)("web.community_staff_only"))
    return viewer.user_id


@staff_only
async def upload_form(request: web.Request) -> web.StreamResponse:
    viewer: Viewer = request["viewer"]
    _require(viewer)
    return page(request, "roster_import.html", viewer, check=None, batch=None, error=None)


@staff_only
async def upload(request: web.Request) -> web.StreamResponse:
    """The dry run: check the file, keep the good rows in a batch, show what would happen."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    staff_id = _require(viewer)
    t = Translator(viewer.language)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, FileField):
        return page(
            request,
            "roster_import.html",
            viewer,
            check=None,
            batch=None,
            error=t("reports.roster_send_file"),
        )
    content = upload.file.read(MAX_BYTES + 1)
    async with app.sessions() as session:
        try:
            check = await roster.check_roster(
                app, session, staff_id, upload.filename or "roster", content
            )
        except UserError as err:  # a bad file: say why, nothing was kept
            return page(
                request,
                "roster_import.html",
                viewer,
                check=None,
                batch=None,
                error=t(err.key, **err.params),
            )
        batch = await batch_view(session, staff_id, check.batch_id)
    changed, errors = split_issues(check)
    return page(
        request,
        "roster_import.html",
        viewer,
        check=check,
        batch=batch,
        changed=changed[:ISSUES_SHOWN],
        errors=errors[:ISSUES_SHOWN],
        n_changed=len(changed),
        n_errors=len({i.line for i in errors}),
        error=None,
    )


@staff_only
async def batch_page(request: web.Request) -> web.StreamResponse:
    """A batch after the decision (or on reload): its status, counts and rows."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    staff_id = _require(viewer)
    async with app.sessions() as session:
        batch = await batch_view(session, staff_id, int(request.match_info["batch_id"]))
    return page(
        request,
        "roster_import.html",
        viewer,
        check=None,
        batch=batch,
        error=None,
        done=request.query.get("done"),
    )


@staff_only
async def decide(request: web.Request) -> web.StreamResponse:
    """Import or cancel a checked batch; only the first decision counts."""
    app = ctx(request)
    viewer: Viewer = request["viewer"]
    staff_id = _require(viewer)
    batch_id = int(request.match_info["batch_id"])
    action = request.match_info["action"]
    done = action
    async with app.sessions() as session:
        try:
            if action == "apply":
                await roster.import_roster(app, session, staff_id, batch_id)
            else:
                await roster.cancel_roster(app, session, staff_id, batch_id)
        except UserError as err:
            if err.key not in DECIDED:
                raise
            done = "already"  # a second press of the same form: the first one counted
    raise web.HTTPFound(f"/volunteers/roster/{batch_id}?done={done}")


def routes(app: web.Application) -> None:
    app.router.add_get("/volunteers/roster", upload_form)
    app.router.add_post("/volunteers/roster", upload)
    app.router.add_get(r"/volunteers/roster/{batch_id:\d+}", batch_page)
    app.router.add_post(r"/volunteers/roster/{batch_id:\d+}/{action:apply|cancel}", decide)
