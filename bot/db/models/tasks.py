"""Offers of a wish to volunteers, and the messages relayed between the two sides of a task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class Offer(Base):
    """A wish offered to one volunteer in one round, with why they were chosen."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("wish_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # sent | claimed | declined | taken (someone else won) | expired | released | cancelled
    status: Mapped[str] = mapped_column(String(12), default="sent", index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(24))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None]


class RelayMessage(Base):
    """A message between resident and volunteer about one task, kept as sent."""

    __tablename__ = "relay_messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
