"""Staff: adjust a volunteer's points (/adjust), keep the rewards shop (/rewards), confirm a
pickup by its code (/handover), and review declarations (党员申报) from their cards."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.points import adjustments, declarations, ledger, shop
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import points_cards as cards
from bot.tg.callbacks_points import AdjustCb, DeclarationCb, RedemptionCb, RewardAdminCb
from bot.tg.filters import HasRole, PrivateChat

REWARD_FIELDS = ("name", "price", "stock", "per_person_limit", "pickup_place")


class AdjustForm(StatesGroup):
    who = State()
    amount = State()
    reason = State()
    confirm = State()


class RewardNew(StatesGroup):
    name = State()
    price = State()
    stock = State()
    per_person_limit = State()
    pickup_place = State()


class RewardEdit(StatesGroup):
    value = State()


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
    r.message.register(rewards_list, Command("rewards"))
    r.callback_query.register(reward_pressed, RewardAdminCb.filter())
    r.message.register(reward_new_answer, RewardNew.name, F.text)
    r.message.register(reward_new_answer, RewardNew.price, F.text)
    r.message.register(reward_new_answer, RewardNew.stock, F.text)
    r.message.register(reward_new_answer, RewardNew.per_person_limit, F.text)
    r.message.register(reward_new_answer, RewardNew.pickup_place, F.text)
    r.message.register(reward_edit_answer, RewardEdit.value, F.text)
    r.message.register(handover, Command("handover"))
    r.callback_query.register(redemption_pressed, RedemptionCb.filter())
    r.callback_query.register(declaration_pressed, DeclarationCb.filter())
    r.message.register(declaration_points, DeclarationReview.points, F.text)
    r.message.register(declaration_reason, DeclarationReview.reason, F.text)
    r.message.register(use_the_buttons, AdjustForm.confirm)
    return r


async def _replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the pressed message in place (a card with a photo has a caption, not a text)."""
    message = query.message
    if message is None:
        return
    if getattr(message, "photo", None):
        await message.edit_caption(caption=text[:1024], reply_markup=markup)  # type: ignore[union-attr]
    else:
        await message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]


def _is_command(message: Message) -> bool:
    return (message.text or "").startswith("/")


async def _refuse(message: Message, t: Translator, err: UserError) -> None:
    await message.answer(t(err.key, **err.params))


# --- /adjust ------------------------------------------------------------------------------------


async def adjust_begin(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(AdjustForm.who)
    await state.set_data({"request": adjustments.new_request_id()})
    await message.answer(t("points.adjust_ask_name"))


async def adjust_who(
    message: Message, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    if _is_command(message):
        await message.answer(t("points.form_in_progress"))
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
        await _refuse(message, t, err)
        return
    await state.update_data(amount=amount)
    await state.set_state(AdjustForm.reason)
    await message.answer(t("points.adjust_ask_reason"))


async def adjust_reason(message: Message, state: FSMContext, t: Translator) -> None:
    try:
        reason = adjustments.clean_reason(message.text or "")
    except UserError as err:
        await _refuse(message, t, err)
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
        await _replace(
            query, t("points.adjust_ask_amount", name=pick.name, balance=pick.balance), None
        )
        return
    if current != AdjustForm.confirm.state or callback_data.action not in ("ok", "no"):
        raise UserError("errors.stale_button")
    if callback_data.action == "no":
        await state.clear()
        await query.answer()
        await _replace(query, t("points.cancelled"), None)
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
    await _replace(query, answer, None)


# --- /rewards -----------------------------------------------------------------------------------


async def _rewards_view(t: Translator, session: AsyncSession) -> tuple[str, InlineKeyboardMarkup]:
    rewards = await shop.list_rewards(session, for_volunteers=False)
    buttons = [
        [
            kb.button(
                t(
                    "shop.admin_button",
                    mark="" if r.active else t("shop.inactive_mark"),
                    name=r.name,
                    price=r.price,
                    stock=r.stock,
                ),
                RewardAdminCb(action="view", id=r.id).pack(),
            )
        ]
        for r in rewards
    ]
    buttons.append([kb.button(t("shop.button_new"), RewardAdminCb(action="new").pack())])
    text = t("shop.rewards_title", n=len(rewards)) if rewards else t("shop.rewards_empty")
    return text, kb.rows(*buttons)


def _reward_card(t: Translator, reward: shop.RewardView) -> tuple[str, InlineKeyboardMarkup]:
    text = t(
        "shop.admin_card",
        name=reward.name,
        price=reward.price,
        stock=reward.stock,
        limit=reward.per_person_limit or t("shop.limit_unlimited"),
        place=reward.pickup_place,
        status=t("shop.status_active" if reward.active else "shop.status_inactive"),
    )
    fields = [
        kb.button(t(f"shop.field.{f}"), RewardAdminCb(action="edit", id=reward.id, field=f).pack())
        for f in REWARD_FIELDS
    ]
    toggle = (
        kb.button(t("shop.button_off"), RewardAdminCb(action="off", id=reward.id).pack())
        if reward.active
        else kb.button(t("shop.button_on"), RewardAdminCb(action="on", id=reward.id).pack())
    )
    back = kb.button(t("shop.button_back"), RewardAdminCb(action="list").pack())
    return text, kb.rows(fields[:3], fields[3:], [toggle, back])


async def rewards_list(message: Message, t: Translator, session: AsyncSession) -> None:
    text, markup = await _rewards_view(t, session)
    await message.answer(text, reply_markup=markup)


async def reward_pressed(
    query: CallbackQuery,
    callback_data: RewardAdminCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    action, reward_id = callback_data.action, callback_data.id
    if action == "new":
        await query.answer()
        await state.set_state(RewardNew.name)
        await state.set_data({})
        if query.message is not None:
            await query.message.answer(t("shop.ask_name"))
        return
    if action == "edit":
        if callback_data.field not in REWARD_FIELDS:
            raise UserError("errors.stale_button")
        await query.answer()
        await state.set_state(RewardEdit.value)
        await state.set_data({"reward_id": reward_id, "field": callback_data.field})
        if query.message is not None:
            field_name = t(f"shop.field.{callback_data.field}")
            await query.message.answer(t("shop.ask_value", field=field_name))
        return
    if action == "list":
        text, markup = await _rewards_view(t, session)
    elif action == "view":
        text, markup = _reward_card(t, await shop.get_reward(session, reward_id))
    elif action in ("on", "off"):
        reward = await shop.edit_reward(
            app, session, actor.user_id, reward_id, "active", action == "on"
        )
        text, markup = _reward_card(t, reward)
    else:
        raise UserError("errors.stale_button")
    await query.answer()
    await _replace(query, text, markup)


# The new-reward form: (state, field, next state, question of the next state).
NEW_STEPS = {
    RewardNew.name.state: ("name", RewardNew.price, "shop.ask_price"),
    RewardNew.price.state: ("price", RewardNew.stock, "shop.ask_stock"),
    RewardNew.stock.state: ("stock", RewardNew.per_person_limit, "shop.ask_limit"),
    RewardNew.per_person_limit.state: (
        "per_person_limit",
        RewardNew.pickup_place,
        "shop.ask_place",
    ),
    RewardNew.pickup_place.state: ("pickup_place", None, ""),
}


async def reward_new_answer(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    field, next_state, question = NEW_STEPS[str(await state.get_state())]
    if _is_command(message):
        await message.answer(t("points.form_in_progress"))
        return
    try:
        value = shop.parse_field(field, message.text or "")
    except UserError as err:
        await _refuse(message, t, err)
        return
    await state.update_data({field: value})
    if next_state is not None:
        await state.set_state(next_state)
        await message.answer(t(question))
        return
    data: dict[str, Any] = await state.get_data()
    await state.clear()
    reward = await shop.add_reward(
        app,
        session,
        actor.user_id,
        shop.RewardForm(
            name=data["name"],
            price=int(data["price"]),
            stock=int(data["stock"]),
            per_person_limit=int(data["per_person_limit"]),
            pickup_place=data["pickup_place"],
        ),
    )
    text, markup = _reward_card(t, reward)
    await message.answer(f"{t('shop.added', name=reward.name)}\n\n{text}", reply_markup=markup)


async def reward_edit_answer(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    if _is_command(message):
        await message.answer(t("points.form_in_progress"))
        return
    try:
        value = shop.parse_field(str(data["field"]), message.text or "")
    except UserError as err:
        await _refuse(message, t, err)
        return
    await state.clear()
    reward = await shop.edit_reward(
        app, session, actor.user_id, int(data["reward_id"]), str(data["field"]), value
    )
    text, markup = _reward_card(t, reward)
    await message.answer(f"{t('shop.saved')}\n\n{text}", reply_markup=markup)


# --- /handover CODE -------------------------------------------------------------------------------


def _redemption_card(
    t: Translator, r: shop.RedemptionView
) -> tuple[str, InlineKeyboardMarkup | None]:
    text = t(
        "shop.handover_card",
        code=r.code,
        name=r.volunteer_name,
        reward=r.reward_name,
        price=r.price,
        status=t(f"shop.status.{r.status}"),
    )
    if r.status != "held":
        return text, None
    return text, kb.rows(
        [
            kb.button(t("shop.button_give"), RedemptionCb(action="give", id=r.id).pack()),
            kb.button(t("shop.button_cancel_staff"), RedemptionCb(action="cancel", id=r.id).pack()),
        ]
    )


async def handover(
    message: Message, command: CommandObject, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(t("shop.handover_usage"))
        return
    found = await shop.find_by_code(session, actor.user_id, code)
    text, markup = _redemption_card(t, found)
    await message.answer(text, reply_markup=markup)


async def redemption_pressed(
    query: CallbackQuery,
    callback_data: RedemptionCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if callback_data.action == "give":
        done = await shop.hand_over(app, session, actor.user_id, callback_data.id)
        note = t("shop.given", name=done.volunteer_name, reward=done.reward_name)
    elif callback_data.action == "cancel":
        done = await shop.cancel(app, session, actor.user_id, callback_data.id)
        note = t(
            "shop.staff_cancelled",
            name=done.volunteer_name,
            reward=done.reward_name,
            points=done.price,
        )
    else:
        raise UserError("errors.stale_button")
    await query.answer()
    text, _ = _redemption_card(t, done)
    await _replace(query, f"{text}\n\n{note}", None)


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
        await _replace(query, text, None)
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
        await _refuse(message, t, err)
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
    if _is_command(message):
        await message.answer(t("points.form_in_progress"))
        return
    did = int((await state.get_data())["declaration_id"])
    try:
        await declarations.reject(app, session, actor.user_id, did, message.text or "")
    except UserError as err:
        if err.key != "declare.text_invalid":
            await state.clear()
        await _refuse(message, t, err)
        return
    await state.clear()
    await message.answer(t("declare.rejected_staff", id=did))


async def use_the_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("points.form_in_progress"))
