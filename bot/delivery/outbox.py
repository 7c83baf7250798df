"""Putting messages in the outbox: the one way to send something that can burst.

The delivery engine (bot/delivery/engine.py) sends what is here at the bot token's rate, in
priority order, and records each recipient's terminal state. Nothing here talks to Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.delivery import OutboxMessage
from bot.services.context import AppContext
from bot.services.notices import Notice

INTERACTIVE = 0  # offers, reminders, replies: 0–5
BULK = 10  # broadcasts and other mass sends: 10 and above
# Rows per INSERT: well under SQLite's 32,766 bound parameters at 9 columns a row.
INSERT_CHUNK = 1000

BatchDoneHook = Callable[[AppContext, str], Awaitable[None]]
_BATCH_DONE_HOOKS: dict[str, BatchDoneHook] = {}


def recipient_key(*, user_id: int | None = None, chat_id: int | None = None) -> str:
    if user_id is not None:
        return f"u{user_id}"
    if chat_id is not None:
        return f"c{chat_id}"
    raise ValueError("a recipient needs a user id or a chat id")


async def enqueue(
    session: AsyncSession,
    *,
    notice: Notice,
    user_ids: Sequence[int] = (),
    chat_ids: Sequence[int] = (),
    batch_key: str,
    priority: int = BULK,
) -> int:
    """Add one outbox row per recipient; returns how many rows were added.

    Idempotent on (batch_key, recipient): enqueuing the same batch again adds nobody twice.
    ``user_ids`` are our users.id (rendered in each person's language at send time);
    ``chat_ids`` are group chats (the community's default language). The caller owns the
    transaction: it should be a write one (``bot.db.tx.begin_write``) and the caller commits.
    """
    if len(batch_key) > 64:
        raise ValueError("batch_key is at most 64 characters")
    rows = [
        {"recipient": recipient_key(user_id=uid), "user_id": uid, "chat_id": None}
        for uid in dict.fromkeys(user_ids)
    ] + [
        {"recipient": recipient_key(chat_id=cid), "user_id": None, "chat_id": cid}
        for cid in dict.fromkeys(chat_ids)
    ]
    if not rows:
        return 0
    existing = set(
        await session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.batch_key == batch_key)
        )
    )
    fresh = [row for row in rows if row["recipient"] not in existing]
    added = 0
    for start in range(0, len(fresh), INSERT_CHUNK):
        chunk = [
            {
                **row,
                "batch_key": batch_key,
                "kind": notice.kind,
                "params": notice.params,
                "priority": priority,
                "status": "pending",
                "attempts": 0,
            }
            for row in fresh[start : start + INSERT_CHUNK]
        ]
        # ON CONFLICT DO NOTHING: a concurrent enqueue of the same batch cannot fail this one.
        stmt = _insert_ignoring_duplicates(session).returning(OutboxMessage.id)
        added += len((await session.execute(stmt, chunk)).all())
    return added


def _insert_ignoring_duplicates(session: AsyncSession) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["batch_key", "recipient"]
        )
    return sqlite.insert(OutboxMessage).on_conflict_do_nothing(
        index_elements=["batch_key", "recipient"]
    )


async def batch_counts(session: AsyncSession, batch_key: str) -> dict[str, int]:
    """Rows of a batch by status."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.batch_key == batch_key)
        .group_by(OutboxMessage.status)
    )
    return {str(status): int(count) for status, count in rows.all()}


def on_batch_done(prefix: str) -> Callable[[BatchDoneHook], BatchDoneHook]:
    """Register ``hook(app, batch_key)``: the engine calls it once every row of a batch whose
    key starts with ``prefix`` is terminal (it may call it again; hooks are idempotent)."""

    def register(fn: BatchDoneHook) -> BatchDoneHook:
        _BATCH_DONE_HOOKS[prefix] = fn
        return fn

    return register


def batch_done_hooks(batch_key: str) -> Iterable[BatchDoneHook]:
    return [hook for prefix, hook in _BATCH_DONE_HOOKS.items() if batch_key.startswith(prefix)]
