"""党员申报: a volunteer declares service done outside the bot (what, when, note, photo);
the staff of their grid (召集人汇总), else community staff (社区核实), approve it with points
or reject it. Approval awards through the ledger, so it is counted once whatever happens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff, Volunteer
from bot.db.models.points import (
    DECLARATION_APPROVED,
    DECLARATION_PENDING,
    DECLARATION_REJECTED,
    Declaration,
)
from bot.db.tx import begin_write
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice
from bot.services.people.registration import staff_for_grid
from bot.services.points import convenors, ledger
from matching.classify import CategorySpec, Classifier

WHAT_MAX = 300
WHEN_MAX = 40
NOTE_MAX = 300
REASON_MAX = 200
LIST_MAX = 20


@dataclass(frozen=True, slots=True)
class DeclarationForm:
    what: str
    when_text: str
    note: str = ""
    photo_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeclarationView:
    id: int
    user_id: int
    volunteer_name: str
    grid_name: str
    what: str
    when_text: str
    note: str
    photo_file_id: str | None
    category: str
    suggested_points: int
    status: str
    points: int | None
    reject_reason: str | None


def clean(text: str, max_len: int) -> str:
    value = " ".join(text.split())
    if not value or len(value) > max_len or value.startswith("/"):
        raise UserError("declare.text_invalid", max=max_len)
    return value


def max_points(app: AppContext) -> int:
    """The most one declaration may earn (config; 0 means no limit beyond the sanity bound)."""
    return app.settings.points.declaration_max_points or ledger.ADJUST_MAX


def guess_category(app: AppContext, text: str) -> str:
    """The wish classifier's best guess: it sets the default points staff are offered."""
    if app.classifier is None:
        specs = [
            CategorySpec(id=c.id, keywords=tuple(c.keywords_zh + c.keywords_en))
            for c in app.settings.categories.resolved
        ]
        app.classifier = Classifier(specs, fallback="other")
    return app.classifier.classify(text).category


def suggested_points(app: AppContext, category: str) -> int:
    cfg = app.settings.categories.get(category)
    base = cfg.points.get("normal", 0) if cfg is not None else 0
    return max(1, min(base, max_points(app)))


async def submit(
    app: AppContext, session: AsyncSession, user_id: int, form: DeclarationForm
) -> DeclarationView:
    what = clean(form.what, WHAT_MAX)
    when_text = clean(form.when_text, WHEN_MAX)
    note = clean(form.note, NOTE_MAX) if form.note.strip() else ""
    await begin_write(session)
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None or volunteer.status != "approved":
        raise UserError("points.volunteers_only")
    category = guess_category(app, f"{what} {note}")
    declaration = Declaration(
        user_id=user_id,
        grid_id=volunteer.grid_id,
        what=what,
        when_text=when_text,
        note=note,
        photo_file_id=form.photo_file_id,
        category=category,
        suggested_points=suggested_points(app, category),
        status=DECLARATION_PENDING,
        created_at=app.now(),
    )
    session.add(declaration)
    await session.flush()
    audit.record(session, user_id, "declaration.submit", "declaration", declaration.id)
    # 召集人汇总 (config): the group's convenor gathers it first; else staff review it.
    gatherers = await convenors.convenors_for(app, session, volunteer)
    reviewers = [] if gatherers else await staff_for_grid(session, volunteer.grid_id)
    await session.commit()
    for staff_id in reviewers:
        await app.notifier.notify(
            staff_id, Notice("declare.review", {"declaration_id": declaration.id})
        )
    for convenor_id in gatherers:
        await app.notifier.notify(
            convenor_id, Notice("convenor.declared", {"name": volunteer.name, "what": what})
        )
    return await declaration_view(session, declaration.id)


async def declaration_view(session: AsyncSession, declaration_id: int) -> DeclarationView:
    row = (
        await session.execute(
            select(Declaration, Volunteer.name, Grid.name)
            .outerjoin(Volunteer, Volunteer.user_id == Declaration.user_id)
            .outerjoin(Grid, Grid.id == Declaration.grid_id)
            .where(Declaration.id == declaration_id)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise UserError("declare.unknown")
    d, name, grid_name = row
    return DeclarationView(
        id=d.id,
        user_id=d.user_id,
        volunteer_name=name or "",
        grid_name=grid_name or "",
        what=d.what,
        when_text=d.when_text,
        note=d.note,
        photo_file_id=d.photo_file_id,
        category=d.category,
        suggested_points=d.suggested_points,
        status=d.status,
        points=d.points,
        reject_reason=d.reject_reason,
    )


async def _reviewable(
    session: AsyncSession, staff_user_id: int, declaration_id: int
) -> Declaration:
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    declaration = await session.get(Declaration, declaration_id, populate_existing=True)
    if declaration is None:
        raise UserError("declare.unknown")
    if staff.scope == "grid" and declaration.grid_id != staff.grid_id:
        raise UserError("points.not_your_grid")
    return declaration


async def pending(
    session: AsyncSession, staff_user_id: int, *, via_convenor: bool = False
) -> list[DeclarationView]:
    """Pending declarations for staff; with convenors (config), those still with one wait."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    stmt = (
        select(Declaration.id)
        .where(Declaration.status == DECLARATION_PENDING)
        .order_by(Declaration.id)
        .limit(LIST_MAX)
    )
    if staff.scope == "grid":
        stmt = stmt.where(Declaration.grid_id == staff.grid_id)
    if via_convenor:
        stmt = stmt.where(~convenors.awaiting_convenor())
    ids = (await session.scalars(stmt)).all()
    return [await declaration_view(session, i) for i in ids]


def parse_points(app: AppContext, text: str) -> int:
    top = max_points(app)
    try:
        value = int(text.strip())
    except ValueError:
        raise UserError("declare.points_invalid", max=top) from None
    if not 1 <= value <= top:
        raise UserError("declare.points_invalid", max=top)
    return value


async def approve(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    declaration_id: int,
    amount: int | None = None,
) -> DeclarationView:
    """Approve with ``amount`` points (default: the suggestion); only the first review counts.
    The daily and weekly caps apply as for tasks. Commits, then tells the volunteer."""
    await begin_write(session)
    declaration = await _reviewable(session, staff_user_id, declaration_id)
    value = declaration.suggested_points if amount is None else amount
    if not 1 <= value <= max_points(app):
        raise UserError("declare.points_invalid", max=max_points(app))
    await _decide(app, session, staff_user_id, declaration_id, DECLARATION_APPROVED, value, None)
    entry = await ledger.award(
        app,
        session,
        user_id=declaration.user_id,
        amount=value,
        reason=ledger.record_language(app)(
            "points.reason.declaration", id=declaration.id, what=declaration.what
        ),
        source_type="declaration",
        source_id=str(declaration.id),
        approved_by=staff_user_id,
        category=declaration.category,
    )
    audit.record(
        session, staff_user_id, "declaration.approve", "declaration", declaration_id, points=value
    )
    await session.commit()
    view = await declaration_view(session, declaration_id)
    if entry is not None:
        await app.notifier.notify(
            view.user_id,
            Notice(
                "declare.approved",
                {
                    "what": view.what,
                    "points": entry.amount,
                    "reason": entry.reason,
                    "balance": await ledger.balance(session, view.user_id),
                },
            ),
        )
    return view


async def reject(
    app: AppContext, session: AsyncSession, staff_user_id: int, declaration_id: int, reason: str
) -> DeclarationView:
    reason = " ".join(reason.split())
    if not reason or len(reason) > REASON_MAX or reason.startswith("/"):
        raise UserError("declare.text_invalid", max=REASON_MAX)
    await begin_write(session)
    await _reviewable(session, staff_user_id, declaration_id)
    await _decide(app, session, staff_user_id, declaration_id, DECLARATION_REJECTED, None, reason)
    audit.record(session, staff_user_id, "declaration.reject", "declaration", declaration_id)
    await session.commit()
    view = await declaration_view(session, declaration_id)
    await app.notifier.notify(
        view.user_id, Notice("declare.rejected", {"what": view.what, "reason": reason})
    )
    return view


async def _decide(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    declaration_id: int,
    status: str,
    amount: int | None,
    reason: str | None,
) -> None:
    """Pending → decided, exactly once even if two staff press at the same moment."""
    result = await session.execute(
        update(Declaration)
        .where(Declaration.id == declaration_id, Declaration.status == DECLARATION_PENDING)
        .values(
            status=status,
            points=amount,
            reject_reason=reason,
            reviewed_by=staff_user_id,
            reviewed_at=app.now(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise UserError("declare.already_reviewed")
