"""Outer middleware that binds the update's context (update, person, wish) for log lines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot import logs

# Callback prefixes whose second field is a wish id ("w:view:12", "t:claim:12:", "st:why:12").
_WISH_PREFIXES = ("w:", "t:", "st:")


def wish_of(update: Update) -> int | None:
    data = update.callback_query.data if update.callback_query else None
    if not data or not data.startswith(_WISH_PREFIXES):
        return None
    parts = data.split(":")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None


class LogContextMiddleware(BaseMiddleware):
    """Runs after the actor is known; the internal user id, never the Telegram id, is logged."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        logs.clear()  # a task may be reused by the pump: start clean
        if isinstance(event, Update):
            actor = data.get("actor")
            logs.bind(
                update=event.update_id,
                user=actor.user_id if actor is not None else None,
                wish=wish_of(event),
            )
        return await handler(event, data)
