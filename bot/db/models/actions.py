"""Actions already done: one row per key, written in the same transaction as the effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class ProcessedAction(Base):
    """A button press or message that created, spent or sent something.

    The key (e.g. ``cb:<chat>:<message>:<callback data>``) is the primary key, so a double
    tap, a replayed update or a retry after a restart cannot do it twice; ``answer`` is what
    the first one was told, given again to the others.
    """

    __tablename__ = "processed_actions"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
