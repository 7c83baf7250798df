"""Staff broadcasts (群发): /broadcasts follows the recent ones and pauses, resumes or cancels
them. Composing is in handlers/staff/broadcasts.py."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import broadcasts
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.tg import broadcast_cards as cards
from bot.tg.callbacks_broadcast import BroadcastCb
from bot.tg.filters import HasRole, PrivateChat


def router() -> Router:
    r = Router(name="staff.broadcast_progress")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.message.register(show_recent, Command("broadcasts"))
    r.callback_query.register(control_pressed, BroadcastCb.filter())
    return r


async def show_recent(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    recent = await broadcasts.recent(session, actor.user_id)
    if not recent:
        await message.answer(t("broadcast.none"))
        return
    for item in reversed(recent):  # oldest first, the newest ends up at the bottom
        await message.answer(
            await cards.progress_card(t, app, session, item),
            reply_markup=cards.progress_controls(t, item),
        )


async def control_pressed(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, broadcast_id = callback_data.action, callback_data.broadcast_id
    actions = {
        "pause": (broadcasts.pause, "broadcast.paused"),
        "resume": (broadcasts.resume, "broadcast.resumed"),
        "cancel": (broadcasts.cancel, "broadcast.cancelled"),
    }
    try:
        if action in actions:
            act, done_key = actions[action]
            item = await act(app, session, actor.user_id, broadcast_id)
        else:
            item, done_key = await broadcasts.view(session, actor.user_id, broadcast_id), ""
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    await query.answer(t(done_key) if done_key else None)
    if isinstance(query.message, Message):
        text = await cards.progress_card(t, app, session, item)
        try:
            await query.message.edit_text(text, reply_markup=cards.progress_controls(t, item))
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                raise
