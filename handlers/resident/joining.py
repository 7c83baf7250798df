"""Joining on registration: "这是您吗？" for records without Telegram that carry the phone the
person just registered with; on yes, the record's wishes become theirs."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.forres import joining
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import ChoiceCb
from bot.tg.filters import PrivateChat

FIELD = "join"


class JoinAsk(StatesGroup):
    confirm = State()


def router() -> Router:
    r = Router(name="resident.joining")
    r.message.filter(PrivateChat())
    r.callback_query.register(answered, JoinAsk.confirm, ChoiceCb.filter(F.field == FIELD))
    return r


async def offer_join(
    message: Message, state: FSMContext, user_id: int, t: Translator, session: AsyncSession
) -> bool:
    """Ask about the first record with the person's phone; False when there is none."""
    found = await joining.candidates(session, user_id)
    if not found:
        return False
    first = found[0]
    await state.set_state(JoinAsk.confirm)
    await state.set_data({})
    await message.answer(
        t("forres.join_ask", name=first.masked_name, n=first.wishes),
        reply_markup=kb.choices(
            FIELD, [(str(first.user_id), t("forres.join_yes")), ("no", t("forres.join_no"))]
        ),
    )
    return True


async def answered(
    query: CallbackQuery,
    callback_data: ChoiceCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    await query.answer()
    await state.clear()
    if message is None:
        return
    if callback_data.value.isdigit():
        moved = await joining.join(app, session, actor.user_id, int(callback_data.value))
        await message.edit_text(t("forres.joined", n=moved))  # type: ignore[union-attr]
    else:
        await message.edit_text(t("forres.join_declined"))  # type: ignore[union-attr]
    from handlers.resident.wishes import resume_pending  # a wish they wrote before registering

    await resume_pending(message, actor.user_id, t, session, app, state)  # type: ignore[arg-type]
