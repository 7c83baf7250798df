"""Hazards found on patrol (/hazard): a kind, a photo (its Telegram file id only), a location
and a note. Grid staff decide: it becomes a wish of the safety category (filed and approved
through the intake and dispatch services, so volunteers are offered it like any wish), a 吹哨
escalation to a department (the existing Escalation, through dispatch.escalate), or nothing.

The wish is filed in the reporter's name (they found it and hear how it goes). A decision is
taken once: the hazard row is locked and moved from ``reported`` in the same transaction that
files the wish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Staff, Wish
from bot.db.models.patrols import Hazard
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.authz import staff_covers_grid
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import dispatch, wish_states
from bot.services.intake.history_notes import encode as history_note
from bot.services.notices import Notice
from bot.services.patrols.attendance import current_shift
from bot.services.people.registration import staff_for_grid
from bot.services.points.ledger import record_language
from matching.geo import valid_point

NOTE_MAX = 300
SAFETY = "safety"
ESCALATION_DAYS = 7
REPORTED, AS_WISH, ESCALATED, DISMISSED = "reported", "wish", "escalated", "dismissed"


@dataclass(frozen=True, slots=True)
class HazardDraft:
    kind: str
    note: str = ""
    photo_file_id: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class HazardView:
    id: int
    shift_id: int | None
    grid_id: int
    reporter_id: int
    kind: str
    note: str
    photo_file_id: str | None
    lat: float | None
    lon: float | None
    status: str
    wish_id: int | None
    created_at: datetime


def view(h: Hazard) -> HazardView:
    return HazardView(
        h.id,
        h.shift_id,
        h.grid_id,
        h.reporter_id,
        h.kind,
        h.note,
        h.photo_file_id,
        h.lat,
        h.lon,
        h.status,
        h.wish_id,
        h.created_at,
    )


def check_kind(app: AppContext, kind: str) -> str:
    if kind not in app.settings.patrols.hazard_kinds:
        raise UserError("errors.stale_button")
    return kind


def clean_note(text: str) -> str:
    note = " ".join(text.split())
    if len(note) > NOTE_MAX or note.startswith("/"):
        raise UserError("patrols.form.text_length", max=NOTE_MAX)
    return note


async def may_report(app: AppContext, session: AsyncSession, user_id: int) -> int:
    """The shift the reporter is patrolling (a hazard is reported during a patrol)."""
    shift = await current_shift(app, session, user_id)
    await session.commit()
    if shift is None:
        raise UserError("patrols.hazard.not_on_patrol")
    return shift.id


@transactional
async def report(
    app: AppContext, session: AsyncSession, user_id: int, draft: HazardDraft
) -> HazardView:
    """File the hazard on the reporter's current patrol; the grid's staff get a card."""
    check_kind(app, draft.kind)
    note = clean_note(draft.note)
    if (draft.lat is None) != (draft.lon is None) or (
        draft.lat is not None and draft.lon is not None and not valid_point(draft.lat, draft.lon)
    ):
        raise UserError("patrols.checkin.bad_location")
    await begin_write(session)
    shift = await current_shift(app, session, user_id)
    if shift is None:
        raise UserError("patrols.hazard.not_on_patrol")
    hazard = Hazard(
        shift_id=shift.id,
        grid_id=shift.grid_id,
        reporter_id=user_id,
        kind=draft.kind,
        note=note,
        photo_file_id=draft.photo_file_id,
        lat=draft.lat,
        lon=draft.lon,
        status=REPORTED,
        created_at=app.now(),
    )
    session.add(hazard)
    await session.flush()
    audit.record(session, user_id, "hazard.report", "hazard", hazard.id, kind=draft.kind)
    reviewers = await staff_for_grid(session, shift.grid_id)
    await session.commit()
    for staff_id in reviewers:
        await app.notifier.notify(staff_id, Notice("patrols.hazard_card", {"hazard_id": hazard.id}))
    return view(hazard)


async def get(session: AsyncSession, hazard_id: int) -> HazardView:
    hazard = await session.get(Hazard, hazard_id)
    if hazard is None:
        raise UserError("patrols.hazard.not_found", id=hazard_id)
    return view(hazard)


async def _decidable(session: AsyncSession, staff_user_id: int, hazard_id: int) -> Hazard:
    hazard = await session.get(Hazard, hazard_id, with_for_update=True, populate_existing=True)
    if hazard is None:
        raise UserError("patrols.hazard.not_found", id=hazard_id)
    if not await staff_covers_grid(session, staff_user_id, hazard.grid_id):
        raise UserError("patrols.not_your_grid")
    if hazard.status != REPORTED:
        raise UserError("patrols.hazard.decided", id=hazard_id)
    return hazard


def wish_text(app: AppContext, hazard: Hazard) -> str:
    """The wish's words, in the community's language (the record staff and volunteers read)."""
    t = record_language(app)
    key = f"patrols.kind.{hazard.kind}"
    kind = t(key) if t.has(key) else hazard.kind  # a kind added in config without a text
    return t("patrols.hazard.wish_text", id=hazard.id, kind=kind, note=hazard.note or kind)


async def _file_wish(app: AppContext, session: AsyncSession, hazard: Hazard, staff: int) -> Wish:
    now = app.now()
    category = app.settings.categories.get(SAFETY) or app.settings.categories.get("other")
    assert category is not None
    wish = Wish(
        resident_id=hazard.reporter_id,
        grid_id=hazard.grid_id,
        text=wish_text(app, hazard),
        photo_file_id=hazard.photo_file_id,
        category=category.id,
        confidence=1.0,
        difficulty=category.difficulty,
        status="submitted",
        created_at=now,
        updated_at=now,
    )
    session.add(wish)
    await session.flush()
    wish_states.note(session, wish, history_note("filed"), actor_id=hazard.reporter_id, at=now)
    hazard.wish_id, hazard.decided_by, hazard.decided_at = wish.id, staff, now
    return wish


@transactional
async def to_wish(
    app: AppContext, session: AsyncSession, staff_user_id: int, hazard_id: int
) -> HazardView:
    """It becomes a safety wish, approved at once: volunteers are offered it (党员接单)."""
    await begin_write(session)
    hazard = await _decidable(session, staff_user_id, hazard_id)
    wish = await _file_wish(app, session, hazard, staff_user_id)
    hazard.status = AS_WISH
    audit.record(session, staff_user_id, "hazard.to_wish", "hazard", hazard_id, wish=wish.id)
    await session.commit()
    shown = view(hazard)
    await dispatch.approve(
        app, session, staff_user_id, wish.id, difficulty=wish.difficulty, deadline=None
    )
    await app.notifier.notify(
        shown.reporter_id, Notice("patrols.hazard.became_wish", {"id": hazard_id, "wish": wish.id})
    )
    return shown


@transactional
async def to_escalation(
    app: AppContext, session: AsyncSession, staff_user_id: int, hazard_id: int, department: str
) -> HazardView:
    """It goes to a department (吹哨): a safety wish escalated at once, with a deadline."""
    if department not in {d.id for d in app.settings.community.departments}:
        raise UserError("errors.stale_button")
    await begin_write(session)
    hazard = await _decidable(session, staff_user_id, hazard_id)
    wish = await _file_wish(app, session, hazard, staff_user_id)
    hazard.status = ESCALATED
    audit.record(session, staff_user_id, "hazard.escalate", "hazard", hazard_id, wish=wish.id)
    await session.commit()
    shown = view(hazard)
    await dispatch.escalate(
        app,
        session,
        staff_user_id,
        wish.id,
        department=department,
        note=wish.text,
        deadline=app.now() + timedelta(days=ESCALATION_DAYS),
    )
    return shown


@transactional
async def dismiss(
    app: AppContext, session: AsyncSession, staff_user_id: int, hazard_id: int
) -> HazardView:
    await begin_write(session)
    hazard = await _decidable(session, staff_user_id, hazard_id)
    hazard.status, hazard.decided_by, hazard.decided_at = DISMISSED, staff_user_id, app.now()
    audit.record(session, staff_user_id, "hazard.dismiss", "hazard", hazard_id)
    await session.commit()
    await app.notifier.notify(
        hazard.reporter_id, Notice("patrols.hazard.dismissed", {"id": hazard_id})
    )
    return view(hazard)


async def open_hazards(
    session: AsyncSession, staff_user_id: int, limit: int = 20
) -> list[HazardView]:
    """Hazards waiting for a decision, within the staff member's scope, oldest first."""
    staff = await session.get(Staff, staff_user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    query = select(Hazard).where(Hazard.status == REPORTED).order_by(Hazard.id).limit(limit)
    if staff.scope == "grid" and not staff.is_admin:
        query = query.where(Hazard.grid_id == staff.grid_id)
    shown = [view(h) for h in (await session.scalars(query)).all()]
    await session.commit()
    return shown
