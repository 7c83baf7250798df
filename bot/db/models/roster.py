"""The roster of in-service members a community expects (报到名单), and the duty-reminder marks.

Least data: a roster row keeps only the last four digits of the member's phone. Together with
the name they are enough to tell two people of the same name apart when matching a
registration; a full number (or an unsalted hash of it: mobile numbers are few enough to
enumerate) would add risk and no matching power.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class RosterBatch(Base):
    """One uploaded roster file: checked first (dry run), then imported or cancelled once."""

    __tablename__ = "roster_batches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(128))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="checked")  # checked|imported|cancelled
    # The rows that passed the checks (name, unit, branch, grid_id, phone_last4, line), kept
    # until the staff member decides; the file itself is never stored.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_at: Mapped[datetime | None]


class RosterEntry(Base):
    """One expected member: who, where they work and live, and their registration if found."""

    __tablename__ = "roster_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("roster_batches.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128))
    branch: Mapped[str] = mapped_column(String(128), default="")
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    matched_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), unique=True, index=True
    )
    matched_at: Mapped[datetime | None]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class DutyReminder(Base):
    """A member was reminded of the yearly duty (每年至少服务1次) for this year: once only."""

    __tablename__ = "duty_reminders"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
