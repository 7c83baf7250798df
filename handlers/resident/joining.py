"""Joining on registration: "这是您吗？" for records without Telegram that carry the phone the
person just registered with; on yes, the record's wishes become theirs.

Telegram must vouch for the number: registered with a shared contact, the person answers yes
or no; registered with a typed number, they are asked to share their own contact to confirm
(a typed number proves nothing), or to say it is not them.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
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
from handlers import forms

FIELD = "join"


class JoinAsk(StatesGroup):
    confirm = State()  # registered with a shared contact: yes / no
    verify = State()  # registered with a typed number: share the contact to confirm, or no


def router() -> Router:
    r = Router(name="resident.joining")
    r.message.filter(PrivateChat())
    r.callback_query.register(
        answered, StateFilter(JoinAsk.confirm, JoinAsk.verify), ChoiceCb.filter(F.field == FIELD)
    )
    r.message.register(contact_shared, JoinAsk.verify, F.contact)
    r.message.register(not_a_contact, JoinAsk.verify)
    return r


async def offer_join(
    message: Message,
    state: FSMContext,
    user_id: int,
    t: Translator,
    session: AsyncSession,
    verified_phone: str | None,
) -> bool:
    """Ask about the first record with the person's phone; False when there is none.

    ``verified_phone``: the number Telegram shared (None when it was typed)."""
    found = await joining.candidates(session, user_id)
    if not found:
        return False
    first = found[0]
    question = t("forres.join_ask", name=first.masked_name, n=first.wishes)
    no = ("no", t("forres.join_no"))
    await state.set_data({"record": first.user_id, "phone": verified_phone})
    if verified_phone is not None:
        await state.set_state(JoinAsk.confirm)
        await message.answer(
            question,
            reply_markup=kb.choices(FIELD, [(str(first.user_id), t("forres.join_yes")), no]),
        )
        return True
    await state.set_state(JoinAsk.verify)
    await message.answer(t("forres.join_share_phone"), reply_markup=kb.share_contact(t))
    await message.answer(question, reply_markup=kb.choices(FIELD, [no]))
    return True


async def _join(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    record_id: int,
    phone: str,
) -> None:
    await state.clear()
    moved = await joining.join(app, session, actor.user_id, record_id, phone)
    await message.answer(t("forres.joined", n=moved), reply_markup=kb.remove_reply_keyboard())
    await _resume(message, actor, t, session, app, state)


async def _resume(
    message: Message,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    state: FSMContext,
) -> None:
    from handlers.resident.wishes import resume_pending  # a wish they wrote before registering

    await resume_pending(message, actor.user_id, t, session, app, state)


async def answered(
    query: CallbackQuery,
    callback_data: ChoiceCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    message = query.message
    phone = data.get("phone")
    if message is None:
        await query.answer()
        return
    if callback_data.value.isdigit() and isinstance(phone, str):
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        record = int(callback_data.value)
        await _join(message, state, actor, t, session, app, record, phone)  # type: ignore[arg-type]
        return
    await query.answer()
    await state.clear()
    await message.edit_text(t("forres.join_declined"))  # type: ignore[union-attr]
    await message.answer(t("forres.join_declined_more"), reply_markup=kb.remove_reply_keyboard())
    await _resume(message, actor, t, session, app, state)  # type: ignore[arg-type]


async def contact_shared(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    phone = await forms.own_phone(message, actor, t)
    if phone is None:
        return
    data = await state.get_data()
    await _join(message, state, actor, t, session, app, int(data["record"]), phone)


async def not_a_contact(message: Message, t: Translator) -> None:
    await message.answer(t("forres.join_share_phone"), reply_markup=kb.share_contact(t))
