"""What residents and volunteers tell the community: suggestions (社情民意) and event ratings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class Suggestion(Base):
    """A resident's suggestion or complaint, tracked to an answer or a fix (反馈—整改—闭环)."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # received | answered | fixing | fixed | declined (bot/services/suggestions/states.py)
    status: Mapped[str] = mapped_column(String(12), default="received", index=True)
    answer: Mapped[str | None] = mapped_column(Text)  # the reply, the fix, or why not
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # while fixing
    due_at: Mapped[datetime | None]
    satisfied: Mapped[bool | None]
    rated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None]  # the first reply of any kind
    fixed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuggestionEvent(Base):
    """One line of a suggestion's history: who moved it from what to what, when."""

    __tablename__ = "suggestion_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRating(Base):
    """An attendee's rating of an event (1–5 and an optional comment); one per person."""

    __tablename__ = "event_ratings"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
