"""aiogram FSM storage in our database: a half-filled form survives a restart.

With Redis configured, aiogram's RedisStorage is used instead (several bot processes).

Inside an update, the store uses the update's own session (``bot.db.current``): one
connection per update, whatever the handler does. Outside an update it opens a short one.

Cost per update: the row is read once per session (aiogram reads the state before every
handler) and remembered in ``session.info``; a write that changes nothing (``/start``
clearing a state that is already clear) is skipped; a write is one UPSERT in its own short
write transaction, and :func:`put` sets state and data together in one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.current import reuse_or_open
from bot.db.models import ConversationState
from bot.db.tx import begin_write
from bot.services.people import actors

_KNOWN = "wishbot_fsm_rows"  # session.info: storage key -> (state, data as JSON text)
_COLUMNS = ConversationState.__table__.c


def _upsert(insert: Any) -> Any:
    """Built once per dialect, with bound parameters: only the compiled form is reused."""
    stmt = insert(ConversationState).values(
        key=bindparam("key", type_=_COLUMNS.key.type),
        state=bindparam("state", type_=_COLUMNS.state.type),
        data=bindparam("data", type_=_COLUMNS.data.type),
        updated_at=bindparam("at", type_=_COLUMNS.updated_at.type),
    )
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[ConversationState.key],
        set_={"state": excluded.state, "data": excluded.data, "updated_at": excluded.updated_at},
    )


_READ = select(ConversationState.state, ConversationState.data).where(
    ConversationState.key == bindparam("key")
)
# The first state read of an update also reads the person behind it (one statement, not two):
# the update pump names them (read_person_too), the actor middleware finds the row ready.
_STATE_AND_PERSON = actors.ACTOR_BY_TELEGRAM_ID.add_columns(
    select(ConversationState.state)
    .where(ConversationState.key == bindparam("key"))
    .scalar_subquery()
    .label("fsm_state"),
    select(ConversationState.data)
    .where(ConversationState.key == bindparam("key"))
    .scalar_subquery()
    .label("fsm_data"),
)
_PERSON = "wishbot_fsm_person"  # session.info: the telegram id to read with the first state
_UPSERT = {False: _upsert(sqlite_insert), True: _upsert(pg_insert)}  # by "is PostgreSQL"


def _state_name(state: str | State | None) -> str | None:
    return state.state if isinstance(state, State) else state


def _as_json(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), sort_keys=True, ensure_ascii=False)


def read_person_too(session: AsyncSession, telegram_id: int) -> None:
    """The next state read in this session also reads this person's actor row."""
    session.info[_PERSON] = telegram_id


class SQLStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def _known(self, session: AsyncSession, name: str) -> tuple[str | None, str]:
        """The row as stored (state, data as JSON), read at most once per session."""
        known: dict[str, tuple[str | None, str]] = session.info.setdefault(_KNOWN, {})
        if name not in known and (person := session.info.pop(_PERSON, None)) is not None:
            both = (
                await session.execute(_STATE_AND_PERSON, {"telegram_id": person, "key": name})
            ).first()
            actors.read_ahead(session, person, both)
            if both is not None:  # unknown people: their state is read alone below
                known[name] = (both.fsm_state, _as_json(both.fsm_data or {}))
        if name not in known:
            row = (await session.execute(_READ, {"key": name})).first()
            known[name] = (row.state, _as_json(row.data or {})) if row else (None, "{}")
        return known[name]

    async def _write(
        self,
        session: AsyncSession,
        name: str,
        state: str | None,
        data: Mapping[str, Any] | None,
    ) -> None:
        """Store ``state`` and ``data`` (None: keep the stored one), unless nothing changes."""
        old_state, old_data = await self._known(session, name)
        new_data = old_data if data is None else _as_json(data)
        if (state, new_data) == (old_state, old_data):
            return
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        params = {"key": name, "state": state, "data": json.loads(new_data), "at": utcnow()}
        await begin_write(session)
        await session.execute(_UPSERT[dialect == "postgresql"], params)
        await session.commit()
        session.info[_KNOWN][name] = (state, new_data)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        async with reuse_or_open(self._sessions) as session:
            await self._write(session, self._keys.build(key), _state_name(state), None)

    async def get_state(self, key: StorageKey) -> str | None:
        async with reuse_or_open(self._sessions) as session:
            return (await self._known(session, self._keys.build(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with reuse_or_open(self._sessions) as session:
            name = self._keys.build(key)
            state, _ = await self._known(session, name)
            await self._write(session, name, state, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with reuse_or_open(self._sessions) as session:
            _, data = await self._known(session, self._keys.build(key))
            loaded: dict[str, Any] = json.loads(data)
            return loaded

    async def set_state_and_data(
        self, key: StorageKey, state: str | State | None, data: Mapping[str, Any]
    ) -> None:
        async with reuse_or_open(self._sessions) as session:
            await self._write(session, self._keys.build(key), _state_name(state), data)

    async def close(self) -> None:
        return None


async def put(context: FSMContext, state: str | State | None, data: Mapping[str, Any]) -> None:
    """Set a conversation's state and data together (one write with the SQL storage)."""
    if isinstance(context.storage, SQLStorage):
        await context.storage.set_state_and_data(context.key, state, data)
        return
    await context.set_state(state)
    await context.set_data(data)
