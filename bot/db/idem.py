"""Idempotency keys: an action's key is stored in the same transaction as its effect.

A handler *arms* a key on its session just before calling the service that acts; the
service's ``begin_write`` inserts the key as the first statement of its write transaction,
so the key and the effect commit together or not at all. A second press of the same button,
the same update delivered twice, or a retry after a restart finds the key (primary key, on
SQLite and PostgreSQL alike) and is refused with :class:`AlreadyDone` before anything else is
written; the handler then gives the answer stored for the first one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.actions import ProcessedAction

_ARMED = "wishbot_idem_key"
KEY_MAX = 200


class AlreadyDone(Exception):
    """The action with this key was already done (or is being done right now)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def callback_key(chat_id: int, message_id: int, data: str) -> str:
    """A button: the message it is on and what it says (a card has one effect per button)."""
    return f"cb:{chat_id}:{message_id}:{data}"[:KEY_MAX]


def message_key(chat_id: int, message_id: int) -> str:
    """A message that acts (a typed check-in code, say): its chat and message id."""
    return f"msg:{chat_id}:{message_id}"


def arm(session: AsyncSession, key: str, user_id: int | None) -> None:
    """The next write transaction on this session records ``key`` with its effect."""
    session.info[_ARMED] = (key, user_id)


def disarm(session: AsyncSession) -> None:
    session.info.pop(_ARMED, None)


async def insert_armed(session: AsyncSession) -> None:
    """Called by ``begin_write`` inside the new write transaction."""
    armed = session.info.pop(_ARMED, None)
    if armed is None:
        return
    key, user_id = armed
    try:
        await session.execute(insert(ProcessedAction).values(key=key, user_id=user_id))
    except IntegrityError:
        await session.rollback()
        raise AlreadyDone(key) from None


async def prior(session: AsyncSession, key: str) -> ProcessedAction | None:
    return await session.get(ProcessedAction, key)


async def remember(session: AsyncSession, key: str, answer: str) -> None:
    """Store what the first press was told, for the presses that follow."""
    from bot.db.tx import begin_write

    await begin_write(session)
    await session.execute(
        update(ProcessedAction).where(ProcessedAction.key == key).values(answer=answer)
    )
    await session.commit()


async def stored_answer(
    sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    key: str,
    *,
    wait_seconds: float = 5.0,
) -> str | None:
    """The first press's answer; waits (bounded) while the first press is still answering."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        async with sessions() as session:
            answer = await session.scalar(
                select(ProcessedAction.answer).where(ProcessedAction.key == key)
            )
        if answer is not None or loop.time() >= deadline:
            return answer
        await asyncio.sleep(0.05)
