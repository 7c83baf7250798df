"""Due items (reminders, escalations, time-outs): rows, so each fires once across restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow


class Timer(Base):
    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(48))
    # Unique: scheduling the same reminder twice keeps one row (e.g. "remind:wish:12:60").
    key: Mapped[str] = mapped_column(String(128), unique=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarRun(Base):
    """One row per calendar job and due time: the worker that inserts it runs the job.

    The unique (job, due_at) is the lease: several workers' clocks fire the same cron time,
    only the first INSERT succeeds, so monthly statements and the like go out once.
    """

    __tablename__ = "calendar_runs"
    __table_args__ = (UniqueConstraint("job", "due_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(48))
    due_at: Mapped[datetime]
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
