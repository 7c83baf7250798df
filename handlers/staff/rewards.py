"""Staff: keep the rewards shop (/rewards: list, add, edit, switch on/off) and confirm a pickup
by its code (/handover)."""

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
from bot.services.points import shop
from bot.tg import keyboards as kb
from bot.tg import points_cards as cards
from bot.tg.callbacks_points import RedemptionCb, RewardAdminCb
from bot.tg.filters import HasRole, PrivateChat
from handlers.staff.replies import command_in_form, refuse, replace_card


class RewardNew(StatesGroup):
    name = State()
    price = State()
    stock = State()
    per_person_limit = State()
    pickup_place = State()


class RewardEdit(StatesGroup):
    value = State()


def router() -> Router:
    r = Router(name="staff.rewards")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(HasRole(ROLE_STAFF))
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
    return r


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
        if callback_data.field not in cards.REWARD_FIELDS:
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
        text, markup = cards.reward_admin_card(t, await shop.get_reward(session, reward_id))
    elif action in ("on", "off"):
        reward = await shop.edit_reward(
            app, session, actor.user_id, reward_id, "active", action == "on"
        )
        text, markup = cards.reward_admin_card(t, reward)
    else:
        raise UserError("errors.stale_button")
    await query.answer()
    await replace_card(query, text, markup)


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
    if await command_in_form(message, t):
        return
    try:
        value = shop.parse_field(field, message.text or "")
    except UserError as err:
        await refuse(message, t, err)
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
    text, markup = cards.reward_admin_card(t, reward)
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
    if await command_in_form(message, t):
        return
    try:
        value = shop.parse_field(str(data["field"]), message.text or "")
    except UserError as err:
        await refuse(message, t, err)
        return
    await state.clear()
    reward = await shop.edit_reward(
        app, session, actor.user_id, int(data["reward_id"]), str(data["field"]), value
    )
    text, markup = cards.reward_admin_card(t, reward)
    await message.answer(f"{t('shop.saved')}\n\n{text}", reply_markup=markup)


# --- /handover CODE -------------------------------------------------------------------------------


async def handover(
    message: Message, command: CommandObject, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(t("shop.handover_usage"))
        return
    found = await shop.find_by_code(session, actor.user_id, code)
    text, markup = cards.redemption_card(t, found)
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
    text, _ = cards.redemption_card(t, done)
    await replace_card(query, f"{text}\n\n{note}", None)
