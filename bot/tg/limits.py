"""Everything that leaves is bounded: Telegram's length limits, applied on the way out.

One request middleware on the Bot session sees every call (handlers, notifier, delivery
engine): a message over 4,096 characters is split at line breaks (the whole must be read; the
buttons stay on the last part), an edited text is cut with "…" (one message cannot become
two), a caption is cut at 1,024, a callback toast at 200. Telegram counts UTF-16 code units.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import AnswerCallbackQuery, EditMessageText, Response, SendMessage
from aiogram.methods.base import TelegramMethod, TelegramType

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOAST = 200
ELLIPSIS = "…"


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji may be two)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix(text: str, limit: int) -> str:
    """The longest prefix of at most ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def cut(text: str, limit: int) -> str:
    """``text`` if it fits, else its start and "…", together at most ``limit`` units."""
    if units(text) <= limit:
        return text
    return _prefix(text, limit - 1).rstrip() + ELLIPSIS


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most ``limit`` units, cut at a line break where one is near the end."""
    parts: list[str] = []
    rest = text
    while units(rest) > limit:
        head = _prefix(rest, limit)
        newline = head.rfind("\n")
        if newline > len(head) // 2:
            head = head[:newline]
        parts.append(head)
        rest = rest[len(head) :].lstrip("\n")
    parts.append(rest)
    return parts


class OutgoingLimits(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        update: dict[str, Any] = {}
        if isinstance(method, SendMessage) and units(method.text) > MAX_TEXT:
            parts = split(method.text)
            log.info("message of %d characters sent in %d parts", len(method.text), len(parts))
            for part in parts[:-1]:
                head = {"text": part, "reply_markup": None, "entities": None}
                await make_request(bot, method.model_copy(update=head))  # type: ignore[arg-type]
            update = {"text": parts[-1], "entities": None, "reply_parameters": None}
        elif isinstance(method, EditMessageText) and units(method.text or "") > MAX_TEXT:
            update = {"text": cut(method.text or "", MAX_TEXT), "entities": None}
        elif isinstance(method, AnswerCallbackQuery) and units(method.text or "") > MAX_TOAST:
            update = {"text": cut(method.text or "", MAX_TOAST)}
        caption = getattr(method, "caption", None)
        if isinstance(caption, str) and units(caption) > MAX_CAPTION:
            update.update(caption=cut(caption, MAX_CAPTION), caption_entities=None)
        if update:
            method = method.model_copy(update=update)
        return await make_request(bot, method)
