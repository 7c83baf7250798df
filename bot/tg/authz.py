"""Enforces bot/tg/policy.py before any handler: refuse kindly, change nothing.

Buttons: unknown or malformed callback data, numbers out of range, and an ``arg`` the rule
does not allow are refused like forged data. In a group, a button counts only if it is on
the bot's message that was pressed. Commands: one addressed to another bot
(``/cmd@otherbot``) is not ours and is ignored; a command typed in a group that the policy
does not place there is ignored too (the bot stays quiet in groups). In a private chat a
command of ours is always handled as that command, whatever prompt is waiting: free-text
handlers of a waiting state never see it (the state itself is kept, or left by the command).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.i18n import Translator
from bot.services import authz as own
from bot.services.context import AppContext
from bot.services.people.actors import Actor
from bot.tg import policy

log = logging.getLogger(__name__)
FORGED = "authz.forged"


def install(dp: Dispatcher, app: AppContext) -> None:
    """Register the checks on a dispatcher (after the session and actor middlewares)."""
    dp.callback_query.outer_middleware(CallbackAuthz(app))
    dp.message.outer_middleware(CommandAuthz(app))


def roles_of(actor: Actor | None) -> frozenset[str]:
    if actor is None or not actor.roles:
        return frozenset({policy.STRANGER})
    return actor.roles


def _where(chat_type: str | None) -> str | None:
    if chat_type == "private":
        return "private"
    if chat_type in ("group", "supergroup"):
        return "group"
    return None


def on_message(query: CallbackQuery) -> bool:
    """The pressed data is on one of the message's own buttons (not forged)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    keyboard = getattr(message.reply_markup, "inline_keyboard", None) or []
    return any(button.callback_data == query.data for row in keyboard for button in row)


def parse_callback(data: str) -> tuple[Any, policy.Rule] | None:
    """The unpacked callback and its rule, or None when the data is forged or has no rule."""
    prefix = data.split(":", 1)[0]
    cls = policy.CALLBACK_CLASSES.get(prefix)
    if cls is None:
        return None
    try:
        unpacked = cls.unpack(data)
    except (ValueError, TypeError):
        return None
    for name in type(unpacked).model_fields:
        value = getattr(unpacked, name)
        is_number = isinstance(value, int) and not isinstance(value, bool)
        if is_number and not 0 <= value <= policy.MAX_INT:
            return None
    action = getattr(unpacked, "action", None)
    rule = policy.callback_rule(prefix, action if isinstance(action, str) else None)
    if rule is None:
        return None
    if rule.arg is not None and not re.fullmatch(rule.arg, str(getattr(unpacked, "arg", ""))):
        return None
    return unpacked, rule


async def check_callback(
    query: CallbackQuery, actor: Actor | None, data: dict[str, Any]
) -> str | None:
    """None when the press may go on; else the locale key of the refusal."""
    parsed = parse_callback(query.data or "")
    if parsed is None:
        return FORGED
    unpacked, rule = parsed
    message = query.message
    where = _where(message.chat.type if message is not None else None)
    if where is None or where not in rule.where:
        return "authz.wrong_chat"
    if where == "group" and not on_message(query):
        return FORGED
    if not roles_of(actor) & rule.roles:
        return rule.deny
    if rule.owner in own.SUBJECT_FIELDS:
        subject_id = getattr(unpacked, own.SUBJECT_FIELDS[rule.owner], None)
        if actor is None or not isinstance(subject_id, int):
            return rule.deny
        if not await own.owns_suggestion(data["session"], rule.owner, actor.user_id, subject_id):
            return rule.deny
        return None
    if rule.owner is not None:
        wish_id = getattr(unpacked, "wish_id", None)
        if actor is None or not isinstance(wish_id, int):
            return rule.deny
        assert message is not None
        if not await own.owns(
            data["session"],
            rule.owner,
            actor.user_id,
            wish_id,
            chat_id=message.chat.id if where == "group" else actor.user_id,
            message_id=message.message_id,
        ):
            return rule.deny
    return None


class CallbackAuthz(BaseMiddleware):
    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, CallbackQuery)
        actor: Actor | None = data.get("actor")
        refusal = await check_callback(event, actor, data)
        if refusal is None:
            return await handler(event, data)
        t: Translator = data.get("t") or Translator(self.app.settings.community.default_language)
        log.info(
            "refused press %r by user=%s: %s",
            event.data,
            actor.user_id if actor else None,
            refusal,
        )
        await event.answer(t(refusal), show_alert=True)
        return None


def command_of(message: Message) -> tuple[str, str | None] | None:
    """(name, @mention) of a leading bot command, else None."""
    text = message.text or message.caption or ""
    entities = message.entities if message.text else message.caption_entities
    if not text.startswith("/") or not entities:
        return None
    first = entities[0]
    if first.type != "bot_command" or first.offset != 0:
        return None
    word = text[1 : first.length]
    name, _, mention = word.partition("@")
    return name.lower(), mention or None


class CommandAuthz(BaseMiddleware):
    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Message)
        command = command_of(event)
        if command is None:
            return await handler(event, data)
        name, mention = command
        if mention is not None:
            bot: Bot = data["bot"]
            me = await bot.me()
            if mention.lower() != (me.username or "").lower():
                return None  # addressed to another bot: not ours
        where = _where(event.chat.type)
        rule = policy.COMMANDS.get(name)
        if where == "private" and rule is not None:
            # A command is a command, never the free text a waiting prompt asked for. (An
            # unknown /word is left to the prompt, which may refuse it kindly as content.)
            data["raw_state"] = None
        if rule is None:
            return await handler(event, data) if where == "private" else None
        if where is None or where not in rule.where:
            if where == "group":
                return None
            key = "authz.group_only" if "private" not in rule.where else "authz.wrong_chat"
            return await self._refuse(event, data, key)
        actor: Actor | None = data.get("actor")
        if not roles_of(actor) & rule.roles:
            return await self._refuse(event, data, rule.deny)
        return await handler(event, data)

    async def _refuse(self, message: Message, data: dict[str, Any], key: str) -> None:
        t: Translator = data.get("t") or Translator(self.app.settings.community.default_language)
        if message.chat.type == "private":
            await message.answer(t(key))
        else:
            await message.reply(t(key))
