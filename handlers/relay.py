"""Resident and volunteer talk through the bot about one task; no username or phone exposed."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import Actor
from bot.services.tasks import lifecycle
from bot.tg.callbacks_tasks import TaskCb
from bot.tg.filters import PrivateChat


class Relay(StatesGroup):
    text = State()


def router() -> Router:
    r = Router(name="relay")
    r.callback_query.register(start, TaskCb.filter(F.action == "msg"))
    r.message.register(text, Relay.text, F.text, PrivateChat())
    return r


async def start(
    query: CallbackQuery, callback_data: TaskCb, state: FSMContext, t: Translator
) -> None:
    await query.answer()
    await state.set_state(Relay.text)
    await state.set_data({"wish_id": callback_data.wish_id})
    if query.message is not None:
        await query.message.answer(t("relay.ask", id=callback_data.wish_id))


async def text(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    wish_id = int(data["wish_id"])
    try:
        await lifecycle.relay(app, session, wish_id, actor.user_id, message.text or "")
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        if err.key != "errors.text_length":
            await state.clear()
        return
    await state.clear()
    await message.answer(t("relay.sent", id=wish_id))
