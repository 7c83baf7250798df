"""Reply helpers the staff points, rewards and convenor handlers share."""

from __future__ import annotations

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.services.errors import UserError


async def replace_card(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit the pressed message in place (a card with a photo has a caption, not a text)."""
    message = query.message
    if message is None:
        return
    if getattr(message, "photo", None):
        await message.edit_caption(caption=text[:1024], reply_markup=markup)  # type: ignore[union-attr]
    else:
        await message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]


def is_command(message: Message) -> bool:
    return (message.text or "").startswith("/")


async def command_in_form(message: Message, t: Translator) -> bool:
    """True (and the person told to finish the form first) when a command was typed in it."""
    if not is_command(message):
        return False
    await message.answer(t("points.form_in_progress"))
    return True


async def refuse(message: Message, t: Translator, err: UserError) -> None:
    await message.answer(t(err.key, **err.params))
