"""党群接单: a registered resident signs up as a 群众志愿者 (/helper): name, skills, free time;
then staff approve it like a member's registration. No unit or party branch is asked."""

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
from bot.services.people import helpers, registration
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import ChoiceCb, ToggleCb
from bot.tg.filters import PrivateChat
from handlers import forms
from handlers.volunteer import signup_steps as steps
from handlers.volunteer.signup_steps import skills_keyboard, slots_keyboard, use_buttons


class HelperReg(StatesGroup):
    name = State()
    skills = State()
    slots = State()
    confirm = State()


def router() -> Router:
    r = Router(name="volunteer.helper")
    r.message.filter(PrivateChat())
    r.message.register(begin, Command("helper"))
    r.message.register(name_typed, HelperReg.name, F.text)
    r.callback_query.register(toggled, HelperReg.skills, ToggleCb.filter(F.field == "skills"))
    r.callback_query.register(toggled, HelperReg.slots, ToggleCb.filter(F.field == "slots"))
    r.callback_query.register(confirmed, HelperReg.confirm, ChoiceCb.filter(F.field == "hconfirm"))
    r.message.register(use_buttons, HelperReg.skills)
    r.message.register(use_buttons, HelperReg.slots)
    r.message.register(use_buttons, HelperReg.confirm)
    return r


async def begin(
    message: Message, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    try:
        await helpers.check_may_register(session, actor.user_id)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.set_state(HelperReg.name)
    await state.set_data({"skills": [], "slots": []})
    await message.answer(f"{t('helper.intro')}\n\n{t('volunteer.name_ask')}")


async def name_typed(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    name = await forms.typed_text(message, t, registration.NAME_MAX)
    if name is None:
        return
    await state.update_data(name=name)
    await state.set_state(HelperReg.skills)
    await message.answer(t("helper.skills_ask"), reply_markup=skills_keyboard(t, app, []))


async def toggled(
    query: CallbackQuery, callback_data: ToggleCb, state: FSMContext, t: Translator, app: AppContext
) -> None:
    if await steps.toggle_step(query, callback_data, state, t, app) is None:
        return
    await query.answer()
    if query.message is None:
        return
    if callback_data.field == "skills":
        await state.set_state(HelperReg.slots)
        await query.message.answer(
            t("volunteer.slots_ask"), reply_markup=slots_keyboard(t, app, [])
        )
    else:
        await state.set_state(HelperReg.confirm)
        await query.message.answer(
            summary(t, app, await state.get_data()),
            reply_markup=kb.choices(
                "hconfirm", [("yes", t("volunteer.submit")), ("no", t("common.cancel"))]
            ),
        )


def summary(t: Translator, app: AppContext, data: dict[str, object]) -> str:
    chosen_skills: list[str] = list(data.get("skills", []))  # type: ignore[call-overload]
    chosen_slots: list[str] = list(data.get("slots", []))  # type: ignore[call-overload]
    skills = [c.name(t.lang) for c in app.settings.categories.resolved if c.id in chosen_skills]
    slots = [s.name(t.lang) for s in app.settings.volunteers.slots if s.id in chosen_slots]
    return t(
        "helper.summary", name=data.get("name"), skills="、".join(skills), slots="、".join(slots)
    )


async def confirmed(
    query: CallbackQuery,
    callback_data: ChoiceCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if not await steps.confirm_pressed(query, callback_data, state, t) or query.message is None:
        return
    data = await state.get_data()
    form = helpers.HelperForm(
        name=str(data.get("name", "")),
        skills=list(data.get("skills", [])),
        availability=list(data.get("slots", [])),
        max_active_tasks=app.settings.volunteers.default_max_active_tasks,
    )
    try:
        await helpers.register_helper(app, session, actor.user_id, form)
    except UserError as err:
        await state.clear()
        await query.message.answer(t(err.key, **err.params))
        return
    await steps.submitted(query, state, actor, app, t("helper.submitted"))
