"""Staff broadcasts (群发): a message to a segment of volunteers, residents or group chats.

Compose → choose the segment → preview with the recipient count → confirm: a Broadcast row
and one outbox row per recipient (batch ``bc:<id>``); the delivery engine sends them in the
background. Staff follow progress, pause, resume or cancel; the sender gets a final report.

Pause and cancel act on rows not yet handed to a sender: the few already claimed by an
engine (at most its batch size) still go out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Staff
from bot.db.models.delivery import (
    BC_CANCELLED,
    BC_DONE,
    BC_PAUSED,
    BC_SENDING,
    CANCELLED,
    OPEN_STATES,
    PAUSED,
    PENDING,
    Broadcast,
    OutboxMessage,
)
from bot.db.tx import begin_write, transactional
from bot.delivery import outbox, segments
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.notices import Notice

TEXT_MAX = 4096  # Telegram's limit for a message
CAPTION_MAX = 1024  # ... and for a photo's caption
UNIT_MAX = 64
MESSAGE_KIND = "broadcast.message"
REPORT_KINDS = {"done": "broadcast.report_done", "cancelled": "broadcast.report_cancelled"}
REPORTED = ("delivered", "blocked", "invalid", "failed", "unknown", "cancelled")
RECENT = 5

VOLUNTEER_KINDS = ("vol_grid", "vol_community", "vol_skill", "vol_unit", "vol_slot")
SEGMENT_KINDS = (*VOLUNTEER_KINDS, "res_grid", "groups")
NEEDS_GRIDS = ("vol_grid", "res_grid")


@dataclass(frozen=True, slots=True)
class Segment:
    """Who receives it. ``grid_ids`` also narrows the other kinds (a grid's own staff)."""

    kind: str
    grid_ids: tuple[int, ...] = ()
    community: str | None = None
    skills: tuple[str, ...] = ()
    unit: str | None = None
    slots: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "grid_ids": list(self.grid_ids),
            "community": self.community,
            "skills": list(self.skills),
            "unit": self.unit,
            "slots": list(self.slots),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        return cls(
            kind=str(data["kind"]),
            grid_ids=tuple(int(g) for g in data.get("grid_ids") or ()),
            community=data.get("community"),
            skills=tuple(data.get("skills") or ()),
            unit=data.get("unit"),
            slots=tuple(data.get("slots") or ()),
        )


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    photo: str | None
    segment: Segment
    token: str | None = None  # one per composed message: sending it twice sends it once


@dataclass(frozen=True, slots=True)
class Progress:
    """A broadcast and where its recipients stand."""

    id: int
    sender_id: int
    status: str
    text: str
    photo: str | None
    segment: Segment
    recipients: int
    created_at: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        return self.counts.get("delivered", 0)

    @property
    def pending(self) -> int:
        return sum(self.counts.get(s, 0) for s in OPEN_STATES)

    @property
    def failed(self) -> int:
        """Could not be delivered: refused, or no such chat any more."""
        return self.counts.get("failed", 0) + self.counts.get("invalid", 0)

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)


def clean_text(text: str | None, *, with_photo: bool) -> str:
    """The staff member's words, kept as typed; refused if empty or too long."""
    text = (text or "").strip()
    limit = CAPTION_MAX if with_photo else TEXT_MAX
    if not text and not with_photo:
        raise UserError("broadcast.empty")
    if len(text) > limit:
        raise UserError("broadcast.too_long", max=limit)
    return text


def clean_unit(typed: str | None) -> str:
    typed = " ".join((typed or "").split())
    if not typed or len(typed) > UNIT_MAX or typed.startswith("/"):
        raise UserError("broadcast.unit_bad", max=UNIT_MAX)
    return typed


async def communities(session: AsyncSession) -> list[str]:
    """Communities with an active grid, in a stable order (buttons carry the index)."""
    names = await session.scalars(select(Grid.community).where(Grid.active).distinct())
    return sorted(n for n in names if n)


async def scoped(session: AsyncSession, staff_user_id: int, segment: Segment) -> Segment:
    """The segment as this staff member may send it: a grid's staff reach their grid only."""
    if segment.kind not in SEGMENT_KINDS:
        raise UserError("broadcast.bad_segment")
    staff = await _staff(session, staff_user_id)
    if staff.scope == "grid" and staff.grid_id is not None and not staff.is_admin:
        if segment.grid_ids and set(segment.grid_ids) != {staff.grid_id}:
            raise UserError("broadcast.own_grid_only")
        segment = replace(segment, grid_ids=(staff.grid_id,))
    if segment.kind in NEEDS_GRIDS and not segment.grid_ids:
        raise UserError("broadcast.pick_one")
    if segment.kind == "vol_skill" and not segment.skills:
        raise UserError("broadcast.pick_one")
    if segment.kind == "vol_slot" and not segment.slots:
        raise UserError("broadcast.pick_one")
    if segment.kind == "vol_unit":
        segment = replace(segment, unit=clean_unit(segment.unit))
    return segment


async def recipients(session: AsyncSession, segment: Segment) -> tuple[list[int], list[int]]:
    """(user ids, group chat ids) the segment reaches now."""
    grids = list(segment.grid_ids) or None
    kind = segment.kind
    if kind == "groups":
        return [], await segments.group_chats(session, grid_ids=grids)
    if kind == "res_grid":
        return await segments.residents(session, grid_ids=grids), []
    users = await segments.volunteers(
        session,
        grid_ids=grids,
        community=segment.community if kind == "vol_community" else None,
        skills=segment.skills if kind == "vol_skill" else None,
        unit=segment.unit if kind == "vol_unit" else None,
        slots=segment.slots if kind == "vol_slot" else None,
    )
    return users, []


async def count(session: AsyncSession, staff_user_id: int, segment: Segment) -> int:
    """The preview's number: how many would receive it if sent now."""
    users, chats = await recipients(session, await scoped(session, staff_user_id, segment))
    return len(users) + len(chats)


@transactional
async def create(
    app: AppContext, session: AsyncSession, staff_user_id: int, draft: Draft
) -> Progress:
    """Confirmed: the broadcast and its outbox rows, in one transaction."""
    await begin_write(session)
    # One confirmation at a time per sender (PostgreSQL; SQLite writers queue anyway), so a
    # double tap on "send" finds the first one's broadcast instead of making a second.
    await session.get(Staff, staff_user_id, with_for_update=True)
    if draft.token is not None:
        made = await _made_from(session, staff_user_id, draft.token)
        if made is not None:
            await session.commit()
            return await progress(session, made)
    text = clean_text(draft.text, with_photo=draft.photo is not None)
    segment = await scoped(session, staff_user_id, draft.segment)
    users, chats = await recipients(session, segment)
    if not users and not chats:
        raise UserError("broadcast.nobody")
    broadcast = Broadcast(
        sender_id=staff_user_id,
        text=text,
        photo_file_id=draft.photo,
        segment={**segment.to_dict(), "draft": draft.token},
        recipients=len(users) + len(chats),
        status=BC_SENDING,
        created_at=app.now(),
    )
    session.add(broadcast)
    await session.flush()
    await outbox.enqueue(
        session,
        notice=Notice(MESSAGE_KIND, {"text": text, "photo": draft.photo}),
        user_ids=users,
        chat_ids=chats,
        batch_key=broadcast.batch_key,
        priority=outbox.BULK,
    )
    audit.record(
        session,
        staff_user_id,
        "broadcast.create",
        "broadcast",
        broadcast.id,
        segment=segment.to_dict(),
        recipients=broadcast.recipients,
    )
    await session.commit()
    return await progress(session, broadcast.id)


async def _made_from(session: AsyncSession, sender_id: int, token: str) -> int | None:
    """The broadcast this sender already made from this draft, if any (among their latest)."""
    latest = await session.execute(
        select(Broadcast.id, Broadcast.segment)
        .where(Broadcast.sender_id == sender_id)
        .order_by(Broadcast.id.desc())
        .limit(RECENT)
    )
    return next((bid for bid, segment in latest.all() if segment.get("draft") == token), None)


async def progress(session: AsyncSession, broadcast_id: int) -> Progress:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise UserError("broadcast.not_found")
    return Progress(
        id=broadcast.id,
        sender_id=broadcast.sender_id,
        status=broadcast.status,
        text=broadcast.text,
        photo=broadcast.photo_file_id,
        segment=Segment.from_dict(broadcast.segment),
        recipients=broadcast.recipients,
        created_at=broadcast.created_at,
        counts=await outbox.batch_counts(session, broadcast.batch_key),
    )


async def view(session: AsyncSession, staff_user_id: int, broadcast_id: int) -> Progress:
    """One broadcast's progress, for someone allowed to follow it (see ``recent``)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise UserError("broadcast.not_found")
    staff = await _staff(session, staff_user_id)
    if broadcast.sender_id != staff_user_id and not _community_wide(staff):
        raise UserError("broadcast.not_allowed")
    return await progress(session, broadcast_id)


async def recent(session: AsyncSession, staff_user_id: int, limit: int = RECENT) -> list[Progress]:
    """The latest broadcasts this person may follow: their own; all, for community staff."""
    staff = await _staff(session, staff_user_id)
    stmt = select(Broadcast.id).order_by(Broadcast.id.desc()).limit(limit)
    if not _community_wide(staff):
        stmt = stmt.where(Broadcast.sender_id == staff_user_id)
    return [await progress(session, bid) for bid in await session.scalars(stmt)]


@transactional
async def pause(
    app: AppContext, session: AsyncSession, staff_user_id: int, broadcast_id: int
) -> Progress:
    await begin_write(session)
    broadcast = await _controllable(session, staff_user_id, broadcast_id, BC_SENDING)
    broadcast.status = BC_PAUSED
    await _move_rows(session, broadcast.batch_key, (PENDING,), PAUSED)
    audit.record(session, staff_user_id, "broadcast.pause", "broadcast", broadcast_id)
    await session.commit()
    return await progress(session, broadcast_id)


@transactional
async def resume(
    app: AppContext, session: AsyncSession, staff_user_id: int, broadcast_id: int
) -> Progress:
    await begin_write(session)
    broadcast = await _controllable(session, staff_user_id, broadcast_id, BC_PAUSED)
    broadcast.status = BC_SENDING
    await _move_rows(session, broadcast.batch_key, (PAUSED,), PENDING)
    audit.record(session, staff_user_id, "broadcast.resume", "broadcast", broadcast_id)
    await session.commit()
    return await progress(session, broadcast_id)


@transactional
async def cancel(
    app: AppContext, session: AsyncSession, staff_user_id: int, broadcast_id: int
) -> Progress:
    """Nobody not yet reached gets it; the sender's report follows once the rest settled."""
    await begin_write(session)
    broadcast = await _controllable(session, staff_user_id, broadcast_id, BC_SENDING, BC_PAUSED)
    broadcast.status = BC_CANCELLED
    await _move_rows(session, broadcast.batch_key, (PENDING, PAUSED), CANCELLED, app.now())
    audit.record(session, staff_user_id, "broadcast.cancel", "broadcast", broadcast_id)
    await session.commit()
    await finish_if_done(app, broadcast.batch_key)  # nothing was in flight: report now
    return await progress(session, broadcast_id)


@outbox.on_batch_done("bc:")
async def finish_if_done(app: AppContext, batch_key: str) -> None:
    """Every recipient settled: close the broadcast and send its sender the report, once."""
    broadcast_id = _broadcast_id(batch_key)
    if broadcast_id is None:
        return
    async with app.sessions() as session:
        await begin_write(session)
        still_open = await session.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.batch_key == batch_key, OutboxMessage.status.in_(OPEN_STATES))
            .limit(1)
        )
        if still_open is not None:
            return
        closed = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.finished_at.is_(None),
                Broadcast.status.in_((BC_SENDING, BC_CANCELLED)),
            )
            .values(
                finished_at=app.now(),
                status=case((Broadcast.status == BC_SENDING, BC_DONE), else_=Broadcast.status),
            )
            .returning(Broadcast.sender_id, Broadcast.status, Broadcast.recipients)
        )
        row = closed.first()
        if row is None:  # someone else closed it
            await session.commit()
            return
        counts = await outbox.batch_counts(session, batch_key)
        params = {"id": broadcast_id, "total": row.recipients}
        params.update({state: counts.get(state, 0) for state in REPORTED})
        await outbox.enqueue(
            session,
            notice=Notice(REPORT_KINDS[row.status], params),
            user_ids=[row.sender_id],
            batch_key=f"bcr:{broadcast_id}",
            priority=outbox.INTERACTIVE + 1,
        )
        await session.commit()


def _broadcast_id(batch_key: str) -> int | None:
    prefix, _, number = batch_key.partition(":")
    return int(number) if prefix == "bc" and number.isdigit() else None


async def _move_rows(
    session: AsyncSession,
    batch_key: str,
    source: tuple[str, ...],
    target: str,
    finished_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"status": target}
    if finished_at is not None:
        values["finished_at"] = finished_at
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.batch_key == batch_key, OutboxMessage.status.in_(source))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _controllable(
    session: AsyncSession, staff_user_id: int, broadcast_id: int, *states: str
) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise UserError("broadcast.not_found")
    staff = await _staff(session, staff_user_id)
    if broadcast.sender_id != staff_user_id and not _community_wide(staff):
        raise UserError("broadcast.not_allowed")
    if broadcast.status not in states:
        raise UserError("broadcast.wrong_state", id=broadcast_id)
    return broadcast


async def _staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("broadcast.not_allowed")
    return staff


def _community_wide(staff: Staff) -> bool:
    return staff.is_admin or staff.scope != "grid" or staff.grid_id is None
