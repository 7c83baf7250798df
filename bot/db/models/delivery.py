"""The outbox every bursty message goes through, and staff broadcasts (群发).

An outbox row is one message to one recipient. It moves
pending → sending → delivered | blocked | invalid | failed | unknown | cancelled
(paused ↔ pending while its broadcast is paused); the terminal state is the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, utcnow

# Row states (String(16) in the table).
PENDING = "pending"
PAUSED = "paused"
SENDING = "sending"
DELIVERED = "delivered"
BLOCKED = "blocked"
INVALID = "invalid"
FAILED = "failed"
UNKNOWN = "unknown"
CANCELLED = "cancelled"
OPEN_STATES = (PENDING, PAUSED, SENDING)
TERMINAL_STATES = (DELIVERED, BLOCKED, INVALID, FAILED, UNKNOWN, CANCELLED)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # Enqueuing the same batch twice adds nobody twice.
        UniqueConstraint("batch_key", "recipient"),
        # The claim: the most urgent due rows first.
        Index("ix_outbox_claim", "status", "priority", "id"),
        # Progress of one batch and "is this batch finished?" without scanning it.
        Index("ix_outbox_batch_status", "batch_key", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_key: Mapped[str] = mapped_column(String(64))
    # "u<users.id>" or "c<chat id>": the uniqueness key inside a batch.
    recipient: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # a group chat (no user)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=10)  # lower = sooner
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries (5xx, network)
    not_before: Mapped[datetime | None]  # backoff / retry_after: not claimed before this
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]  # the lease; refreshed while the engine holds it
    # Committed just before the HTTP call: a crash after it means "maybe delivered".
    attempted_at: Mapped[datetime | None]
    sent_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


# Broadcast states.
BC_SENDING = "sending"
BC_PAUSED = "paused"
BC_CANCELLED = "cancelled"
BC_DONE = "done"


class Broadcast(Base):
    """A message staff sent to a segment; its recipients are the outbox rows ``bc:<id>``."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    # The segment (see bot.services.outreach.broadcasts.Segment), plus "draft": the composing token.
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=BC_SENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]  # set once, when the final report goes out

    @property
    def batch_key(self) -> str:
        return batch_key_of(self.id)


def batch_key_of(broadcast_id: int) -> str:
    return f"bc:{broadcast_id}"
