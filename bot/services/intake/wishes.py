"""Wish intake (群众点单): understand the words, check the limits, file, follow, cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PendingInput, Resident, User, Wish
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import routing, wish_states
from bot.services.intake.classifier import classifier_of
from bot.services.intake.history_notes import encode as history_note
from bot.services.notices import Notice
from bot.services.people.actors import Actor, actor_of
from bot.services.privacy import mask_personal
from bot.services.text import visible
from matching.text import normalize
from matching.timewindow import extract_time

DETAIL_MAX = 500


@dataclass(frozen=True, slots=True)
class Draft:
    """What the bot understood, shown to the resident before anything is filed."""

    text: str
    category: str
    confidence: float
    alternatives: tuple[str, ...]
    time_start: datetime | None
    time_end: datetime | None
    urgent: bool
    photo_file_id: str | None = None
    duplicate_of: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "category": self.category,
            "confidence": self.confidence,
            "alternatives": list(self.alternatives),
            "time_start": self.time_start.isoformat() if self.time_start else None,
            "time_end": self.time_end.isoformat() if self.time_end else None,
            "urgent": self.urgent,
            "photo_file_id": self.photo_file_id,
            "duplicate_of": self.duplicate_of,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Draft:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(str(value)) if value else None

        return cls(
            text=str(data["text"]),
            category=str(data["category"]),
            confidence=float(data["confidence"]),  # type: ignore[arg-type]
            alternatives=tuple(data.get("alternatives") or ()),  # type: ignore[arg-type]
            time_start=when("time_start"),
            time_end=when("time_end"),
            urgent=bool(data.get("urgent")),
            photo_file_id=str(data["photo_file_id"]) if data.get("photo_file_id") else None,
            duplicate_of=int(data["duplicate_of"]) if data.get("duplicate_of") else None,  # type: ignore[call-overload]
        )


def understand(app: AppContext, text: str, *, photo_file_id: str | None = None) -> Draft:
    """Classify and read the time; pure (no database)."""
    result = classifier_of(app).classify(text)
    when = extract_time(text, app.now().astimezone(app.settings.tz))
    return Draft(
        text=text,
        category=result.category,
        confidence=result.confidence,
        alternatives=result.alternatives,
        time_start=when.start,
        time_end=when.end,
        urgent=when.urgent,
        photo_file_id=photo_file_id,
    )


def check_length(app: AppContext, text: str) -> str:
    text = visible(text)
    cfg = app.settings.wishes
    if len(text) < cfg.min_length:
        raise UserError("wish.too_short", min=cfg.min_length)
    if len(text) > cfg.max_length:
        raise UserError("wish.too_long", max=cfg.max_length)
    return text


# Built once with bound parameters (per update only the compiled form is looked up).
_LIMITS = (
    select(
        func.coalesce(func.sum(case((Wish.status.in_(wish_states.OPEN), 1), else_=0)), 0),
        func.coalesce(func.sum(case((Wish.created_at >= bindparam("day_start"), 1), else_=0)), 0),
    )
    .select_from(Resident)
    .outerjoin(Wish, Wish.resident_id == Resident.user_id)
    .where(Resident.user_id == bindparam("user_id"))
    .group_by(Resident.user_id)
)
_RECENT = select(Wish.id, Wish.text).where(
    Wish.resident_id == bindparam("user_id"),
    Wish.created_at >= bindparam("since"),
    Wish.status.in_(wish_states.OPEN),
)


async def draft_wish(
    app: AppContext,
    session: AsyncSession,
    user_id: int,
    text: str,
    *,
    photo_file_id: str | None = None,
) -> Draft:
    """Check a resident's new wish against the limits and understand it. Files nothing."""
    text = check_length(app, text)
    cfg = app.settings.wishes
    now = app.now()
    day_start = now.astimezone(app.settings.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    # Whether they are a resident (no row if not; the profile itself is not loaded) and both
    # limits, in one pass over the resident's wishes.
    limits = (await session.execute(_LIMITS, {"user_id": user_id, "day_start": day_start})).first()
    if limits is None:
        raise UserError("wish.register_first")
    open_count, today = limits
    if (open_count or 0) >= cfg.max_open_per_resident:
        raise UserError("wish.too_many_open", max=cfg.max_open_per_resident)
    if (today or 0) >= cfg.max_per_day:
        raise UserError("wish.too_many_today", max=cfg.max_per_day)
    draft = understand(app, text, photo_file_id=photo_file_id)
    duplicate = await find_duplicate(app, session, user_id, text)
    if duplicate is not None:
        draft = replace(draft, duplicate_of=duplicate)
    return draft


async def find_duplicate(
    app: AppContext, session: AsyncSession, user_id: int, text: str
) -> int | None:
    """The resident's own recent wish that says nearly the same thing, if any."""
    cfg = app.settings.wishes
    since = app.now() - timedelta(hours=cfg.duplicate_window_hours)
    recent = (await session.execute(_RECENT, {"user_id": user_id, "since": since})).all()
    target = normalize(text)
    for wish_id, old in recent:
        if fuzz.ratio(target, normalize(old)) / 100 >= cfg.duplicate_similarity:
            return int(wish_id)
    return None


@transactional
async def file_wish(
    app: AppContext,
    session: AsyncSession,
    user_id: int,
    draft: Draft,
    *,
    web: bool = False,
    with_wish: Callable[[AsyncSession, Wish], None] | None = None,
) -> Wish:
    """File a confirmed draft. Auto-review categories are approved on the spot.

    A wish from the web form (``web``) always waits for staff: they phone the resident first.
    ``with_wish`` adds rows that belong to the new wish in the same transaction (代办's filing
    row), so nobody is told about the wish before they exist.
    """
    await begin_write(session)
    resident = await session.get(Resident, user_id)
    if resident is None:
        raise UserError("wish.register_first")
    now = app.now()
    category = app.settings.categories.get(draft.category) or app.settings.categories.get("other")
    assert category is not None
    wish = Wish(
        resident_id=user_id,
        grid_id=resident.grid_id,
        text=draft.text,
        photo_file_id=draft.photo_file_id,
        category=category.id,
        confidence=draft.confidence,
        time_start=draft.time_start,
        time_end=draft.time_end,
        urgent=draft.urgent,
        difficulty=category.difficulty,
        status="submitted",
        created_at=now,
        updated_at=now,
    )
    session.add(wish)
    await session.flush()
    filed = history_note("filed_web" if web else "filed")
    wish_states.note(session, wish, filed, actor_id=user_id, at=now)
    auto = category.review == "auto" and not web
    if auto:
        wish_states.move(
            session, wish, "approved", actor_id=None, at=now, note=history_note("auto")
        )
    audit.record(session, user_id, "wish.file", "wish", wish.id, category=wish.category, auto=auto)
    if with_wish is not None:
        with_wish(session, wish)
    pending = await session.get(PendingInput, user_id)
    if pending is not None:
        await session.delete(pending)
    await session.commit()
    if not auto:
        await routing.notify_reviewers(app, session, wish)
    else:
        await routing.after_approval(app, wish.id)
    return wish


@transactional
async def keep_pending(
    session: AsyncSession, user_id: int, text: str, photo_file_id: str | None = None
) -> None:
    """Keep what an unregistered person wrote, so registering first loses nothing."""
    await begin_write(session)
    pending = await session.get(PendingInput, user_id)
    if pending is None:
        session.add(PendingInput(user_id=user_id, text=text, photo_file_id=photo_file_id))
    else:
        pending.text, pending.photo_file_id = text, photo_file_id
    await session.commit()


async def pending_input(session: AsyncSession, user_id: int) -> PendingInput | None:
    return await session.get(PendingInput, user_id)


@dataclass(frozen=True, slots=True)
class Resumed:
    actor: Actor
    text: str
    photo_file_id: str | None


async def resume_pending(session: AsyncSession, user_id: int) -> Resumed | None:
    """After registration, the wish written before it, with the person as they are now.

    The pending copy stays until the wish is filed (file_wish removes it): a crash between here
    and the draft being stored loses nothing. The read transaction ends here, before the
    draft's writes begin.
    """
    pending = await pending_input(session, user_id)
    if pending is None:
        return None
    user = await session.get(User, user_id, populate_existing=True)
    if user is None:
        return None
    resumed = Resumed(actor_of(user), pending.text, pending.photo_file_id)
    await session.commit()
    return resumed


async def resident_wishes(session: AsyncSession, user_id: int, limit: int = 20) -> list[Wish]:
    rows = await session.scalars(
        select(Wish).where(Wish.resident_id == user_id).order_by(Wish.id.desc()).limit(limit)
    )
    return list(rows)


async def own_wish(session: AsyncSession, user_id: int, wish_id: int) -> Wish:
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None or wish.resident_id != user_id:
        raise UserError("wish.not_yours", id=wish_id)
    return wish


@transactional
async def cancel_wish(app: AppContext, session: AsyncSession, user_id: int, wish_id: int) -> Wish:
    await begin_write(session)
    wish = await own_wish(session, user_id, wish_id)
    if wish.status not in wish_states.CANCELLABLE:
        raise UserError("wish.cannot_cancel", id=wish_id)
    volunteer_id = wish.volunteer_id
    wish_states.move(
        session, wish, "cancelled", actor_id=user_id, at=app.now(), note=history_note("by_resident")
    )
    audit.record(session, user_id, "wish.cancel", "wish", wish_id)
    await session.commit()
    if volunteer_id is not None:
        await app.notifier.notify(
            volunteer_id, Notice("task.cancelled_by_resident", {"id": wish_id})
        )
        from bot.services.tasks import task_refs  # tasks builds on intake, not the reverse

        await task_refs.redraw(app, session, wish_id, volunteer_id)
    return wish


@transactional
async def add_details(
    app: AppContext, session: AsyncSession, user_id: int, wish_id: int, text: str
) -> Wish:
    await begin_write(session)
    wish = await own_wish(session, user_id, wish_id)
    if wish.status in wish_states.TERMINAL:
        raise UserError("wish.closed_already", id=wish_id)
    text = visible(text)
    if not text or len(text) > DETAIL_MAX:
        raise UserError("errors.text_length", max=DETAIL_MAX)
    if len(wish.details) >= app.settings.wishes.max_details:
        raise UserError("limits.too_many_details", id=wish_id, max=app.settings.wishes.max_details)
    wish.details = [*wish.details, text]
    wish_states.note(session, wish, history_note("details"), actor_id=user_id, at=app.now())
    await session.commit()
    if wish.volunteer_id is not None:
        await app.notifier.notify(
            wish.volunteer_id,
            Notice("task.details_added", {"id": wish_id, "text": mask_personal(text)}),
        )
    return wish
