"""Volunteer (在职党员) registration: profile, skills, free time; then staff approval."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.people import registration
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import ChoiceCb, GridCb, RoleCb, ToggleCb
from bot.tg.filters import PrivateChat
from handlers import forms
from handlers.common import redraw_old_welcome
from handlers.volunteer import signup_steps as steps
from handlers.volunteer.signup_steps import skills_keyboard, slots_keyboard, use_buttons

MAX_TASK_CHOICES = ("1", "2", "3", "5")


class VolunteerReg(StatesGroup):
    name = State()
    grid = State()
    unit = State()
    branch = State()
    occupation = State()
    skills = State()
    specialties = State()
    slots = State()
    max_tasks = State()
    confirm = State()


# (state, data key, max length, next question key) for the plain text questions, in order.
TEXT_STEPS: dict[str, tuple[str, int]] = {
    VolunteerReg.name.state: ("name", registration.NAME_MAX),  # type: ignore[dict-item]
    VolunteerReg.unit.state: ("unit", registration.ORG_MAX),  # type: ignore[dict-item]
    VolunteerReg.branch.state: ("branch", registration.ORG_MAX),  # type: ignore[dict-item]
    VolunteerReg.occupation.state: ("occupation", registration.NAME_MAX),  # type: ignore[dict-item]
}


def router() -> Router:
    r = Router(name="volunteer.registration")
    r.message.filter(PrivateChat())
    r.callback_query.register(begin_from_button, RoleCb.filter(F.role == "volunteer"))
    r.message.register(text_answer, VolunteerReg.name, F.text)
    r.callback_query.register(forms.grid_page, VolunteerReg.grid, GridCb.filter(F.action == "page"))
    r.callback_query.register(grid_picked, VolunteerReg.grid, GridCb.filter(F.action == "pick"))
    r.message.register(forms.grid_typed, VolunteerReg.grid, F.text)
    r.message.register(text_answer, VolunteerReg.unit, F.text)
    r.message.register(text_answer, VolunteerReg.branch, F.text)
    r.message.register(text_answer, VolunteerReg.occupation, F.text)
    r.callback_query.register(toggled, VolunteerReg.skills, ToggleCb.filter(F.field == "skills"))
    r.callback_query.register(
        specialties_skipped, VolunteerReg.specialties, ChoiceCb.filter(F.field == "specialties")
    )
    r.message.register(specialties_typed, VolunteerReg.specialties, F.text)
    r.callback_query.register(toggled, VolunteerReg.slots, ToggleCb.filter(F.field == "slots"))
    r.callback_query.register(
        max_tasks_chosen, VolunteerReg.max_tasks, ChoiceCb.filter(F.field == "max")
    )
    r.callback_query.register(
        confirmed, VolunteerReg.confirm, ChoiceCb.filter(F.field == "vconfirm")
    )
    r.message.register(use_buttons, VolunteerReg.skills)
    r.message.register(use_buttons, VolunteerReg.slots)
    r.message.register(use_buttons, VolunteerReg.max_tasks)
    r.message.register(use_buttons, VolunteerReg.confirm)
    return r


async def begin(
    message: Message,
    state: FSMContext,
    t: Translator,
    *,
    invite_code: str | None = None,
    grid_id: int | None = None,
) -> None:
    await state.set_state(VolunteerReg.name)
    await state.set_data({"invite": invite_code, "grid_id": grid_id, "skills": [], "slots": []})
    intro = t("volunteer.intro_invited") if invite_code else t("volunteer.intro")
    await message.answer(f"{intro}\n\n{t('volunteer.name_ask')}")


async def begin_from_button(
    query: CallbackQuery, state: FSMContext, actor: Actor, t: Translator
) -> None:
    if actor.has("volunteer") or actor.has("volunteer_pending"):
        await redraw_old_welcome(query, actor, t, "volunteer.already_registered")
        return
    await query.answer()
    if query.message is not None:
        await begin(query.message, state, t)  # type: ignore[arg-type]


async def text_answer(
    message: Message, state: FSMContext, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    current = await state.get_state()
    key, max_len = TEXT_STEPS[current or ""]
    value = await forms.typed_text(message, t, max_len)
    if value is None:
        return
    await state.update_data({key: value})
    data = await state.get_data()
    if current == VolunteerReg.name.state:
        if data.get("grid_id"):
            await state.set_state(VolunteerReg.unit)
            await message.answer(t("volunteer.unit_ask"))
        else:
            await state.set_state(VolunteerReg.grid)
            await forms.ask_grid(message, t, session)
    elif current == VolunteerReg.unit.state:
        await state.set_state(VolunteerReg.branch)
        await message.answer(t("volunteer.branch_ask"))
    elif current == VolunteerReg.branch.state:
        await state.set_state(VolunteerReg.occupation)
        await message.answer(t("volunteer.occupation_ask"))
    else:
        await state.set_state(VolunteerReg.skills)
        await message.answer(t("volunteer.skills_ask"), reply_markup=skills_keyboard(t, app, []))


async def grid_picked(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    t: Translator,
    session: AsyncSession,
) -> None:
    grid = await forms.picked_grid(query, callback_data, session, t)
    if grid is None or query.message is None:
        return
    await state.update_data(grid_id=grid.id)
    await state.set_state(VolunteerReg.unit)
    await query.message.answer(t("volunteer.unit_ask"))


async def toggled(
    query: CallbackQuery, callback_data: ToggleCb, state: FSMContext, t: Translator, app: AppContext
) -> None:
    if await steps.toggle_step(query, callback_data, state, t, app) is None:
        return
    await query.answer()
    if query.message is None:
        return
    if callback_data.field == "skills":
        await state.set_state(VolunteerReg.specialties)
        await query.message.answer(
            t("volunteer.specialties_ask"),
            reply_markup=kb.choices("specialties", [("skip", t("common.skip"))]),
        )
    else:
        await state.set_state(VolunteerReg.max_tasks)
        await query.message.answer(
            t("volunteer.max_tasks_ask"),
            reply_markup=kb.choices("max", [(n, n) for n in MAX_TASK_CHOICES], per_row=4),
        )


async def _ask_slots(message: Message, state: FSMContext, t: Translator, app: AppContext) -> None:
    await state.set_state(VolunteerReg.slots)
    await message.answer(t("volunteer.slots_ask"), reply_markup=slots_keyboard(t, app, []))


async def specialties_skipped(
    query: CallbackQuery, state: FSMContext, t: Translator, app: AppContext
) -> None:
    await query.answer()
    await state.update_data(specialties="")
    if query.message is not None:
        await _ask_slots(query.message, state, t, app)  # type: ignore[arg-type]


async def specialties_typed(
    message: Message, state: FSMContext, t: Translator, app: AppContext
) -> None:
    value = await forms.typed_text(message, t, registration.SPECIALTIES_MAX)
    if value is None:
        return
    await state.update_data(specialties=value)
    await _ask_slots(message, state, t, app)


async def max_tasks_chosen(
    query: CallbackQuery, callback_data: ChoiceCb, state: FSMContext, t: Translator, app: AppContext
) -> None:
    if callback_data.value not in MAX_TASK_CHOICES:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    await query.answer()
    await state.update_data(max_tasks=int(callback_data.value))
    await state.set_state(VolunteerReg.confirm)
    data = await state.get_data()
    if query.message is not None:
        await query.message.answer(
            summary(t, app, data),
            reply_markup=kb.choices(
                "vconfirm", [("yes", t("volunteer.submit")), ("no", t("common.cancel"))]
            ),
        )


def summary(t: Translator, app: AppContext, data: dict[str, object]) -> str:
    cats = app.settings.categories
    slot_names = {s.id: s.name(t.lang) for s in app.settings.volunteers.slots}
    skills = [c.name(t.lang) for c in cats.resolved if c.id in data.get("skills", [])]  # type: ignore[operator]
    return t(
        "volunteer.summary",
        name=data.get("name"),
        unit=data.get("unit"),
        branch=data.get("branch"),
        occupation=data.get("occupation"),
        skills="、".join(skills),
        specialties=data.get("specialties") or "—",
        slots="、".join(slot_names[s] for s in data.get("slots", []) if s in slot_names),  # type: ignore[attr-defined]
        max_tasks=data.get("max_tasks"),
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
    if not await steps.confirm_pressed(query, callback_data, state, t):
        return
    data = await state.get_data()
    form = registration.VolunteerForm(
        name=str(data["name"]),
        grid_id=int(data["grid_id"]),
        unit=str(data["unit"]),
        branch=str(data["branch"]),
        occupation=str(data["occupation"]),
        skills=list(data.get("skills", [])),
        specialties=str(data.get("specialties", "")),
        availability=list(data.get("slots", [])),
        max_active_tasks=int(
            data.get("max_tasks", app.settings.volunteers.default_max_active_tasks)
        ),
    )
    preapproved_by = None
    if data.get("invite"):
        invite = await registration.redeem_invite(app, session, actor.user_id, str(data["invite"]))
        preapproved_by = invite.created_by
    status = await registration.register_volunteer(
        app, session, actor.user_id, form, preapproved_by=preapproved_by
    )
    done = t("volunteer.approved_now" if status == "approved" else "volunteer.submitted")
    await steps.submitted(query, state, actor, app, done)
