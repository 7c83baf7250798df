"""/me: see your profile and change it in a few taps."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.people import profiles, registration
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import GridCb, MeCb, ToggleCb
from bot.tg.filters import PrivateChat
from handlers import forms
from handlers.volunteer.registration import MAX_TASK_CHOICES
from handlers.volunteer.signup_steps import skills_keyboard, slots_keyboard, toggle_step


class EditProfile(StatesGroup):
    grid = State()
    building = State()
    skills = State()
    slots = State()
    specialties = State()


def router() -> Router:
    r = Router(name="profile")
    r.message.filter(PrivateChat())
    r.message.register(show, Command("me"))
    r.callback_query.register(edit_pressed, MeCb.filter())
    r.callback_query.register(forms.grid_page, EditProfile.grid, GridCb.filter(F.action == "page"))
    r.callback_query.register(grid_picked, EditProfile.grid, GridCb.filter(F.action == "pick"))
    r.message.register(forms.grid_typed, EditProfile.grid, F.text)
    r.message.register(text_edited, EditProfile.building, F.text)
    r.message.register(text_edited, EditProfile.specialties, F.text)
    r.callback_query.register(toggled, EditProfile.skills, ToggleCb.filter(F.field == "skills"))
    r.callback_query.register(toggled, EditProfile.slots, ToggleCb.filter(F.field == "slots"))
    return r


def card(
    t: Translator, app: AppContext, profile: profiles.Profile, actor: Actor
) -> tuple[str, kb.InlineKeyboardMarkup | None]:
    parts = [t("me.header", name=actor.display_name or "—", language=t("language.name"))]
    buttons: list[list[kb.InlineKeyboardButton]] = []
    if profile.resident is not None:
        r = profile.resident
        parts.append(
            t(
                "me.resident",
                grid=profile.resident_grid or "—",
                building=r.building or "—",
                phone=r.phone or t("me.no_phone"),
            )
        )
        buttons.append(
            [
                kb.button(t("me.edit_grid"), MeCb(field="grid").pack()),
                kb.button(t("me.edit_building"), MeCb(field="building").pack()),
            ]
        )
        if r.phone:
            buttons.append([kb.button(t("me.remove_phone"), MeCb(field="nophone").pack())])
    if profile.volunteer is not None:
        v = profile.volunteer
        cats = {c.id: c.name(t.lang) for c in app.settings.categories.resolved}
        slots = {s.id: s.name(t.lang) for s in app.settings.volunteers.slots}
        parts.append(
            t(
                "me.volunteer",
                name=v.name,
                grid=profile.volunteer_grid or "—",
                unit=v.unit,
                branch=v.branch,
                occupation=v.occupation,
                skills="、".join(cats.get(s, s) for s in v.skills) or "—",
                specialties=v.specialties or "—",
                slots="、".join(slots.get(s, s) for s in v.availability) or "—",
                max_tasks=v.max_active_tasks,
                status=t(f"status.volunteer.{v.status}"),
            )
        )
        buttons.append(
            [
                kb.button(t("me.edit_skills"), MeCb(field="skills").pack()),
                kb.button(t("me.edit_slots"), MeCb(field="slots").pack()),
            ]
        )
        buttons.append(
            [
                kb.button(t("me.edit_specialties"), MeCb(field="specialties").pack()),
                kb.button(t("me.edit_max"), MeCb(field="max").pack()),
            ]
        )
    if profile.staff is not None:
        scope = profile.staff_grid or t("me.whole_community")
        parts.append(t("me.staff", scope=scope))
    if len(parts) == 1:
        parts.append(t("me.no_roles"))
    buttons.append([kb.button(t("me.edit_language"), MeCb(field="lang").pack())])
    return "\n\n".join(parts), kb.rows(*buttons)


async def show(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    profile = await profiles.get_profile(session, actor.user_id)
    text, markup = card(t, app, profile, actor)
    await message.answer(text, reply_markup=markup)


async def edit_pressed(
    query: CallbackQuery,
    callback_data: MeCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    await query.answer()
    message = query.message
    if message is None:
        return
    profile = await profiles.get_profile(session, actor.user_id)
    field = callback_data.field
    if field == "lang":
        await message.answer(t("language.choose"), reply_markup=kb.languages())
    elif (field in ("grid", "building", "nophone") and profile.resident is None) or (
        field in ("skills", "slots", "specialties", "max") and profile.volunteer is None
    ):
        await message.answer(t("errors.stale_button"))
    elif field == "grid":
        await state.set_state(EditProfile.grid)
        await forms.ask_grid(message, t, session)  # type: ignore[arg-type]
    elif field == "building":
        await state.set_state(EditProfile.building)
        await message.answer(t("resident.building_ask_edit"))
    elif field == "nophone":
        await registration.update_resident(session, actor.user_id, phone=None, share_phone=False)
        await message.answer(t("me.phone_removed"))
    elif field == "skills":
        assert profile.volunteer is not None
        await state.set_state(EditProfile.skills)
        await state.set_data({"skills": list(profile.volunteer.skills)})
        await message.answer(
            t("volunteer.skills_ask"),
            reply_markup=skills_keyboard(t, app, profile.volunteer.skills),
        )
    elif field == "slots":
        assert profile.volunteer is not None
        await state.set_state(EditProfile.slots)
        await state.set_data({"slots": list(profile.volunteer.availability)})
        await message.answer(
            t("volunteer.slots_ask"),
            reply_markup=slots_keyboard(t, app, profile.volunteer.availability),
        )
    elif field == "specialties":
        await state.set_state(EditProfile.specialties)
        await message.answer(t("volunteer.specialties_ask"))
    elif field == "max":
        await message.answer(
            t("volunteer.max_tasks_ask"),
            reply_markup=kb.rows(
                [kb.button(n, MeCb(field=f"max{n}").pack()) for n in MAX_TASK_CHOICES]
            ),
        )
    elif field.startswith("max") and field[3:] in MAX_TASK_CHOICES:
        await registration.update_volunteer(session, actor.user_id, max_active_tasks=int(field[3:]))
        await message.answer(t("me.saved"))


async def grid_picked(
    query: CallbackQuery,
    callback_data: GridCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
) -> None:
    grid = await forms.picked_grid(query, callback_data, session, t)
    if grid is None or query.message is None:
        return
    await registration.update_resident(session, actor.user_id, grid_id=grid.id)
    await state.clear()
    await query.message.answer(t("me.saved"))


async def text_edited(
    message: Message, state: FSMContext, actor: Actor, t: Translator, session: AsyncSession
) -> None:
    current = await state.get_state()
    max_len = 32 if current == EditProfile.building.state else registration.SPECIALTIES_MAX
    value = await forms.typed_text(message, t, max_len)
    if value is None:
        return
    if current == EditProfile.building.state:
        await registration.update_resident(session, actor.user_id, building=value)
    else:
        await registration.update_volunteer(session, actor.user_id, specialties=value)
    await state.clear()
    await message.answer(t("me.saved"))


async def toggled(
    query: CallbackQuery,
    callback_data: ToggleCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    selected = await toggle_step(query, callback_data, state, t, app)
    if selected is None:
        return
    column = "skills" if callback_data.field == "skills" else "availability"
    await registration.update_volunteer(session, actor.user_id, **{column: selected})
    await state.clear()
    await query.answer(t("me.saved"))
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await query.message.answer(t("me.saved"))
