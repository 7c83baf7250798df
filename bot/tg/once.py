"""Handler side of idempotent actions (see bot.db.idem): replay the first answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import idem
from bot.i18n import Translator
from bot.services.context import AppContext

log = logging.getLogger(__name__)


# Callback data of the keyed actions (their handlers arm a key). Only these presses are
# looked up before routing, so every other button costs nothing extra.
KEYED = (
    "w:ok:",  # confirm a wish
    "t:claim:",  # claim
    "sh:buy:",  # redeem
    "ev:join:",  # sign up (private card or group post)
    "df:send",  # declare
    "adj:ok:",  # adjust points
    "st:",  # verify, settle a dispute
    "evf:go:yes",  # publish an event
    "bcf:ok:send",  # send a broadcast
    "sgd:as",  # file a message as a suggestion (社情民意)
    "fr:ok:",  # file a wish for a resident (代办)
    "fr:conf:",  # confirm a finished task with the resident in person
    "ptf:go:yes",  # publish a patrol shift
    "pof:go:yes",  # create a standing post
    "cvb:all:",  # approve a convenor's batch (issue 13, lists)
    "cvb:ok:",  # approve one item of it
)


def keyed(data: str | None) -> bool:
    return bool(data) and str(data).startswith(KEYED) and not str(data).startswith("st:why:")


def key_of(event: CallbackQuery | Message, *, suffix: str = "") -> str:
    """The key of a button press (its message and data) or of a message (its id)."""
    if isinstance(event, CallbackQuery):
        message = event.message
        chat_id = message.chat.id if message is not None else event.from_user.id
        message_id = message.message_id if message is not None else 0
        # The presser is part of it: a group post is pressed by many people, once each.
        data = f"{event.from_user.id}:{event.data or ''}{suffix}"
        return idem.callback_key(chat_id, message_id, data)
    return idem.message_key(event.chat.id, event.message_id) + suffix


async def tell(event: CallbackQuery | Message, text: str) -> None:
    """The answer again: a toast for a button (no new message), a reply for a message."""
    if isinstance(event, CallbackQuery):
        try:
            await event.answer(text[:200], show_alert=len(text) > 60)
        except TelegramBadRequest:
            # The same update delivered again: its query was answered the first time.
            log.info("query %s already answered; the first answer stands", event.id)
    else:
        await event.answer(text)


async def answer_again(
    event: CallbackQuery | Message, app: AppContext, t: Translator, key: str
) -> None:
    answer = await idem.stored_answer(app.sessions, key)
    await tell(event, answer or t("once.already_done"))


async def replayed(
    event: CallbackQuery | Message,
    session: AsyncSession,
    app: AppContext,
    t: Translator,
    key: str,
) -> bool:
    """True (and the first answer given again) when this action was already done."""
    if await idem.prior(session, key) is None:
        return False
    if session.in_transaction():
        await session.commit()  # end the read before waiting on the first press's answer
    await answer_again(event, app, t, key)
    return True


def arm(session: AsyncSession, key: str, user_id: int) -> None:
    if key.startswith("cb:") and not keyed(key.split(":", 4)[-1]):
        # A press the ReplayMiddleware would not look up: add its data to KEYED.
        raise ValueError(f"callback key {key!r} is not listed in once.KEYED")
    idem.arm(session, key, user_id)


async def remember(session: AsyncSession, key: str, answer: str) -> None:
    await idem.remember(session, key, answer)


async def start(
    event: CallbackQuery | Message,
    session: AsyncSession,
    app: AppContext,
    t: Translator,
    user_id: int,
) -> str | None:
    """Arm the key of this message (or press); None when it was already done (the first
    answer is given again). The caller does the action and remembers its answer."""
    key = key_of(event)
    if await replayed(event, session, app, t, key):
        return None
    arm(session, key, user_id)
    return key


class ReplayMiddleware(BaseMiddleware):
    """A press whose action was already done gets the first answer before any handler runs.

    Runs ahead of the routers on purpose: the first press usually ends a form, so the second
    would otherwise reach a "stale button" handler and hear something different.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session: AsyncSession | None = data.get("session")
        if not isinstance(event, CallbackQuery) or session is None or not keyed(event.data):
            return await handler(event, data)
        t: Translator = data["t"]
        if await replayed(event, session, data["app"], t, key_of(event)):
            return None
        return await handler(event, data)
