"""Points (积分): the append-only ledger, the rewards shop (积分超市), declarations (党员申报)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow

# Ledger kinds and the sign of their amount.
KIND_AWARD = "award"  # + earned by a service (task, event, declaration)
KIND_ADJUST = "adjust"  # ± a staff correction with a reason
KIND_HOLD = "hold"  # - reserved by a redemption until handover or cancel
KIND_RELEASE = "release"  # + a hold given back (handed over: turned into a spend; cancelled)
KIND_SPEND = "spend"  # - points exchanged for a reward
KIND_EXPIRE = "expire"  # - old points lapsed (points.expiry = "end_of_next_year")
KINDS = (KIND_AWARD, KIND_ADJUST, KIND_HOLD, KIND_RELEASE, KIND_SPEND, KIND_EXPIRE)

REDEMPTION_HELD = "held"
REDEMPTION_HANDED_OVER = "handed_over"
REDEMPTION_CANCELLED = "cancelled"

DECLARATION_PENDING = "pending"
DECLARATION_APPROVED = "approved"
DECLARATION_REJECTED = "rejected"


class LedgerEntry(Base):
    """One movement of points. Never updated or deleted: a correction is a new entry.

    The unique key (user, source, kind) is what makes every award and charge happen once,
    whatever retries, restarts or concurrent workers do.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("user_id", "source_type", "source_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(24))
    source_type: Mapped[str] = mapped_column(String(24))
    source_id: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Reward(Base):
    """Something in the rewards shop; the stock is decremented by a conditional UPDATE."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    per_person_limit: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    pickup_place: Mapped[str] = mapped_column(String(128), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Redemption(Base):
    """A reward taken by a volunteer: points held at once, spent at handover by pickup code."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price: Mapped[int] = mapped_column(Integer)  # the price when redeemed (prices may change)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=REDEMPTION_HELD, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Declaration(Base):
    """党员申报: service done outside the bot, declared by the volunteer, checked by staff."""

    __tablename__ = "declarations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    when_text: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    category: Mapped[str] = mapped_column(String(24), default="other")
    suggested_points: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=DECLARATION_PENDING, index=True)
    points: Mapped[int | None] = mapped_column(Integer)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
