"""Staff: adjust a volunteer's points (/adjust) and review declarations (党员申报) from their
cards. The rewards shop and /handover are in handlers/staff/rewards.py."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.points import adjustments, declarations, ledger
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import points_cards as cards
from bot.tg.callbacks_points import AdjustCb, DeclarationCb
from bot.tg.filters import HasRole, PrivateChat
from handlers.staff.replies import command_in_form, refuse, replace_card


class AdjustForm(StatesGroup):
    who = State()
    amount = State()
    reason = State()
    confirm = State()


class DeclarationReview(StatesGroup):
    points = State()
    reason = State()


def router() -> Router:
    r = Router(name="staff.points")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(HasRole(ROLE_STAFF))
    r.message.register(adjust_begin, Command("adjust"))
    r.message.register(adjust_who, AdjustForm.who, F.text)
    r.message.register(adjust_amount, AdjustForm.amount, F.text)
    r.message.register(adjust_reason, AdjustForm.reason, F.text)
    r.callback_query.register(adjust_pressed, AdjustCb.filter())
    r.callback_query.register(declaration_pressed, DeclarationCb.filter())
    r.message.register(declaration_points, DeclarationReview.points, F.text)
    r.message.register(declaration_reason, DeclarationReview.reason, F.text)
    r.message.register(use_the_buttons, AdjustForm.confirm)
    return r


# --- /adjust ------------------------------------------------------------------------------------


async def adjust_begin(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(AdjustForm.who)
    await state.set_data({"request": adjustments.new_request_id()})
    await message.answer(t("points.adjust_ask_name"))


async def adjust_who(
    message: Message, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    if await command_in_form(message, t):
        return
    query = message.text or ""
    found = await adjustments.find_volunteers(session, actor.user_id, query)
    if not found:
        await message.answer(t("points.adjust_none", query=query.strip()[:20]))
        return
    buttons = [
        [
            kb.button(
                t("points.adjust_pick_button", name=p.name, grid=p.grid_name, balance=p.balance),
                AdjustCb(action="pick", user_id=p.user_id).pack(),
            )
        ]
        for p in found
    ]
    await message.answer(t("points.adjust_pick"), reply_markup=kb.rows(*buttons))


async def adjust_amount(message: Message, state: FSMContext, t: Translator) -> None:
    try:
        amount = adjustments.parse_adjust_amount(message.text or "")
    except UserError as err:
        await refuse(message, t, err)
        return
    await state.update_data(amount=amount)
    await state.set_state(AdjustForm.reason)
    await message.answer(t("points.adjust_ask_reason"))


async def adjust_reason(message: Message, state: FSMContext, t: Translator) -> None:
    try:
        reason = adjustments.clean_reason(message.text or "")
    except UserError as err:
        await refuse(message, t, err)
        return
    await state.update_data(reason=reason)
    await state.set_state(AdjustForm.confirm)
    data = await state.get_data()
    await message.answer(
        t("points.adjust_confirm", name=data["name"], amount=f"{data['amount']:+d}", reason=reason),
        reply_markup=kb.rows(
            [
                kb.button(t("points.button_confirm"), AdjustCb(action="ok").pack()),
                kb.button(t("points.button_cancel"), AdjustCb(action="no").pack()),
            ]
        ),
    )


async def adjust_pressed(
    query: CallbackQuery,
    callback_data: AdjustCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    current = await state.get_state()
    data = await state.get_data()
    if callback_data.action == "pick" and current == AdjustForm.who.state:
        pick = await adjustments.volunteer_pick(session, actor.user_id, callback_data.user_id)
        await state.update_data(user_id=pick.user_id, name=pick.name)
        await state.set_state(AdjustForm.amount)
        await query.answer()
        await replace_card(
            query, t("points.adjust_ask_amount", name=pick.name, balance=pick.balance), None
        )
        return
    if current != AdjustForm.confirm.state or callback_data.action not in ("ok", "no"):
        raise UserError("errors.stale_button")
    if callback_data.action == "no":
        await state.clear()
        await query.answer()
        await replace_card(query, t("points.cancelled"), None)
        return
    done_key = once.key_of(query)
    once.arm(session, done_key, actor.user_id)
    try:
        entry = await adjustments.adjust(
            app,
            session,
            staff_user_id=actor.user_id,
            user_id=int(data["user_id"]),
            amount=int(data["amount"]),
            reason=str(data["reason"]),
            request_id=str(data["request"]),
        )
    finally:
        await state.clear()  # refused or done, the form is over (the alert says why)
    if entry is None:
        answer = t("points.adjust_already")
    else:
        total = await ledger.balance(session, entry.user_id)
        amount = f"{entry.amount:+d}"
        answer = t("points.adjust_done", name=data["name"], amount=amount, balance=total)
    await once.remember(session, done_key, answer)
    await query.answer()
    await replace_card(query, answer, None)


# --- declarations (党员申报) -------------------------------------------------------------------


async def declaration_pressed(
    query: CallbackQuery,
    callback_data: DeclarationCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, did = callback_data.action, callback_data.id
    if action == "ok":
        done = await declarations.approve(app, session, actor.user_id, did)
        await query.answer(
            t("declare.approved_staff", id=did, name=done.volunteer_name, points=done.points)
        )
        text, _ = cards.declaration_card(app, t, done)
        await replace_card(query, text, None)
        return
    if action not in ("pts", "no"):
        raise UserError("errors.stale_button")
    await query.answer()
    await state.set_state(DeclarationReview.points if action == "pts" else DeclarationReview.reason)
    await state.set_data({"declaration_id": did})
    if query.message is not None:
        question = (
            t("declare.ask_points", max=declarations.max_points(app))
            if action == "pts"
            else t("declare.ask_reason")
        )
        await query.message.answer(question)


async def declaration_points(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    try:
        amount = declarations.parse_points(app, message.text or "")
    except UserError as err:
        await refuse(message, t, err)
        return
    did = int((await state.get_data())["declaration_id"])
    await state.clear()
    done = await declarations.approve(app, session, actor.user_id, did, amount)
    await message.answer(
        t("declare.approved_staff", id=did, name=done.volunteer_name, points=done.points)
    )


async def declaration_reason(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if await command_in_form(message, t):
        return
    did = int((await state.get_data())["declaration_id"])
    try:
        await declarations.reject(app, session, actor.user_id, did, message.text or "")
    except UserError as err:
        if err.key != "declare.text_invalid":
            await state.clear()
        await refuse(message, t, err)
        return
    await state.clear()
    await message.answer(t("declare.rejected_staff", id=did))


async def use_the_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("points.form_in_progress"))
