"""A pressed button whose object has changed state redraws its card to the current state.

Cards stay in chats for days. When a button on one no longer matches what the object allows
(the wish was closed, the task reassigned, the review done by a colleague), the press does
not act: the card is edited to what it is now (buttons gone or replaced) and the presser is
told in a pop-up. "Matches" is literal: the pressed callback data must be among the buttons
the card would have if it were drawn now.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.tg.render import Rendered

log = logging.getLogger(__name__)
CAPTION_MAX = 1024


def button_data(markup: InlineKeyboardMarkup | None) -> set[str]:
    if markup is None:
        return set()
    return {b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data}


def is_current(query: CallbackQuery, card: Rendered | None) -> bool:
    """Would the card, drawn now, still carry the button that was pressed?"""
    return card is not None and query.data in button_data(card.markup)


async def redraw(query: CallbackQuery, card: Rendered | None, notice: str) -> None:
    """Edit the pressed card to `card` (its current state) and tell the presser why."""
    message = query.message
    if card is not None and isinstance(message, Message):
        try:
            if message.photo or message.caption is not None:
                await message.edit_caption(
                    caption=card.text[:CAPTION_MAX], reply_markup=card.markup
                )
            else:
                await message.edit_text(card.text, reply_markup=card.markup)
        except TelegramBadRequest as err:  # unchanged, or too old to edit: the pop-up says it
            log.info("stale card %s not redrawn: %s", message.message_id, err.message)
    await query.answer(notice, show_alert=True)
