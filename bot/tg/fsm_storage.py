"""aiogram FSM storage in our database: a half-filled form survives a restart.

With Redis configured, aiogram's RedisStorage is used instead (several bot processes).

Inside an update, the store uses the update's own session (``bot.db.current``): one
connection per update, whatever the handler does. Outside an update it opens a short one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.current import reuse_or_open
from bot.db.models import ConversationState
from bot.db.tx import begin_write


class SQLStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def _row(self, session: AsyncSession, key: StorageKey) -> ConversationState:
        await begin_write(session)
        name = self._keys.build(key)
        row = await session.get(ConversationState, name)
        if row is None:
            row = ConversationState(key=name, state=None, data={})
            session.add(row)
        return row

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with reuse_or_open(self._sessions) as session:
            row = await self._row(session, key)
            row.state = value
            await session.commit()

    async def get_state(self, key: StorageKey) -> str | None:
        async with reuse_or_open(self._sessions) as session:
            row = await session.get(ConversationState, self._keys.build(key))
            return row.state if row is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with reuse_or_open(self._sessions) as session:
            row = await self._row(session, key)
            row.data = dict(data)
            await session.commit()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with reuse_or_open(self._sessions) as session:
            row = await session.get(ConversationState, self._keys.build(key))
            return dict(row.data) if row is not None else {}

    async def close(self) -> None:
        return None
