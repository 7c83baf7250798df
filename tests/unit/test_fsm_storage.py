"""The database FSM store: one read per session, no-op writes skipped, one UPSERT per write.

Before: every ``set_state``/``set_data`` re-read the row and took its own write transaction,
so `/start` (``state.clear()`` = set_state + set_data) took SQLite's write lock twice even
when nothing changed, and a wish to its card took it twice more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.current import publish
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.tg.fsm_storage import SQLStorage, put


class Form(StatesGroup):
    one = State()
    two = State()


KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def writes(seen: list[str]) -> int:
    return sum(1 for s in seen if s.startswith(("INSERT", "UPDATE", "DELETE")))


async def test_state_and_data_round_trip_across_sessions(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    storage = SQLStorage(sessions)
    async with sessions() as session:
        with publish(session):
            assert await storage.get_state(KEY) is None
            assert await storage.get_data(KEY) == {}
            await storage.set_state(KEY, Form.one)
            await storage.set_data(KEY, {"draft": {"text": "水管漏了", "tags": [1, 2]}})
    async with sessions() as session:
        with publish(session):  # a later update: a fresh read, what was committed
            assert await storage.get_state(KEY) == Form.one.state
            assert await storage.get_data(KEY) == {"draft": {"text": "水管漏了", "tags": [1, 2]}}
    assert await storage.get_state(KEY) == Form.one.state  # outside an update: its own session


async def test_a_write_that_changes_nothing_is_skipped(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    storage = SQLStorage(sessions)
    async with sessions() as session:
        with publish(session), statements(engine) as seen:
            context = FSMContext(storage, KEY)
            assert await context.get_state() is None
            await context.clear()  # `/start` of someone in no form: nothing to write
            await context.set_data({})
            assert writes(seen) == 0, seen
            assert sum(1 for s in seen if s.startswith("SELECT")) == 1, seen  # read once


async def test_put_sets_state_and_data_in_one_write(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    storage = SQLStorage(sessions)
    async with sessions() as session:
        with publish(session), statements(engine) as seen:
            context = FSMContext(storage, KEY)
            await context.get_state()
            await put(context, Form.two, {"wish_id": 7})
            assert writes(seen) == 1, seen
            await put(context, Form.two, {"wish_id": 7})  # the same again: no write
            assert writes(seen) == 1, seen
            await put(context, Form.one, {"wish_id": 8})  # the row exists: one UPSERT again
            assert writes(seen) == 2, seen
    async with sessions() as session:
        with publish(session):
            assert await storage.get_state(KEY) == Form.one.state
            assert await storage.get_data(KEY) == {"wish_id": 8}


async def test_data_changed_in_place_by_a_handler_is_still_written(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    storage = SQLStorage(sessions)
    async with sessions() as session:
        with publish(session):
            await storage.set_data(KEY, {"skills": ["电脑"]})
            data = await storage.get_data(KEY)
            data["skills"].append("水电维修")  # what a toggle handler does before set_data
            await storage.set_data(KEY, data)
    async with sessions() as session:
        with publish(session):
            assert await storage.get_data(KEY) == {"skills": ["电脑", "水电维修"]}
