"""Wishes (微心愿), their history, escalations and the staff corrections the classifier learns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, BigIntPK, utcnow

# What the overview's window sums read besides the filing time (migration 0015).
COVER_COLUMNS = [
    "id",
    "grid_id",
    "status",
    "category",
    "rating",
    "volunteer_id",
    "claimed_at",
    "done_at",
]


class Wish(Base):
    """A resident's request. Once claimed it is also the volunteer's task (same number)."""

    __tablename__ = "wishes"
    # The dashboard filters by grid and filing date (overview, wish search).
    __table_args__ = (
        Index("ix_wishes_grid_created", "grid_id", "created_at"),
        Index("ix_wishes_done_at", "done_at"),  # active volunteers this month
        # Open and overdue per grid (the overview's heat table) from the index alone.
        Index("ix_wishes_status_grid_deadline", "status", "grid_id", "deadline"),
        # The overview's sums over a filing window read this index alone on PostgreSQL
        # (the columns ride along; SQLite has no INCLUDE and gets a plain created_at index).
        Index("ix_wishes_created_cover", "created_at", postgresql_include=COVER_COLUMNS),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    details: Mapped[list[str]] = mapped_column(default=list)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    category: Mapped[str] = mapped_column(String(24), index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    time_start: Mapped[datetime | None]
    time_end: Mapped[datetime | None]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    difficulty: Mapped[str] = mapped_column(String(8), default="normal")
    deadline: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    # The task side, filled once a volunteer claims it.
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None]
    agreed_at: Mapped[datetime | None]
    done_note: Mapped[str | None] = mapped_column(Text)
    done_photo_file_id: Mapped[str | None] = mapped_column(String(256))
    done_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    offer_round: Mapped[int] = mapped_column(Integer, default=0)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    group_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]

    history: Mapped[list[WishEvent]] = relationship(
        back_populates="wish", order_by="WishEvent.id", lazy="selectin"
    )


class WishEvent(Base):
    """One transition of a wish's state machine (or a note on it): who, when, why."""

    __tablename__ = "wish_events"
    # The dashboard finds each wish's first approval in a period.
    __table_args__ = (
        Index("ix_wish_events_to_status_at", "to_status", "at"),
        # First approvals in a period from the index alone (the overview's records).
        Index(
            "ix_wish_events_approved_at",
            "at",
            "wish_id",
            postgresql_where=text("to_status = 'approved'"),
            sqlite_where=text("to_status = 'approved'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    wish: Mapped[Wish] = relationship(back_populates="history")


class Escalation(Base):
    """吹哨: a wish handed to a government department, with a deadline and its answer."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered
    answer: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class CategoryCorrection(Base):
    """A staff correction of a wish's category: evidence the classifier learns from."""

    __tablename__ = "category_corrections"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    text: Mapped[str] = mapped_column(Text)
    from_category: Mapped[str] = mapped_column(String(24))
    to_category: Mapped[str] = mapped_column(String(24))
    corrected_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingInput(Base):
    """Text a person sent before they could file it (e.g. not registered yet): never lost."""

    __tablename__ = "pending_inputs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
