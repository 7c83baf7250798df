"""Volunteer events (志愿服务招募): the event, who signed up, and the check-in codes (扫码签到)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class Event(Base):
    """An activity staff recruit volunteers for. ``taken`` counts the signed-up places."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    slots: Mapped[int] = mapped_column(Integer)
    # Kept beside the rows so a sign-up can take a place with one conditional UPDATE.
    taken: Mapped[int] = mapped_column(Integer, default=0)
    skills: Mapped[list[str]] = mapped_column(default=list)
    points: Mapped[int] = mapped_column(Integer, default=0)
    signup_deadline: Mapped[datetime]
    # Who was invited: {"kind": "grid" | "community" | "skill", "value": ...}.
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set for a grid's own event: its linked group chat gets the invitation too.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(12), default="open", index=True
    )  # open|closed|cancelled
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]


class EventSignup(Base):
    """One volunteer on one event: signed (has a place), waiting (in line) or cancelled."""

    __tablename__ = "event_signups"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # signed | waiting | cancelled
    # The waiting list is served in (queued_at, id) order; signing up again makes a new row.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    checkin_method: Mapped[str | None] = mapped_column(String(8))  # qr | code | staff
    attended: Mapped[bool] = mapped_column(default=False)
    points_awarded: Mapped[int | None] = mapped_column(Integer)


class EventCheckinCode(Base):
    """A rotating check-in code: ``token`` travels in the QR deep link, ``pin`` is typed."""

    __tablename__ = "event_checkin_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    pin: Mapped[str] = mapped_column(String(6), index=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
