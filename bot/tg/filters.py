"""Async filters (aiogram runs sync callables in a thread pool: slow on hot routers)."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

from bot.services.people.actors import Actor


class HasRole(Filter):
    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: Message | CallbackQuery, actor: Actor | None = None) -> bool:
        return actor is not None and bool(actor.roles & self.roles)


class PrivateChat(Filter):
    async def __call__(self, event: Message | CallbackQuery, **_: Any) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type == "private"


class GroupChat(Filter):
    async def __call__(self, event: Message | CallbackQuery, **_: Any) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type in ("group", "supergroup")


class TypedText(Filter):
    """A typed answer inside a form: text that is not a command."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")
