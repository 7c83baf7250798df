"""The router index (bot/tg/router_index.py) never changes which handler takes an event.

For every button of the authorization policy and every private command, plus plain text, in
every conversation state, the handler chosen through the index is the one chosen by walking
all routers in order, as aiogram does without it; and the index does skip routers.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity
from aiogram.types import User as TgUser

from bot.config import Settings
from bot.services.context import AppContext
from bot.services.people.actors import Actor
from bot.tg import policy
from bot.tg.dispatcher import build_dispatcher
from bot.tg.router_index import RouterIndex
from tests.e2e.test_authz_matrix import sample
from tests.e2e.test_commands_in_states import all_states

BOT = Bot(token="123456:TEST-not-a-real-one")  # never called: no command names another bot
USER = TgUser(id=42, is_bot=False, first_name="测试")
WHEN = datetime(2026, 11, 20, tzinfo=UTC)
ACTOR = Actor(
    user_id=1,
    telegram_id=42,
    language="zh-CN",
    display_name="测试",
    roles=frozenset({"resident", "volunteer", "staff", "admin"}),
    grid_id=1,
    staff_grid_id=None,
)


@pytest.fixture(scope="module")
def dp() -> Dispatcher:
    app = AppContext(settings=Settings(), sessions=None, notifier=None)  # type: ignore[arg-type]
    return build_dispatcher(app, MemoryStorage())


def _index(dp: Dispatcher) -> RouterIndex:
    (index,) = dp.sub_routers
    assert isinstance(index, RouterIndex)
    return index


async def _first(routers: list[Router], kind: str, event: Any, data: dict[str, Any]) -> Any:
    for router in routers:
        observer = router.observers[kind]
        ok, _ = await observer._handler.check(event, **data)
        if not ok:
            continue
        for handler in observer.handlers:
            ok, _ = await handler.check(event, **data)
            if ok:
                return handler.callback
    return None


def _message(text: str, chat_type: str = "private") -> Message:
    entities = None
    if text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    chat = Chat(id=-100 if chat_type != "private" else 42, type=chat_type, title="群")
    return Message(message_id=7, date=WHEN, chat=chat, from_user=USER, text=text, entities=entities)


def _press(data: str, chat_type: str) -> CallbackQuery:
    return CallbackQuery(
        id="q",
        from_user=USER,
        chat_instance="1",
        data=data,
        message=_message("card", chat_type),
    )


@functools.cache
def _states(every: int = 1) -> tuple[str | None, ...]:
    """No state, a state no router knows, and the code's states (every ``every``-th)."""
    return (None, "Gone:state", *(s.state for s in all_states()[::every]))


async def _same(dp: Dispatcher, kind: str, event: Any, state: str | None) -> bool:
    index = _index(dp)
    data = {"actor": ACTOR, "raw_state": state, "event_from_user": USER, "bot": BOT}
    flat = await _first(list(index.sub_routers), kind, event, data)
    narrowed = await _first(index.candidates(kind, event, state), kind, event, data)
    return flat is narrowed


async def test_every_button_in_every_state_reaches_the_same_handler(dp: Dispatcher) -> None:
    wrong = []
    for prefix, action in policy.CALLBACKS:
        # A button's gate does not read the state: every sixth state is enough.
        for chat_type, states in (("private", _states(6)), ("supergroup", (None,))):
            press = _press(sample(prefix, action, wish_id=3, suggestion_id=3), chat_type)
            for state in states:
                if not await _same(dp, "callback_query", press, state):
                    wrong.append((press.data, chat_type, state))
    assert not wrong, wrong[:10]


async def test_every_command_and_text_in_every_state_reaches_the_same_handler(
    dp: Dispatcher,
) -> None:
    texts = [(t, _states()) for t in ("厨房水龙头坏了", "", "/start", "/mywishes")]
    texts += [(f"/{name}", _states(6)) for name in policy.COMMANDS]  # gated by the "/"
    wrong = []
    for text, private_states in texts:
        for chat_type, states in (("private", private_states), ("supergroup", (None,))):
            message = _message(text or "📷", chat_type)
            for state in states:
                if not await _same(dp, "message", message, state):
                    wrong.append((text, chat_type, state))
    assert not wrong, wrong[:10]


def test_the_index_skips_routers(dp: Dispatcher) -> None:
    index = _index(dp)
    every = list(index.sub_routers)
    claim = _press(sample("t", "claim", wish_id=3), "supergroup")
    wish_text = _message("厨房水龙头坏了")
    for kind, event in (("callback_query", claim), ("message", wish_text)):
        chosen = index.candidates(kind, event, None)
        assert len(chosen) <= len(every) // 4, [r.name for r in chosen]
        assert [r for r in every if r in chosen] == chosen  # aiogram's order kept
