"""Residents' suggestions and complaints (社情民意): `/suggest`, the "提建议" choice when a
message reads as a suggestion, and the verdict on an answer or a fix."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import ROLE_RESIDENT, Actor
from bot.services.suggestions import loop
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks_suggest import SuggestCb, SuggestDraftCb
from bot.tg.filters import HasRole, PrivateChat
from matching.intent import intent


class SuggestForm(StatesGroup):
    text = State()  # /suggest without words: waiting for them
    choose = State()  # a message read as a suggestion: suggestion or wish?


def router() -> Router:
    r = Router(name="resident.suggestions")
    r.message.filter(PrivateChat())
    r.message.register(suggest_command, Command("suggest"), HasRole(ROLE_RESIDENT))
    r.message.register(text_typed, SuggestForm.text, F.text & ~F.text.startswith("/"))
    r.callback_query.register(draft_choice, SuggestDraftCb.filter())
    r.callback_query.register(verdict, SuggestCb.filter(F.action.in_({"sat", "uns"})))
    return r


async def suggest_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if not command.args:
        await state.set_state(SuggestForm.text)
        await message.answer(t("suggest.ask"))
        return
    await _file(message, state, actor, t, session, app, command.args)


async def text_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    await _file(message, state, actor, t, session, app, message.text or "")


async def _file(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    text: str,
) -> None:
    try:
        filed = await loop.file_suggestion(app, session, actor.user_id, text)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    await message.answer(t("suggest.filed", id=filed.id))


async def offer_suggestion(
    message: Message, state: FSMContext, actor: Actor, t: Translator, text: str
) -> bool:
    """A resident's message that reads as a suggestion or complaint: ask which it is.

    Returns False (the caller files a wish as before) for anything else."""
    if not actor.has(ROLE_RESIDENT) or intent(text) != "suggestion":
        return False
    await state.set_state(SuggestForm.choose)
    await state.set_data({"text": text})
    await message.answer(
        t("suggest.looks_like"),
        reply_markup=kb.rows(
            [kb.button(t("suggest.btn.as_suggestion"), SuggestDraftCb(action="as").pack())],
            [kb.button(t("suggest.btn.as_wish"), SuggestDraftCb(action="wish").pack())],
            [kb.button(t("common.cancel"), SuggestDraftCb(action="drop").pack())],
        ),
    )
    return True


async def draft_choice(
    query: CallbackQuery,
    callback_data: SuggestDraftCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    text = (await state.get_data()).get("text")
    if await state.get_state() != SuggestForm.choose.state or not text:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    if not isinstance(message, Message):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    if callback_data.action == "drop":
        await state.clear()
        await query.answer()
        await message.edit_text(t("suggest.dropped"))
    elif callback_data.action == "as":
        done_key = once.key_of(query)
        once.arm(session, done_key, actor.user_id)  # committed with the suggestion
        try:
            filed = await loop.file_suggestion(app, session, actor.user_id, str(text))
        except UserError as err:
            await query.answer(t(err.key, **err.params), show_alert=True)
            return
        await state.clear()
        answer = t("suggest.filed", id=filed.id)
        await once.remember(session, done_key, answer)
        await query.answer()
        await message.edit_text(answer)
    elif callback_data.action == "wish":
        from handlers.resident.wishes import start_draft  # the wish form, as before

        await state.clear()
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        await start_draft(message, state, actor, t, session, app, str(text))
    else:
        await query.answer(t("errors.stale_button"), show_alert=True)


async def verdict(
    query: CallbackQuery,
    callback_data: SuggestCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    satisfied = callback_data.action == "sat"
    try:
        s = await loop.rate(app, session, actor.user_id, callback_data.suggestion_id, satisfied)
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    await query.answer()
    key = "suggest.thanks_satisfied" if satisfied else "suggest.thanks_unsatisfied"
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(t(key, id=s.id))
