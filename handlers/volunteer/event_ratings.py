"""Attendees rate an event they attended: stars, then an optional comment."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import ratings
from bot.services.people.actors import ROLE_VOLUNTEER, Actor
from bot.tg import rating_cards
from bot.tg.callbacks_events import EventRateCb
from bot.tg.filters import HasRole, PrivateChat


class RatingComment(StatesGroup):
    text = State()  # data: event_id


def router() -> Router:
    r = Router(name="volunteer.event_ratings")
    r.message.filter(PrivateChat(), HasRole(ROLE_VOLUNTEER))
    r.callback_query.filter(PrivateChat(), HasRole(ROLE_VOLUNTEER))
    r.callback_query.register(rate_pressed, EventRateCb.filter())
    r.message.register(comment_typed, RatingComment.text, F.text & ~F.text.startswith("/"))
    return r


async def rate_pressed(
    query: CallbackQuery,
    callback_data: EventRateCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    event_id = callback_data.event_id
    if callback_data.action == "star":
        try:
            stars = await ratings.rate(
                app, session, event_id, actor.user_id, int(callback_data.arg)
            )
        except UserError as err:
            await query.answer(t(err.key, **err.params), show_alert=True)
            return
        await query.answer()
        await message.edit_text(
            t("events.rating.thanks", stars="⭐" * stars),
            reply_markup=rating_cards.comment_markup(t, event_id),
        )
    elif callback_data.action == "cmt":
        await state.set_state(RatingComment.text)
        await state.set_data({"event_id": event_id})
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        await message.answer(t("events.rating.ask_comment"))
    else:  # skip
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)


async def comment_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    event_id = int((await state.get_data()).get("event_id") or 0)
    try:
        await ratings.comment(app, session, event_id, actor.user_id, message.text or "")
    except UserError as err:
        if err.key != "events.rating.comment_length":
            await state.clear()
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    await message.answer(t("events.rating.comment_saved"))
