"""The Telegram implementation of the services' Notifier."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import Message

from bot.db.models import User
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.forres import filing
from bot.services.notices import Notice, SentRef
from bot.services.people import actors
from bot.tg import forres_cards  # noqa: F401  (the filer's renderer, wherever this notifies)
from bot.tg.render import Rendered, render

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 30


class TelegramNotifier:
    def __init__(self, bot: Bot, app: AppContext) -> None:
        self.bot = bot
        self.app = app

    async def notify(self, user_id: int, notice: Notice) -> SentRef | None:
        async with self.app.sessions() as session:
            user = await session.get(User, user_id)
            if user is not None and user.telegram_id is None:
                # A resident without Telegram: whoever filed for them (代办) stands in.
                stand_in = await filing.stand_in(session, user_id, notice)
                if stand_in is not None:
                    relayed = filing.relayed(user_id, notice)
                    await session.commit()
                    return await self.notify(stand_in, relayed)
            if user is None or user.telegram_id is None or user.is_blocked:
                return None
            rendered = await render(session, self.app, Translator(user.language), notice)
            chat_id = user.telegram_id
        if rendered is None:
            return None
        message = await self._send(chat_id, rendered, notice, user_id=user_id)
        return SentRef(chat_id, message.message_id) if message else None

    async def notify_chat(self, chat_id: int, notice: Notice) -> SentRef | None:
        async with self.app.sessions() as session:
            t = Translator(self.app.settings.community.default_language)
            rendered = await render(session, self.app, t, notice)
        if rendered is None:
            return None
        message = await self._send(chat_id, rendered, notice)
        return SentRef(chat_id, message.message_id) if message else None

    async def edit(self, ref: SentRef, notice: Notice, lang: str | None = None) -> bool:
        async with self.app.sessions() as session:
            t = Translator(lang or self.app.settings.community.default_language)
            rendered = await render(session, self.app, t, notice)
        if rendered is None:
            return False
        try:
            if rendered.photo:
                await self.bot.edit_message_caption(
                    chat_id=ref.chat_id,
                    message_id=ref.message_id,
                    caption=rendered.text,
                    reply_markup=rendered.markup,
                )
            else:
                await self.bot.edit_message_text(
                    text=rendered.text,
                    chat_id=ref.chat_id,
                    message_id=ref.message_id,
                    reply_markup=rendered.markup,
                )
            return True
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return True
            log.warning(
                "edit failed chat=%s message=%s: %s", ref.chat_id, ref.message_id, exc.message
            )
            return False
        except (TelegramForbiddenError, TelegramNetworkError) as exc:
            log.warning("edit failed chat=%s message=%s: %s", ref.chat_id, ref.message_id, exc)
            return False

    async def _send(
        self, chat_id: int, rendered: Rendered, notice: Notice, user_id: int | None = None
    ) -> Message | None:
        for attempt in range(3):
            try:
                if rendered.photo:
                    return await self.bot.send_photo(
                        chat_id,
                        rendered.photo,
                        caption=rendered.text[:1024],
                        reply_markup=rendered.markup,
                    )
                return await self.bot.send_message(
                    chat_id, rendered.text, reply_markup=rendered.markup
                )
            except TelegramRetryAfter as exc:
                await asyncio.sleep(min(exc.retry_after, MAX_RETRY_AFTER))
            except TelegramForbiddenError:
                log.info("user blocked the bot: user=%s notice=%s", user_id, notice.kind)
                if user_id is not None:
                    async with self.app.sessions() as session:
                        await actors.mark_blocked(session, user_id)
                return None
            except TelegramBadRequest as exc:
                log.warning(
                    "send refused: chat=%s notice=%s: %s", chat_id, notice.kind, exc.message
                )
                return None
            except TelegramNetworkError as exc:
                log.warning("send failed (attempt %s): chat=%s: %s", attempt + 1, chat_id, exc)
                await asyncio.sleep(0.5 * (attempt + 1))
        return None
