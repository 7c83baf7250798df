"""Outer middlewares: one DB session per update, then the acting person, roles and language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from bot.db.current import publish, update_session
from bot.i18n import Translator, normalize_language
from bot.services.context import AppContext
from bot.services.people import actors


class SessionMiddleware(BaseMiddleware):
    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["app"] = self.app
        current = update_session()
        if current is not None:  # the update pump opened it (before the FSM read the state)
            data["session"] = current
            return await handler(event, data)
        async with self.app.sessions() as session:
            data["session"] = session
            with publish(session):
                return await handler(event, data)


def _group_chatter(event: TelegramObject) -> bool:
    """Ordinary talk in a group is none of our business: we don't even record who spoke."""
    if not isinstance(event, Update) or event.message is None:
        return False
    message = event.message
    return message.chat.type in ("group", "supergroup") and not (message.text or "").startswith("/")


def _in_private(event: TelegramObject) -> bool:
    """A private chat's message or button (or anything not in a chat)."""
    if not isinstance(event, Update):
        return True
    message = event.message
    if message is None and event.callback_query is not None:
        message = event.callback_query.message  # type: ignore[assignment]
    return message is None or message.chat.type == "private"


class ActorMiddleware(BaseMiddleware):
    """Resolves the user once per update; handlers get ``actor`` and a translator ``t``."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot or _group_chatter(event):
            data["actor"] = None
            data["t"] = Translator(self.app.settings.community.default_language)
            return await handler(event, data)
        session = data["session"]
        actor = await actors.touch_actor(
            session,
            tg_user.id,
            tg_user.full_name,
            normalize_language(tg_user.language_code),
            rename_later=True,
        )
        data["actor"] = actor
        data["t"] = Translator(actor.language)
        result = await handler(event, data)
        if _in_private(event):
            await actors.store_rename(session)  # a new Telegram name, after the answer
        else:
            # A press on a group post comes in a burst (fifty volunteers on one Claim): its
            # rename would queue fifty writes behind the claim; the next private update does it.
            actors.forget_rename(session)
        return result
