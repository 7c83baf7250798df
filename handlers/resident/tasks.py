"""Residents confirm and rate a finished task, or say something is wrong."""

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
from bot.tg import keyboards as kb
from bot.tg.callbacks_tasks import TaskCb
from bot.tg.filters import PrivateChat


class Feedback(StatesGroup):
    comment = State()
    dispute = State()


def router() -> Router:
    r = Router(name="resident.tasks")
    r.callback_query.register(rate, TaskCb.filter(F.action == "rate"))
    r.callback_query.register(dispute_pressed, TaskCb.filter(F.action == "disp"))
    r.callback_query.register(no_comment, TaskCb.filter(F.action == "nocmt"))
    r.message.register(comment_typed, Feedback.comment, F.text, PrivateChat())
    r.message.register(dispute_typed, Feedback.dispute, F.text, PrivateChat())
    return r


async def rate(
    query: CallbackQuery,
    callback_data: TaskCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    stars = int(callback_data.arg) if callback_data.arg.isdigit() else 0
    await lifecycle.confirm(app, session, callback_data.wish_id, actor.user_id, stars)
    await query.answer()
    await state.set_state(Feedback.comment)
    await state.set_data({"wish_id": callback_data.wish_id})
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await query.message.answer(
            t("task.thanks_rating", stars="⭐" * stars),
            reply_markup=kb.rows(
                [
                    kb.button(
                        t("task.no_comment"),
                        TaskCb(action="nocmt", wish_id=callback_data.wish_id).pack(),
                    )
                ]
            ),
        )


async def no_comment(query: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await state.clear()
    await query.answer()
    if query.message is not None:
        await query.message.edit_text(t("task.thanks_bye"))  # type: ignore[union-attr]


async def comment_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    try:
        await lifecycle.add_comment(
            app, session, int(data["wish_id"]), actor.user_id, message.text or ""
        )
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    await message.answer(t("task.thanks_bye"))


async def dispute_pressed(
    query: CallbackQuery, callback_data: TaskCb, state: FSMContext, t: Translator
) -> None:
    await query.answer()
    await state.set_state(Feedback.dispute)
    await state.set_data({"wish_id": callback_data.wish_id})
    if query.message is not None:
        await query.message.answer(t("task.dispute_ask", id=callback_data.wish_id))


async def dispute_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    try:
        await lifecycle.dispute(
            app, session, int(data["wish_id"]), actor.user_id, message.text or ""
        )
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        if err.key != "errors.text_length":
            await state.clear()
        return
    await state.clear()
    await message.answer(t("task.dispute_sent", id=int(data["wish_id"])))
