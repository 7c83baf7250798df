"""A command typed at any prompt is handled as that command, never stored as free text.

For every state of every StatesGroup in the code and every command the bot handles in a
private chat, the message goes through the bot's command check (bot/tg/authz.py) and then
the real routers' filters, in the dispatcher's order, as in a live update: the handler
chosen must be the one chosen for the same command with no prompt waiting. (Without the
check, after rating ``/mywishes`` went to the rating-comment handler.) The rating and the
dispute cases are also driven end to end in test_authz_holes.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message, MessageEntity
from aiogram.types import User as TgUser

from bot.demo.stage import Person, Stage
from bot.i18n import Translator
from bot.services.people import actors
from bot.tg import authz, policy
from bot.tg.router_index import RouterIndex
from tests.e2e.seed import resident, volunteer

pytestmark = pytest.mark.e2e


def all_states() -> list[State]:
    import handlers

    for router in handlers.routers():  # imports every handler module
        assert router is not None
    found: list[State] = []
    pending: list[type[StatesGroup]] = list(StatesGroup.__subclasses__())
    while pending:
        group = pending.pop()
        pending.extend(group.__subclasses__())
        found.extend(group.__all_states__)
    return sorted(found, key=lambda s: str(s.state))


def private_commands() -> list[str]:
    return sorted(name for name, rule in policy.COMMANDS.items() if "private" in rule.where)


async def chosen(
    dp: Dispatcher, message: Message, data: dict[str, Any], raw_state: str | None
) -> Any:
    """The handler the dispatcher would run for the message (after the command check)."""

    async def resolve(event: Any, kwargs: dict[str, Any]) -> Any:
        (index,) = dp.sub_routers  # the routers the index offers this message to, in order
        assert isinstance(index, RouterIndex)
        for router in index.candidates("message", event, kwargs.get("raw_state")):
            ok, _ = await router.message._handler.check(event, **kwargs)
            if not ok:
                continue
            for handler in router.message.handlers:
                ok, _ = await handler.check(event, **kwargs)
                if ok:
                    return handler.callback
        return None

    middleware = authz.CommandAuthz(data["app"])
    return await middleware(resolve, message, {**data, "raw_state": raw_state})


def command_message(person: Person, name: str) -> Message:
    text = f"/{name}"
    user = TgUser(id=person.id, is_bot=False, first_name=person.user.first_name)
    return Message(
        message_id=1,
        date=datetime(2026, 11, 20, tzinfo=UTC),
        chat=Chat(id=person.id, type="private", first_name=person.user.first_name),
        from_user=user,
        text=text,
        entities=[MessageEntity(type="bot_command", offset=0, length=len(text))],
    )


async def test_every_command_in_every_state_is_that_command(stage: Stage, admin: Person) -> None:
    await admin.say("/start")
    # Staff, resident and volunteer at once: every command is theirs to send.
    await resident(stage, admin)
    await volunteer(stage, admin)
    async with stage.app.sessions() as session:
        user, _ = await actors.touch_user(session, admin.id, admin.user.first_name, "zh-CN")
        actor = actors.actor_of(user)
    assert {"resident", "volunteer", "staff"} <= actor.roles
    assert stage.runner is not None and stage.runner.dp is not None
    dp, bot = stage.runner.dp, stage.runner.bot
    data = {
        "actor": actor,
        "bot": bot,
        "app": stage.app,
        "t": Translator("zh-CN"),
        "event_from_user": None,
        "event_chat": None,
    }
    states = all_states()
    assert len(states) > 30  # every StatesGroup in handlers/ was found
    wrong: list[str] = []
    for name in private_commands():
        message = command_message(admin, name)
        expected = await chosen(dp, message, data, None)
        assert expected is not None, name
        for state in states:
            got = await chosen(dp, message, data, state.state)
            if got is not expected:
                wrong.append(f"/{name} in {state.state}: {getattr(got, '__name__', got)}")
    assert wrong == []
